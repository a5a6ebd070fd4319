#!/usr/bin/env bash
# The whole test suite: builds and installs the package, then runs the Rust tests
# (unit, integration, and a smoke run of the criterion benches) and the Python tests.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check \
    "numpy>=1.21" "scipy>=1.9" "pytest>=7" "hypothesis>=6" "mpmath>=1.3" "scikit-learn>=1.0" \
    "dask[array]>=2023.1" "distributed>=2023.1" "matplotlib>=3.5"
python3 -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps .

cargo test --release --all-targets
cargo test --release --doc
# pytest runs against the installed wheel (python/ is not on sys.path from tests/).
python3 -m pytest -q tests
