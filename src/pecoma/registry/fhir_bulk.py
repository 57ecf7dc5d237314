"""Export as FHIR Bulk Data: the ``$export`` layout, one NDJSON file per resource type and
a manifest (:func:`bulk_export`).

A large registry is written by two processes over registry-id ranges, joined in order
into the very files one process writes. Each patient's resources, with their mCODE
profiles, are built in :mod:`pecoma.registry.fhir_bulk_resources`; the files and the
manifest are written in :mod:`pecoma.registry.fhir_bulk_files`.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from pecoma.registry.fhir_bulk_files import _finish, _TypeFiles
from pecoma.registry.fhir_bulk_resources import _UNREADABLE, _lines

if TYPE_CHECKING:
    from pecoma.store.repository import Repository

__all__ = ["bulk_export"]


_Range = tuple[str | None, str | None]  # registry ids: after (exclusive), upto (inclusive)


def _write_range(repo: Repository, span: _Range, on_date: dt.date, secret: bytes | None,
                 month_precision: bool, work: Path, part: int
                 ) -> tuple[dict[str, int], dict[str, int]]:
    """The patients of one registry-id range into ``<Type>.<part>`` files in ``work``;
    returns resources per type and patients left out by reason."""
    after, upto = span
    outcomes = repo.outcomes_by_registry_id(after=after, upto=upto)
    scans = repo.disease_scans(on_date, after=after, upto=upto)
    left_out: dict[str, int] = {}
    files = _TypeFiles(work, f".{part}", month_precision)
    try:
        for rid, data, _histology in repo.iter_latest_cases(after=after, upto=upto):
            lines = _lines(rid, data, outcomes.get(rid, ()), on_date, secret,
                           scans.get(rid, ()))
            if lines is None:
                left_out[_UNREADABLE] = left_out.get(_UNREADABLE, 0) + 1
                continue
            files.add_patient(lines)
    finally:
        files.close()
    return files.counts, left_out


def _write_range_apart(url: str, span: _Range, on_date: dt.date, secret: bytes | None,
                       month_precision: bool, work: str, part: int
                       ) -> tuple[dict[str, int], dict[str, int]]:
    """:func:`_write_range` in a worker process, on its own connection."""
    from pecoma.store import open_registry

    repo = open_registry(url, migrate=False)
    try:
        return _write_range(repo, span, on_date, secret, month_precision, Path(work), part)
    finally:
        repo.close()


# below this many patients per worker, starting a process costs more than it saves
_MIN_PER_WORKER = 10_000


def _workers(repo: Repository, wanted: int | None) -> int:
    """The worker processes for an export: ``wanted``, else up to 2 on a machine with
    several cores; one for a registry in memory (another process cannot open it) and in
    a daemon process (which may start none)."""
    import multiprocessing as mp

    url = repo.engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return 1
    if mp.current_process().daemon:
        return 1
    if wanted is not None:
        return max(1, wanted)
    return max(1, min(2, os.cpu_count() or 1))


def bulk_export(
    repo: Repository,
    folder: Path,
    on_date: dt.date,
    *,
    secret: bytes | None = None,
    month_precision: bool = False,
    now: dt.datetime | None = None,
    workers: int | None = None,
) -> tuple[dict[str, int], dict[str, int]]:
    """Read the registry and write the export, streaming; returns resources per type and
    the patients left out by reason.

    The registry is cut into registry-id ranges (:meth:`Repository.registry_id_cuts`),
    one per worker (``workers``; by default up to 2 when each gets at least 10,000
    patients): this process writes the first range, worker processes (each on its own
    connection, sharing nothing) the others, each into its own part files, one patient
    in memory at a time; the parts are then joined in range order. Every patient's
    resources depend on that patient alone, so the files are byte for byte those of a
    single process."""
    folder.mkdir(parents=True, exist_ok=True)
    n = _workers(repo, workers)
    cuts = repo.registry_id_cuts(n, min_part=1 if workers else _MIN_PER_WORKER) if n > 1 else []
    spans: list[_Range] = list(zip([None, *cuts], [*cuts, None], strict=True))
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=folder))
    try:
        results = _run_ranges(repo, spans, on_date, secret, month_precision, work)
        counts: dict[str, int] = {}
        left_out: dict[str, int] = {}
        for part_counts, part_left_out in results:
            for kind, k in part_counts.items():
                counts[kind] = counts.get(kind, 0) + k
            for reason, k in part_left_out.items():
                left_out[reason] = left_out.get(reason, 0) + k
        for kind in counts:
            _join_parts(work, kind, len(spans))
        return _finish(work, folder, counts, now or dt.datetime.now(dt.UTC)), left_out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run_ranges(repo: Repository, spans: list[_Range], on_date: dt.date,
                secret: bytes | None, month_precision: bool, work: Path
                ) -> list[tuple[dict[str, int], dict[str, int]]]:
    """The first range here, the others in fresh worker processes (spawned: nothing
    inherited but the arguments); the results in range order."""
    if len(spans) == 1:
        return [_write_range(repo, spans[0], on_date, secret, month_precision, work, 0)]
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    url = repo.engine.url.render_as_string(hide_password=False)
    with ProcessPoolExecutor(len(spans) - 1, mp_context=mp.get_context("spawn")) as pool:
        rest = [pool.submit(_write_range_apart, url, span, on_date, secret, month_precision,
                            str(work), part)
                for part, span in enumerate(spans[1:], start=1)]
        try:
            first = _write_range(repo, spans[0], on_date, secret, month_precision, work, 0)
            return [first, *(f.result() for f in rest)]
        except BaseException:
            for f in rest:
                f.cancel()
            raise


def _join_parts(work: Path, kind: str, parts: int) -> None:
    """``<Type>.0``, ``<Type>.1``, … (those that exist) joined in order into
    ``<Type>.ndjson``."""
    target = work / f"{kind}.ndjson"
    first = work / f"{kind}.0"
    if first.exists():
        first.replace(target)  # the first part is not copied
    else:
        target.touch()
    with target.open("r+b") as out:  # not "ab": copy_file_range refuses O_APPEND
        out.seek(0, os.SEEK_END)
        for part in range(1, parts):
            path = work / f"{kind}.{part}"
            if path.exists():
                with path.open("rb") as src:
                    _append(src, out)
                path.unlink()


def _append(src: BinaryIO, out: BinaryIO) -> None:
    """``src`` appended to ``out``: copied by the kernel where it can
    (``copy_file_range``, Linux), else read and written."""
    size = os.fstat(src.fileno()).st_size
    if hasattr(os, "copy_file_range"):
        out.flush()
        done = 0
        try:
            while done < size:
                n = os.copy_file_range(src.fileno(), out.fileno(), size - done)
                if n == 0:
                    break
                done += n
        except OSError:  # not between these two files: read and write the rest
            pass
        if done == size:
            return
        src.seek(done)
        out.seek(0, os.SEEK_END)
    shutil.copyfileobj(src, out, 1 << 20)
