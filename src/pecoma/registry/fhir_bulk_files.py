"""The files of the FHIR Bulk Data export: one ``<Type>.ndjson`` per resource type,
written a few thousand lines at a time, and the manifest (the ``$export`` completion
body); written aside and moved into the export folder only when all are complete, so a
failed export leaves no partial file."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import BinaryIO

from pecoma.registry.fhir_bulk_resources import _to_months

__all__ = ["write_bulk"]


class _TypeFiles:
    """``<Type><suffix>`` per resource type in ``work``, written a few thousand lines at
    a time (with ``month_precision`` the dates of each batch reduced to their month)."""

    def __init__(self, work: Path, suffix: str, month_precision: bool) -> None:
        self.work = work
        self.suffix = suffix
        self.months = month_precision
        self.files: dict[str, BinaryIO] = {}
        self.pending: dict[str, list[bytes]] = {}
        self.counts: dict[str, int] = {}
        self.waiting = 0  # lines waiting, all types (add_patient)

    def add(self, kind: str, line: bytes) -> None:
        waiting = self.pending.get(kind)
        if waiting is None:
            waiting = self._open(kind)
        waiting.append(line)
        if len(waiting) >= 2000:
            self.flush(kind)

    def add_patient(self, lines: list[tuple[str, bytes]]) -> None:
        """A patient's lines; every type's file is written when 4,000 or more lines
        wait (more lines held at once cost memory and save no time)."""
        pending = self.pending
        for kind, line in lines:
            waiting = pending.get(kind)
            if waiting is None:
                waiting = self._open(kind)
            waiting.append(line)
        self.waiting += len(lines)
        if self.waiting >= 4000:
            for kind, waiting in pending.items():
                if waiting:
                    self.flush(kind)
            self.waiting = 0

    def _open(self, kind: str) -> list[bytes]:
        self.files[kind] = (self.work / f"{kind}{self.suffix}").open("wb")
        self.counts[kind] = 0
        waiting: list[bytes] = []
        self.pending[kind] = waiting
        return waiting

    def flush(self, kind: str) -> None:
        waiting = self.pending[kind]
        chunk = b"\n".join(waiting) + b"\n"
        self.files[kind].write(_to_months(chunk) if self.months else chunk)
        self.counts[kind] += len(waiting)
        waiting.clear()

    def close(self) -> None:
        """Write what waits and close every file (a failed export closes them too)."""
        try:
            for kind, waiting in self.pending.items():
                if waiting:
                    self.flush(kind)
        finally:
            for f in self.files.values():
                f.close()


def _finish(work: Path, folder: Path, counts: Mapping[str, int],
            transaction_time: dt.datetime) -> dict[str, int]:
    """The manifest (the ``$export`` completion body, with relative file names) next to
    the complete ``<Type>.ndjson`` files in ``work``, then all moved into ``folder``."""
    output = [{"type": kind, "url": f"{kind}.ndjson", "count": counts[kind]}
              for kind in sorted(counts)]
    (work / "manifest.json").write_text(json.dumps({
        "transactionTime": transaction_time.isoformat(timespec="seconds"),
        "request": "pecoma registry export-fhir",
        "requiresAccessToken": False,
        "output": output,
        "error": [],
    }, indent=2) + "\n", encoding="utf-8")
    for kind in sorted(counts):
        (work / f"{kind}.ndjson").replace(folder / f"{kind}.ndjson")
    (work / "manifest.json").replace(folder / "manifest.json")
    return {k: counts[k] for k in sorted(counts)}


def write_bulk(lines: Iterable[tuple[str, bytes]], folder: Path,
               transaction_time: dt.datetime) -> dict[str, int]:
    """``<Type>.ndjson`` per resource type and ``manifest.json`` (the ``$export``
    completion body, with relative file names), written as the lines come; returns the
    resources per type. The files are written aside and moved into ``folder`` only when
    all are complete: a failed export leaves no partial file."""
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=folder))
    try:
        files = _TypeFiles(work, ".ndjson", month_precision=False)
        try:
            for kind, line in lines:
                files.add(kind, line)
        finally:
            files.close()
        return _finish(work, folder, files.counts, transaction_time)
    finally:
        shutil.rmtree(work, ignore_errors=True)
