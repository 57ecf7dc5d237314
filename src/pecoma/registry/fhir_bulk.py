"""Export as FHIR Bulk Data: the ``$export`` layout, one NDJSON file per resource type and
a manifest, with the mCODE profiles each resource conforms to declared in
``meta.profile``.

Each patient's latest case goes through the same writer as ``pecoma fhir from-case``
(:func:`pecoma.fhir.writer.resources_from_case`), without the case's free label; resource
ids are prefixed with the patient's id so that they are unique in the export. The
recorded outcomes add a CancerDiseaseStatus observation each (recurrence, metastasis or
progression: worsened; a last contact alive without disease: in full remission; alive
with disease: undetermined) and the death sets ``Patient.deceasedDateTime``. With a
network secret the patient id is the keyed hash of the registry id (see
:func:`pecoma.registry.omop.pseudonym`); with ``month`` precision every date is reduced
to its month (``2025-01``, a valid FHIR date).

A large registry is written by two processes over registry-id ranges, joined in order
into the very files one process writes (see :func:`bulk_export`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from orjson import Fragment, dumps

from pecoma.case import parse_case
from pecoma.errors import InputError
from pecoma.fhir.writer import resources_from_case
from pecoma.registry.omop import pseudonym

if TYPE_CHECKING:
    from pecoma.store.repository import OutcomeView, Repository

__all__ = ["MCODE", "build_bulk", "bulk_export", "bulk_lines", "write_bulk"]

_MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
MCODE: dict[str, str] = {
    "Patient": _MCODE + "mcode-cancer-patient",
    "primary": _MCODE + "mcode-primary-cancer-condition",
    "secondary": _MCODE + "mcode-secondary-cancer-condition",
    "tumour-size": _MCODE + "mcode-tumor-size",
    "disease-status": _MCODE + "mcode-cancer-disease-status",
    "surgery": _MCODE + "mcode-cancer-related-surgical-procedure",
    # mCODE 1.0 profiled medication statements (later versions profile requests and
    # administrations, which the registry does not record)
    "medication": _MCODE + "mcode-cancer-related-medication-statement|1.0.0",
}
# each profile's ``meta`` serialised once, spliced into every resource (orjson.Fragment)
_META = {p: Fragment(dumps({"profile": [p]})) for p in MCODE.values()}
_LOINC_DISEASE_STATUS = ("97509-4", "Cancer disease progression")
_STATUS = {
    "worsened": ("271299001", "Patient's condition worsened"),
    "remission": ("550991000124107", "Malignant neoplasm in full remission"),
    "undetermined": ("709137006", "Patient condition undetermined"),
}


def _status_parts() -> tuple[bytes, bytes, bytes, bytes, bytes, dict[str, bytes]]:
    """A CancerDiseaseStatus observation serialised with marks where its variable parts
    go (patient id, number, date, status), cut into the constant pieces between them;
    the last piece of each status carries its coding. Built from the very dict a
    resource is serialised from, so the spliced lines are those ``dumps`` gives."""
    marks = {s: f"\x00{s}\x00" for s in ("pid", "k", "date", "status")}
    text = dumps({
        "resourceType": "Observation", "id": f"{marks['pid']}-status-{marks['k']}",
        "meta": {"profile": [MCODE["disease-status"]]},
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org",
                             "code": _LOINC_DISEASE_STATUS[0],
                             "display": _LOINC_DISEASE_STATUS[1]}]},
        "subject": {"reference": f"Patient/{marks['pid']}"},
        "focus": [{"reference": f"Condition/{marks['pid']}-pecoma-diagnosis"}],
        "effectiveDateTime": marks["date"],
        "valueCodeableConcept": marks["status"],
    }).decode()
    # orjson writes U+0000 as \u0000: the marks as they appear in the text
    cut = {s: m.replace("\x00", "\\u0000") for s, m in marks.items()}
    head, rest = text.split(cut["pid"], 1)
    mid1, rest = rest.split(cut["k"], 1)
    mid2, rest = rest.split(cut["pid"], 1)
    mid3, rest = rest.split(cut["pid"], 1)
    mid4, rest = rest.split(cut["date"], 1)
    before, after = rest.split(f'"{cut["status"]}"', 1)
    tails = {
        status: (before + dumps({"coding": [{"system": "http://snomed.info/sct",
                                             "code": code, "display": display}]}
                                ).decode() + after).encode()
        for status, (code, display) in _STATUS.items()
    }
    return head.encode(), mid1.encode(), mid2.encode(), mid3.encode(), mid4.encode(), tails


_S_HEAD, _S_K, _S_SUBJECT, _S_FOCUS, _S_DATE, _S_TAIL = _status_parts()


# the day of a full date as a JSON string "YYYY-MM-DD" (the writer and the outcomes give
# dates so): "-DD" before a quote, found first (a '-' is rarer than a quote), then the rest
# checked behind it; replaced by nothing, which Python's re does without calling back.
# In JSON a quote after a digit closes a string and is never followed by a digit, so two
# such dates never overlap.
_DAY = re.compile(rb'-\d\d(?=")(?<="\d{4}-\d\d-\d\d)')


def _profile(resource: dict[str, Any], local_id: str) -> str | None:
    kind = resource["resourceType"]
    if kind == "Patient":
        return MCODE["Patient"]
    if kind == "Condition":
        return MCODE["secondary" if local_id.startswith("metastasis") else "primary"]
    if kind == "Observation" and local_id == "tumour-size":
        return MCODE["tumour-size"]
    if kind == "Procedure":
        return MCODE["surgery"]
    if kind == "MedicationStatement":
        return MCODE["medication"]
    return None


def _status(o: OutcomeView) -> str | None:
    if o.event in ("local_recurrence", "distant_metastasis", "progression"):
        return "worsened"
    if o.event == "last_contact":
        return {"alive_without_disease": "remission",
                "alive_with_disease": "undetermined"}.get(o.vital_status or "")
    return None


_FHIR_ID = re.compile(r"[A-Za-z0-9.-]{1,64}")


def fhir_id(registry_id: str) -> str:
    """The FHIR id of a patient in the plain export: the registry id itself when FHIR
    allows it (letters, digits, '-', '.'); otherwise (a registry id may hold '_') the id
    with each other character as '-', followed by 8 hex digits of its SHA-256, so that
    two registry ids never share a FHIR id."""
    if _FHIR_ID.fullmatch(registry_id):
        return registry_id
    digest = hashlib.sha256(registry_id.encode()).hexdigest()[:8]
    return f"{re.sub(r'[^A-Za-z0-9.-]', '-', registry_id)}-{digest}"


def _lines(
    rid: str,
    data: dict[str, Any],
    outcomes: Sequence[OutcomeView],
    on_date: dt.date,
    secret: bytes | None,
) -> list[tuple[str, bytes]] | None:
    """The FHIR resources of one patient as (resource type, NDJSON line), built from
    that patient's data alone, or ``None`` when the stored case no longer reads under
    the case model."""
    try:
        case = parse_case(data, source="stored case").model_copy(update={"label": None})
    except InputError:
        return None
    pid = pseudonym(rid, secret) if secret is not None else fhir_id(rid)
    events = [o for o in outcomes if o.event_date <= on_date]
    death = next((o for o in events if o.event == "death"), None)
    lines: list[tuple[str, bytes]] = []
    for res in resources_from_case(case, pid):  # the resources are ours alone: changed
        kind = res["resourceType"]
        local = res["id"]
        if kind != "Patient":
            res["id"] = f"{pid}-{local}"
        profile = _profile(res, local)
        if profile is not None:
            res["meta"] = _META[profile]
        if kind == "Patient" and death is not None:
            res["deceasedDateTime"] = death.event_date.isoformat()
        lines.append((kind, dumps(res)))
    p = dumps(pid)[1:-1]  # the id as in a JSON string
    for k, o in enumerate(events, start=1):
        status = _status(o)
        if status is None:
            continue
        lines.append(("Observation", b"".join((
            _S_HEAD, p, _S_K, str(k).encode(), _S_SUBJECT, p, _S_FOCUS, p, _S_DATE,
            o.event_date.isoformat().encode(), _S_TAIL[status]))))
    # the writer's only references are to the patient: nothing to rewrite
    return lines


def _to_months(ndjson: bytes) -> bytes:
    """Every full date (a JSON string ``"YYYY-MM-DD"``) reduced to its month, in one
    line or in many (a date never spans a line break)."""
    return _DAY.sub(b"", ndjson)


_UNREADABLE = "stored case not readable"


def bulk_lines(
    patients: Iterable[tuple[str, dict[str, Any], str | None]],
    outcomes: Mapping[str, Sequence[OutcomeView]],
    on_date: dt.date,
    left_out: dict[str, int],
    *,
    secret: bytes | None = None,
    month_precision: bool = False,
) -> Iterator[tuple[str, bytes]]:
    """Each resource of the patients as (resource type, NDJSON line), patient by patient;
    the patients left out are counted in ``left_out`` by reason. With ``secret`` the
    patient id is the keyed hash of the registry id, else the registry id.

    Every case is read through the case model again (``parse_case``): the stored data
    were validated when written, but a case stored under an older case model that no
    longer validates is left out and counted, never exported half-read. The resources
    are the FHIR writer's plain dicts serialised directly (no FHIR model objects); the
    tests validate every resource of a fixture registry under fhir.resources R4B."""
    for rid, data, _histology in patients:
        lines = _lines(rid, data, outcomes.get(rid, ()), on_date, secret)
        if lines is None:
            left_out[_UNREADABLE] = left_out.get(_UNREADABLE, 0) + 1
            continue
        for kind, line in lines:
            yield kind, _to_months(line) if month_precision else line


def build_bulk(
    patients: Iterable[tuple[str, dict[str, Any], str | None]],
    outcomes: Mapping[str, Sequence[OutcomeView]],
    on_date: dt.date,
    *,
    secret: bytes | None = None,
    month_precision: bool = False,
) -> tuple[dict[str, list[bytes]], dict[str, int]]:
    """The NDJSON lines of each resource type in memory (for small registries and
    tests), and the patients left out by reason."""
    by_type: dict[str, list[bytes]] = {}
    left_out: dict[str, int] = {}
    for kind, line in bulk_lines(patients, outcomes, on_date, left_out, secret=secret,
                                 month_precision=month_precision):
        by_type.setdefault(kind, []).append(line)
    return by_type, left_out


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


_Range = tuple[str | None, str | None]  # registry ids: after (exclusive), upto (inclusive)


def _write_range(repo: Repository, span: _Range, on_date: dt.date, secret: bytes | None,
                 month_precision: bool, work: Path, part: int
                 ) -> tuple[dict[str, int], dict[str, int]]:
    """The patients of one registry-id range into ``<Type>.<part>`` files in ``work``;
    returns resources per type and patients left out by reason."""
    after, upto = span
    outcomes = repo.outcomes_by_registry_id(after=after, upto=upto)
    left_out: dict[str, int] = {}
    files = _TypeFiles(work, f".{part}", month_precision)
    try:
        for rid, data, _histology in repo.iter_latest_cases(after=after, upto=upto):
            lines = _lines(rid, data, outcomes.get(rid, ()), on_date, secret)
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
