"""``pecoma fhir``: FHIR R4 in and out.

::

    pecoma fhir to-case BUNDLE.json          a FHIR Bundle -> the pecoma case (JSON)
    pecoma fhir from-case CASE.json          a pecoma case -> a FHIR Bundle
    pecoma fhir careplan CASE.json [--on D]  CarePlan + RequestGroup (a collection Bundle)
    pecoma fhir export-plandefinition        the knowledge base as a PlanDefinition

Parse, call the library, render. Exit codes follow :mod:`pecoma.cli`: 3 when the input is
rejected (each field named), 4 when a file cannot be read or written. The FHIR models
load when a command runs, not when the command line starts.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pecoma.case import Case, parse_case
from pecoma.cli.common import (
    EXIT_FILE,
    EXIT_INPUT,
    OnOption,
    OutputOption,
    SettingsOption,
    err,
    fail,
    parse_day,
    read_imaging,
    read_text,
    settings_from,
)
from pecoma.engine import assess
from pecoma.engine.schedule import plan_surveillance
from pecoma.errors import InputError
from pecoma.jsonin import loads
from pecoma.text import shown

if TYPE_CHECKING:
    from pecoma.fhir.reader import BundleCase
    from pecoma.settings import Settings

__all__ = ["fhir_app"]

fhir_app = typer.Typer(
    name="fhir",
    help="FHIR R4 in and out: Bundle to case, case to Bundle, CarePlan, PlanDefinition.",
    no_args_is_help=True,
    add_completion=False,
)


def _emit(data: Any, output: Path | None) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}", EXIT_FILE)


def _json(path: Path, what: str) -> Any:
    text = read_text(path, what)
    try:
        return loads(text, f"{what} in {path.name}")
    except InputError as exc:
        fail(str(exc), EXIT_INPUT)


def _rejected(exc: InputError) -> None:
    fail(str(exc), EXIT_INPUT)


def _read_any(path: Path, on: dt.date, for_care: bool = False,
              settings: Settings | None = None) -> tuple[Case, str | None, BundleCase | None]:
    """A pecoma case file, or a FHIR Bundle (then the patient id comes with it), read for
    the day ``on``. A Bundle's reading is reported as ``to-case`` reports it (what was not
    found, notes, what was not read), and the reading is returned beside the case (what
    the record leaves unknown, said on what is made of it); ``for_care``: one whose
    patient the record says died is refused (no care is planned for a patient recorded
    as deceased), and so is one that leaves whether the patient died unknown (no plan is
    written as if alive); ``settings``: those the case is assessed with."""
    from pecoma.fhir.reader import case_from_bundle

    data = _json(path, "case")
    try:
        if isinstance(data, dict) and data.get("resourceType") == "Bundle":
            bc = case_from_bundle(data, source=f"FHIR bundle in {path.name}", on=on,
                                  settings=settings)
            _report_not_found(bc)
            if for_care and bc.deceased is not None:
                fail(f"the record in {path.name} says the patient died ({bc.deceased}): no "
                     "care plan is written for a patient recorded as deceased; correct the "
                     "record if it is wrong", EXIT_INPUT)
            if for_care and bc.vital_status_unknown is not None:
                fail(f"whether the patient of the record in {path.name} has died is unknown "
                     f"({bc.vital_status_unknown}): no care plan is written while it is; "
                     "record it in Patient.deceased[x] (deceasedBoolean true or false, or "
                     "deceasedDateTime the date of death)", EXIT_INPUT)
            return bc.case, bc.patient_id, bc
        return parse_case(data, source=f"case in {path.name}", on_date=on), None, None
    except InputError as exc:
        _rejected(exc)
        raise  # unreachable: fail() exits


def _report_not_found(bc: BundleCase) -> None:
    # the record's own words and codes ('[in_i]', '{mitoses}/50.[HPF]') printed as
    # written, never read as console markup
    from pecoma.fhir.searches import PARTS

    if bc.not_found:
        err.print(
            "not found in the bundle (unknown, not absent): " + ", ".join(bc.not_found),
            highlight=False, markup=False,
        )
    for path, why in bc.unreadable.items():
        err.print(f"found but not read (unknown, not absent): {path}: {why}",
                  highlight=False, markup=False)
    for path, why in bc.set_aside.items():
        err.print(f"found but set aside (unknown, not absent): {path}: {why}",
                  highlight=False, markup=False)
    for part, why in bc.unread.items():
        err.print(f"not read in full (unknown, not absent): {PARTS.get(part, part)}: {why}",
                  highlight=False, markup=False)
    if bc.history_doubt is not None:
        err.print("the lines of systemic therapy already given are not fully known "
                  f"({bc.history_doubt}): a line not in the case may have been given",
                  highlight=False, markup=False)
    for note in bc.notes:
        err.print(f"note: {note}", highlight=False, markup=False)
    for line in bc.evidence:
        err.print(f"evidence: {line}", highlight=False, markup=False)
    for line in bc.not_read:
        err.print(f"not read: {line}", highlight=False, markup=False)


@fhir_app.command("to-case")
def to_case_cmd(
    bundle: Annotated[Path, typer.Argument(help="FHIR R4 Bundle (JSON).")],
    details: Annotated[
        bool,
        typer.Option(
            "--details",
            help="Print {case, not_found, sources, notes, evidence, not_read, ignored, unread} "
            "instead.",
        ),
    ] = False,
    full: Annotated[
        bool, typer.Option("--full-validation", help="Validate every resource of the bundle.")
    ] = False,
    on: OnOption = None,
    output: OutputOption = None,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            help="The FHIR server base the bundle was read from (https://ehr.example/fhir): "
            "an absolute reference on it is the record's. Without it, only the server of "
            "the Patient's fullUrl is.",
        ),
    ] = None,
) -> None:
    """Read a FHIR Bundle into a pecoma case; facts not found stay unknown (listed).

    A medication whose first day is after ``--on`` (default: today) is planned, not given.
    """
    from pecoma.fhir.reader import case_from_bundle

    if server is not None:
        from pecoma.fhir.client import ServerNotAllowed, parse_server_url

        try:
            server = parse_server_url(server).base
        except ServerNotAllowed as exc:
            fail(f"'--server' must be a FHIR server's base URL, http(s)://host[:port][/path] "
                 f"({exc}) (got {server[:200]!r})", 2)
    data = _json(bundle, "FHIR bundle")
    day = parse_day(on)
    try:
        bc = case_from_bundle(
            data,
            validate="full" if full else "engine",
            source=f"FHIR bundle in {bundle.name}",
            on=day,
            server=server,
        )
    except InputError as exc:
        _rejected(exc)
        return
    case = bc.case.model_dump(mode="json", exclude_defaults=True)
    case.pop("format", None)
    if details:
        _emit(
            {
                "case": case,
                "not_found": list(bc.not_found),
                "found_not_read": dict(bc.unreadable),
                "found_set_aside": dict(bc.set_aside),
                "sources": dict(bc.sources),
                "notes": list(bc.notes),
                "evidence": list(bc.evidence),
                "not_read": list(bc.not_read),
                "ignored": list(bc.ignored),
                "unread": dict(bc.unread),
            },
            output,
        )
    else:
        _emit(case, output)
        _report_not_found(bc)


def _patient_option(value: str | None) -> None:
    """A ``--patient`` given must be a FHIR id: it is written as Patient.id and in every
    reference to it, where another string makes the Bundle invalid FHIR."""
    from pecoma.fhir.references import FHIR_ID

    if value is not None and not FHIR_ID.fullmatch(value):
        fail(f"'--patient' must be a FHIR id: 1 to 64 letters, digits, '-' or '.' "
             f"(got {shown(value)})", 2)


@fhir_app.command("from-case")
def from_case_cmd(
    case_file: Annotated[Path, typer.Argument(help="pecoma case JSON file.")],
    patient: Annotated[str, typer.Option("--patient", help="Patient resource id.")] = (
        "pecoma-patient"
    ),
    on: OnOption = None,
    output: OutputOption = None,
) -> None:
    """Write a pecoma case as a FHIR R4 collection Bundle (unknown facts are left out).

    A FHIR Bundle given instead of a case is read for ``--on`` (default: today), as by
    `to-case`: a medication whose first day is after it is planned, not given.
    """
    from pecoma.fhir.writer import bundle_from_case

    _patient_option(patient)
    case, _pid, _bc = _read_any(case_file, parse_day(on))
    _emit(bundle_from_case(case, patient_id=patient), output)


@fhir_app.command("careplan")
def careplan_cmd(
    case_file: Annotated[Path, typer.Argument(help="pecoma case JSON, or a FHIR Bundle.")],
    on: OnOption = None,
    imaging: Annotated[
        Path | None,
        typer.Option("--imaging", help="Imaging history (as for `pecoma followup`)."),
    ] = None,
    patient: Annotated[
        str | None, typer.Option("--patient", help="Patient id for CarePlan.subject.")
    ] = None,
    settings: SettingsOption = None,
    output: OutputOption = None,
) -> None:
    """The assessment as a FHIR CarePlan (dated surveillance) and RequestGroup."""
    from pecoma.fhir.careplan import careplan_bundle

    _patient_option(patient)
    day = parse_day(on)
    s = settings_from(settings)
    case, pid, bc = _read_any(case_file, day, for_care=True, settings=s)
    try:
        events = read_imaging(imaging, case, day) if imaging else None
        a = assess(case, day, s)
        plan = plan_surveillance(case, a, day, events, s)
    except InputError as exc:
        _rejected(exc)
        return
    _emit(careplan_bundle(case, a, plan, patient_id=patient or pid, reading=bc), output)


@fhir_app.command("export-plandefinition")
def export_plandefinition_cmd(
    settings: SettingsOption = None, output: OutputOption = None
) -> None:
    """The knowledge base as a FHIR PlanDefinition, versioned with the knowledge; the
    schedule's wording quotes the settings in force."""
    from pecoma.fhir.plandefinition import plan_definition

    _emit(plan_definition(settings=settings_from(settings)), output)
