"""The examples of the documentation run: every ```python block of README.md and docs/*.md.

Each file's blocks run in order in one namespace (a later block may use an earlier block's
names), in a fresh temporary working directory, against the installed package. A block right
after an ``<!-- not-tested -->`` comment is not run (cluster addresses, 10⁹-element inputs,
signature summaries). A block that imports an optional dependency that is not installed
(dask, distributed, matplotlib, tqdm) is skipped together with the rest of its file; any other
failure — an exception, a failed assert — fails the test and names the file and line.
"""

from __future__ import annotations

import ast
import importlib
import os
import re
import traceback
from pathlib import Path
from typing import List, NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
MARKER = "<!-- not-tested -->"
OPTIONAL = ("dask", "distributed", "matplotlib", "tqdm")
FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w+-]*)")


class Block(NamedTuple):
    path: str
    line: int  # 1-based line of the block's first code line in the markdown file
    code: str
    tested: bool


def extract_blocks(text: str, path: str = "<markdown>") -> List[Block]:
    """Every fenced ```python block of a markdown text, with its line and whether it is tested."""
    blocks = []
    lines = text.splitlines()
    i = 0
    previous = ""  # the last non-blank line before the current one
    while i < len(lines):
        match = FENCE.match(lines[i].strip())
        if not match:
            if lines[i].strip():
                previous = lines[i].strip()
            i += 1
            continue
        fence, language = match.group(1), match.group(2).lower()
        start = i + 1
        i = start
        while i < len(lines) and not lines[i].strip().startswith(fence):
            i += 1
        if language in ("python", "py"):
            blocks.append(Block(path, start + 1, "\n".join(lines[start:i]) + "\n", previous != MARKER))
        previous = lines[i].strip() if i < len(lines) else ""
        i += 1
    return blocks


def missing_optional(code: str) -> List[str]:
    """The optional top-level packages a block imports that cannot be imported here."""
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    missing = []
    for name in sorted(names & set(OPTIONAL)):
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def run_blocks(blocks: List[Block], workdir: Path) -> int:
    """Run the tested blocks in order in one namespace inside ``workdir``; returns how many ran.

    Raises AssertionError naming the file and line of the first block that fails, and calls
    ``pytest.skip`` at the first block that needs a missing optional dependency."""
    namespace: dict = {"__name__": "__docs_example__"}
    ran = 0
    old = os.getcwd()
    os.chdir(workdir)
    try:
        for block in blocks:
            if not block.tested:
                continue
            missing = missing_optional(block.code)
            if missing:
                pytest.skip(f"{block.path}:{block.line} needs {', '.join(missing)} (not installed); "
                            f"{ran} earlier block(s) ran")
            # Pad with newlines so that tracebacks give the line numbers of the markdown file.
            code = compile("\n" * (block.line - 1) + block.code, block.path, "exec")
            try:
                exec(code, namespace)
            except Exception as error:  # noqa: BLE001 - any failure of an example fails the test
                raise AssertionError(f"example at {block.path}:{block.line} failed: "
                                     f"{type(error).__name__}: {error}\n{traceback.format_exc()}") from error
            ran += 1
    finally:
        os.chdir(old)
        try:
            import matplotlib.pyplot as plt
        except ImportError:
            pass
        else:
            plt.close("all")
    return ran


DOC_FILES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda path: str(path.relative_to(ROOT)))
def test_examples_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")
    blocks = extract_blocks(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    if not any(block.tested for block in blocks):
        pytest.skip(f"{path.name} has no tested python example")
    run_blocks(blocks, tmp_path)


def test_readme_has_a_tested_example() -> None:
    blocks = extract_blocks((ROOT / "README.md").read_text(encoding="utf-8"), "README.md")
    assert any(block.tested for block in blocks)


def test_extraction_and_marker() -> None:
    text = "\n".join([
        "# Title", "", "```python", "x = 1", "```", "", MARKER, "```python", "raise SystemExit", "```",
        "", "```bash", "echo no", "```", "text", "```py", "y = x + 1", "```",
    ])
    blocks = extract_blocks(text, "t.md")
    assert [(block.line, block.code, block.tested) for block in blocks] == [
        (4, "x = 1\n", True), (9, "raise SystemExit\n", False), (17, "y = x + 1\n", True)]


def test_a_broken_example_fails(tmp_path: Path) -> None:
    text = "```python\nimport rec_fast as rf\nP = rf.Normal(0.0, 1.0)\n```\n\n```python\nassert P.scale == 2.0\n```\n"
    with pytest.raises(AssertionError, match=r"t\.md:7"):
        run_blocks(extract_blocks(text, "t.md"), tmp_path)
    bad_call = "```python\nimport rec_fast as rf\nrf.encode(rf.Normal(0.0, 2.0), rf.Normal(0.0, 1.0))\n```\n"
    with pytest.raises(AssertionError, match="RecError"):
        run_blocks(extract_blocks(bad_call, "u.md"), tmp_path)


def test_blocks_share_a_namespace_in_order(tmp_path: Path) -> None:
    text = "```python\nvalue = 20\n```\n\n```python\nvalue += 22\nassert value == 42\n```\n"
    assert run_blocks(extract_blocks(text, "t.md"), tmp_path) == 2
