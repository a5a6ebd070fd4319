"""Progress reporting for long batches: a tqdm bar, or a caller's function.

The Rust core counts finished elements (or blocks) and the thread waiting for it calls back
about every 50 ms (only for batches of 4,096 or more, which are the ones that can take a
while); nothing is counted or called when progress is off.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator, Optional, Union

#: ``progress=`` of the encoders: False (off), True (a tqdm bar shown once the batch has run
#: for a second) or a function ``f(completed, total)``.
Progress = Union[bool, Callable[[int, int], object], None]

#: Seconds a batch runs before its bar appears (shorter batches print nothing).
BAR_DELAY = 1.0


def check_progress(progress: object) -> Progress:
    """``progress`` if it is a bool, None or a callable; TypeError otherwise."""
    if progress is None or isinstance(progress, bool) or callable(progress):
        return progress  # type: ignore[return-value]
    raise TypeError(f"progress must be a bool or a function f(completed, total), got {type(progress).__name__}")


@contextlib.contextmanager
def reporter(progress: Progress, total: int, unit: str) -> Iterator[Optional[Callable[[int], None]]]:
    """A function ``report(completed)`` for the core to call, or None when progress is off.

    With ``progress=True`` a tqdm bar of ``total`` ``unit``\\ s is shown on stderr once the work
    has run for :data:`BAR_DELAY` seconds, completed when the block exits normally and closed
    either way. tqdm is the optional extra ``rec_fast[progress]``.
    """
    if progress is None or progress is False:
        yield None
        return
    if progress is True:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            raise ImportError("progress=True draws a tqdm bar; install it with `pip install rec_fast[progress]` "
                              "(or `pip install tqdm`)") from None
        bar = tqdm(total=total, unit=unit, unit_scale=True, delay=BAR_DELAY, dynamic_ncols=True)

        def advance(completed: int) -> None:
            bar.update(min(completed, total) - bar.n)

        try:
            yield advance
            advance(total)
        finally:
            bar.close()
        return
    callback = progress

    def report(completed: int) -> None:
        callback(min(completed, total), total)

    yield report
    report(total)
