"""The examples in the docstrings are run, and every public function and class has one."""

from __future__ import annotations

import doctest
import importlib
import inspect

import pytest

import rec_fast as rf

MODULES = ["rec_fast", "rec_fast._api", "rec_fast.blocks", "rec_fast.streaming", "rec_fast.workloads",
           "rec_fast.compare", "rec_fast.cli", "rec_fast.channel", "rec_fast.plot", "rec_fast.dask"]
OPTIONAL = {"rec_fast.plot": "matplotlib", "rec_fast.dask": "dask"}


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    if name in OPTIONAL:
        pytest.importorskip(OPTIONAL[name])
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples of {name} failed"


def test_every_public_function_and_class_has_an_example():
    missing = []
    for name in rf.__all__:
        value = getattr(rf, name)
        if isinstance(value, type) and (issubclass(value, (BaseException, tuple, dict))):
            continue  # exceptions are described where they are raised; records by their fields
        if callable(value) and ">>>" not in (inspect.getdoc(value) or ""):
            missing.append(name)
    assert not missing, f"public callables without an example in their docstring: {missing}"


def test_a_wrong_example_fails():
    """The check can fail: a docstring whose example is wrong is reported."""
    def wrong():
        """>>> 1 + 1
        3
        """

    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(verbose=False)
    for test in finder.find(wrong, "wrong", globs={}):
        runner.run(test, out=lambda text: None)
    assert runner.failures == 1
