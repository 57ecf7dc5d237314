"""Engine work of many patients shared by worker processes, results in order.

The engine is pure and each patient is assessed on its own, so the work of a large import
or re-assessment can be cut into tasks (a few hundred patients each) and run in worker
processes; the results come back in the order of the tasks, so what is stored is the
same as in one process. Only a few tasks are in flight at once, so memory stays that of
a few tasks.

Workers are started with ``spawn`` by default: they share nothing with the caller (no
open database connection, no state), and the calling program's main module must be
import-safe (``if __name__ == "__main__":``). ``start="fork"`` copies the calling
process instead: the workers start at once and share its memory pages until they write
to them, so a command can use them within its memory goal (an import of 100,000 rows:
289 MB resident for the command and its 2 workers, against 396 MB with spawned ones;
bench/RESULTS.md). Fork only from a program that runs no other thread (the
command line); the workers never touch what they inherit beyond the task function (a
database connection of the caller is left alone: a worker ends without closing it).
"""

from __future__ import annotations

import contextlib
import gc
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal, TypeVar

__all__ = ["WORKERS", "Runner", "runner"]

WORKERS = 2
"""Worker processes the command line uses for the engine work of an import or a
re-assessment."""

T = TypeVar("T")
R = TypeVar("R")

Runner = Callable[[Iterable[Any]], Iterator[Any]]


class _Done:
    """The result of a task done in this process, kept in its turn among the others."""

    __slots__ = ("result",)

    def __init__(self, result: Any) -> None:
        self.result = result

    def get(self) -> Any:
        return self.result


@contextlib.contextmanager
def runner(fn: Callable[[T], R], workers: int, start: Literal["spawn", "fork"] = "spawn",
           here: Callable[[T], bool] | None = None,
           ) -> Iterator[Callable[[Iterable[T]], Iterator[R]]]:
    """A function mapping tasks to ``fn(task)`` in task order: in this process when
    ``workers`` is 1 or less, else in that many worker processes started with ``start``
    (closed on exit), except the tasks for which ``here(task)`` is true (too little work
    to be worth sending), done in this process in their turn."""
    if workers <= 1:
        yield lambda tasks: map(fn, tasks)
        return
    import multiprocessing

    # Forked workers: the objects alive now are left out of their garbage collections,
    # which would otherwise write to (and so copy) every page those objects are on.
    gc.freeze()
    try:
        pool = multiprocessing.get_context(start).Pool(workers)
    finally:
        gc.unfreeze()
    with pool:

        def run(tasks: Iterable[T]) -> Iterator[R]:
            pending: deque[Any] = deque()
            for task in tasks:
                if here is not None and here(task):
                    pending.append(_Done(fn(task)))
                else:
                    pending.append(pool.apply_async(fn, (task,)))
                if len(pending) > 2 * workers:
                    yield pending.popleft().get()
            while pending:
                yield pending.popleft().get()

        yield run
