"""What the registry's pages compute once for all their requests: the worklist, every
patient assessed and planned, and the survival reports, as of a day, kept on the
application (``app.state.registry_cache``) until the next write to the registry (the
key holds :meth:`~pecoma.store.Repository.last_change`) or a change of settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Request

from pecoma.registry.worklist import WorkItem, evaluate, stored_worklist
from pecoma.web.registry_common import _registry, _settings


def _cache(request: Request) -> dict[Any, Any]:
    cache: dict[Any, Any] | None = getattr(request.app.state, "registry_cache", None)
    if cache is None:
        cache = {}
        request.app.state.registry_cache = cache
    return cache


def _items(request: Request, day: dt.date) -> list[WorkItem]:
    """The worklist as of ``day`` (the stored states: :func:`stored_worklist`), in
    priority order; cached until the next write."""
    repo = _registry(request)
    settings = _settings(request)
    key = (day, settings.digest(), repo.last_change())
    cache = _cache(request)
    hit = cache.get("worklist")
    if hit is not None and hit[0] == key:
        items: list[WorkItem] = hit[1]
        return items
    items = stored_worklist(repo, day, settings)
    cache["worklist"] = (key, items)
    return items


def _worklist(request: Request, day: dt.date) -> tuple[list[Any], list[WorkItem]]:
    """Every patient assessed and planned as of ``day`` (for the summary and the list of
    patients), with the worklist; cached until the next write."""
    repo = _registry(request)
    settings = _settings(request)
    key = (day, settings.digest(), repo.last_change())
    cache = _cache(request)
    hit = cache.get("evaluated")
    if hit is None or hit[0] != key:
        hit = (key, evaluate(repo.states(as_of=day), day, settings))
        cache["evaluated"] = hit
    evaluated: list[Any] = hit[1]
    return evaluated, _items(request, day)


def _survival(request: Request, endpoint: Any, by: Any, day: dt.date) -> Any:
    """The survival report, cached with the worklist until the next write."""
    from pecoma.registry.survival import survival_report

    repo = _registry(request)
    min_cell: int = request.app.state.config.min_cell
    key = ("survival", endpoint, by, day, min_cell, repo.last_change())
    cache: dict[Any, Any] = getattr(request.app.state, "registry_cache", None) or {}
    request.app.state.registry_cache = cache
    if key not in cache:
        for old in [k for k in cache if isinstance(k, tuple) and k[0] == "survival"]:
            if old[-1] != key[-1]:
                del cache[old]
        cache[key] = survival_report(repo, endpoint, by, day, min_cell,
                                     _settings(request))
    return cache[key]
