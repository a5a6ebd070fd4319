#!/usr/bin/env bash
# The whole test suite: builds and installs the package, then runs the Rust tests
# (unit, integration, and a smoke run of the criterion benches), the Python tests (with the
# examples of the docs) and builds the documentation site.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check \
    "numpy>=1.21" "scipy>=1.9" "pytest>=7" "hypothesis>=6" "mpmath>=1.3" "scikit-learn>=1.0" \
    "dask[array]>=2023.1" "distributed>=2023.1" "mkdocs>=1.5" "mkdocstrings[python]>=0.24" \
    "tqdm>=4.64" "matplotlib>=3.5" "mypy>=1.8"
python3 -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps .

cargo test --release --all-targets
cargo test --release --doc
# pytest runs against the installed wheel (python/ is not on sys.path from tests/);
# tests/test_docs.py runs every Python example of README.md and docs/; tests/test_conventions.py
# checks _core.pyi against the extension (mypy.stubtest) and examples/ under mypy --strict.
python3 -m pytest -q tests
# The documentation site, with broken links, anchors and docstrings as errors.
site_dir="$(mktemp -d)"
python3 -m mkdocs build --strict --quiet --site-dir "$site_dir"
rm -rf "$site_dir"
