"""Rule groups whose results are kept and reused.

A rule group is a pure function of the knowledge base and the few facts it reads, passed
to it as hashable arguments (enum members, booleans, short texts, tuples of those): it
never sees the case, the clock or any other state. Its result (an immutable
:class:`~pecoma.engine.collect.Effects`, or a tuple of immutable values) therefore depends
on those arguments alone, and can be kept and reused for the next case that has the same
facts. That is what makes the engine fast on a batch: most cases share most of their
decisions with an earlier case.

The kept results are bounded (least recently used first out), so memory stays flat however
many distinct cases pass; :func:`clear` empties them all, and :func:`stats` tells how often
they were reused. Clearing never changes an assessment, only how long it takes: the tests
assess the same cases with and without kept results and require identical output.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple, ParamSpec, TypeVar, cast

__all__ = ["GroupStats", "clear", "groups", "rule_group", "stats"]

P = ParamSpec("P")
R = TypeVar("R")

_GROUPS: dict[str, Any] = {}


class GroupStats(NamedTuple):
    hits: int
    misses: int
    size: int
    maxsize: int


def rule_group(maxsize: int) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Keep up to ``maxsize`` results of a pure rule group, keyed by its arguments."""

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        cached = lru_cache(maxsize=maxsize)(fn)
        _GROUPS[f"{fn.__module__}.{fn.__qualname__}"] = cached
        return cast(Callable[P, R], cached)

    return wrap


def clear() -> None:
    """Forget every kept result (assessments stay the same; they take longer at first)."""
    for cached in _GROUPS.values():
        cached.cache_clear()


def stats() -> dict[str, GroupStats]:
    """How often each rule group's kept results were reused, by group name."""
    out = {}
    for name, cached in _GROUPS.items():
        info = cached.cache_info()
        out[name] = GroupStats(info.hits, info.misses, info.currsize, info.maxsize)
    return out


def groups() -> dict[str, Callable[..., Any]]:
    """Each rule group's own function (without its kept results), by group name."""
    return {name: cached.__wrapped__ for name, cached in _GROUPS.items()}
