"""Engine work of many patients shared by worker processes, results in order.

The engine is pure and each patient is assessed on its own, so the work of a large import
or re-assessment can be cut into tasks (a few hundred patients each) and run in worker
processes; the results come back in the order of the tasks, so what is stored is the
same as in one process. Workers are started with ``spawn``: they share nothing with the
caller (no open database connection, no state), and the calling program's main module
must be import-safe (``if __name__ == "__main__":``). Only a few tasks are in flight at
once, so memory stays that of a few tasks.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["WORKERS", "Runner", "runner"]

START = "spawn"

WORKERS = 2
"""Worker processes the command line uses for the engine work of a re-assessment (the
import runs in one process: its memory goal, bench/RESULTS.md)."""

T = TypeVar("T")
R = TypeVar("R")

Runner = Callable[[Iterable[Any]], Iterator[Any]]


@contextlib.contextmanager
def runner(fn: Callable[[T], R], workers: int) -> Iterator[Callable[[Iterable[T]], Iterator[R]]]:
    """A function mapping tasks to ``fn(task)`` in task order: in this process when
    ``workers`` is 1 or less, else in that many worker processes (closed on exit)."""
    if workers <= 1:
        yield lambda tasks: map(fn, tasks)
        return
    import multiprocessing

    with multiprocessing.get_context(START).Pool(workers) as pool:

        def run(tasks: Iterable[T]) -> Iterator[R]:
            pending: deque[Any] = deque()
            for task in tasks:
                pending.append(pool.apply_async(fn, (task,)))
                if len(pending) > 2 * workers:
                    yield pending.popleft().get()
            while pending:
                yield pending.popleft().get()

        yield run
