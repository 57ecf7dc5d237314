"""What every ``pecoma`` command shares: exit codes, consoles, error messages, reading user
files, the evaluation date, and the options of the commands that open the registry.

Nothing here imports another module of :mod:`pecoma.cli`, nor the web stack, the database
or the PDF, FHIR and plotting libraries: a command imports those itself, when it runs.
"""

from __future__ import annotations

import datetime as dt
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from pecoma import dates
from pecoma.case import Case, parse_case_json
from pecoma.errors import ConfigError, InputError, KnowledgeError, PecomaError
from pecoma.jsonin import loads
from pecoma.settings import Settings, load_settings

if TYPE_CHECKING:
    from pecoma.engine.imaging import ImagingEvent
    from pecoma.store import Repository

__all__ = [
    "EXIT_CONFIG",
    "EXIT_FILE",
    "EXIT_INPUT",
    "ActorOption",
    "DataDirOption",
    "DbOption",
    "OnOption",
    "OutputOption",
    "SettingsOption",
    "TextJson",
    "WriteOnOption",
    "actor_name",
    "err",
    "fail",
    "open_repo",
    "out",
    "parse_day",
    "read_case",
    "read_imaging",
    "read_text",
    "registry_errors",
    "say_error",
    "settings_from",
    "write_out",
]

EXIT_INPUT = 3
EXIT_FILE = 4
EXIT_CONFIG = 5

out = Console()
err = Console(stderr=True)


def say_error(message: object, label: str = "error") -> None:
    """Print an error message; user-supplied text is escaped, never read as markup."""
    err.print(f"[bold red]{label}:[/] {escape(str(message))}", highlight=False)


def fail(message: str, code: int) -> NoReturn:
    say_error(message)
    raise typer.Exit(code)


def read_text(path: Path, what: str) -> str:
    """Read a user file, turning OS errors into a message (exit 4)."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{what} file not found: {path}", EXIT_FILE)
    except IsADirectoryError:
        fail(f"{what} path is a directory, not a file: {path}", EXIT_FILE)
    except UnicodeDecodeError:
        fail(f"{what} file is not UTF-8 text: {path}", EXIT_FILE)
    except OSError as exc:
        fail(f"cannot read {what} file {path}: {exc.strerror}", EXIT_FILE)


def read_case(path: Path, on_date: dt.date | None = None) -> Case:
    """The case of a file; with ``on_date`` (the evaluation date) the facts dated after it
    are refused with the case's other problems, in one pass."""
    return parse_case_json(read_text(path, "case"), source=f"case in {path.name}",
                           on_date=on_date)


def read_imaging(
    path: Path, case: Case | None = None, on_date: dt.date | None = None
) -> tuple[ImagingEvent, ...]:
    """An imaging history file: JSON (a list, or ``{"imaging": [...]}``) or CSV, with its
    dates checked against the case (nothing before its surgery, or before the end of
    treatment when no surgery is dated: :func:`pecoma.engine.imaging.imaging_floor`) and
    the evaluation date when given."""
    from pecoma.engine.imaging import parse_imaging, parse_imaging_csv

    text = read_text(path, "imaging history")
    source = f"imaging history in {path.name}"
    if path.suffix.lower() == ".csv":
        return parse_imaging_csv(text, source=source, case=case, on_date=on_date)
    data = loads(text, source)
    return parse_imaging(data, source=source, case=case, on_date=on_date)


def settings_from(path: Path | None) -> Settings:
    return load_settings(path)


def parse_day(value: str | None, option: str = "--on", *, writes: bool = False) -> dt.date:
    """The evaluation date: given explicitly, or today's date read here, at the edge.

    A command that ``writes`` to the registry dates what it stores by it (a case version
    is in the views of the registry from that day on, a scan or an outcome may not be
    after it), so there it may not be after today: a mistyped year would take a patient,
    and a scan that found disease recorded today, out of every current worklist and
    summary until that day. A view may look ahead (a worklist as of next month)."""
    today = dt.date.today()
    if value is None:
        return today
    day = dates.parse_day(value)
    if day is None:
        fail(f"'{option}' {dates.date_rule(value)} (got {value!r})", 2)
    if writes and day > today:
        fail(f"'{option}' must not be after today ({today.isoformat()}) for a command that "
             "writes to the registry: what it records is dated by it, and a case version "
             "dated later is in no worklist or summary before that day (got "
             f"{value!r}); give today or an earlier date (a worklist or summary may be "
             "run as of a later date to look ahead)", 2)
    return day


SettingsOption = Annotated[
    Path | None,
    typer.Option("--settings", help="TOML settings file overriding the documented defaults."),
]
OnOption = Annotated[
    str | None,
    typer.Option("--on", help="Evaluation date, YYYY-MM-DD (default: today)."),
]
WriteOnOption = Annotated[
    str | None,
    typer.Option("--on", help="Evaluation date the entries are recorded as of, YYYY-MM-DD, "
                 "not after today (default: today)."),
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
]


class TextJson(StrEnum):
    text = "text"
    json = "json"


# --- the commands that open the registry database (registry, token) --------------------

DbOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="PECOMA_DATABASE_URL",
        help="Database URL (postgresql://user@host/db or sqlite:///file). Default: the "
        "SQLite file in the data directory.",
        show_envvar=True,
    ),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="PECOMA_DATA_DIR",
        help="Folder of the embedded SQLite registry (default ./data).",
        show_envvar=True,
    ),
]
ActorOption = Annotated[
    str | None,
    typer.Option(
        "--actor",
        envvar="PECOMA_ACTOR",
        help="Who makes the change, for the audit log (default: the login name).",
        show_envvar=True,
    ),
]


def actor_name(value: str | None) -> str:
    """Who makes a change, for the audit log: ``--actor``, else the login name."""
    if value:
        return value
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


@contextmanager
def registry_errors() -> Iterator[None]:
    """Turn the errors of a registry command into a message and an exit code."""
    try:
        yield
    except InputError as exc:
        fail(str(exc), EXIT_INPUT)
    except (ConfigError, KnowledgeError) as exc:
        fail(str(exc), EXIT_CONFIG)
    except PecomaError as exc:
        from pecoma.registry.import_table import ImportFileError
        from pecoma.store import StoreError

        if isinstance(exc, ImportFileError):
            fail(f"cannot import: {exc}", EXIT_FILE)
        if isinstance(exc, StoreError):
            fail(str(exc), EXIT_FILE)
        raise


def open_repo(url: str | None, data_dir: Path | None) -> Repository:
    """The registry at ``url`` (else ``PECOMA_DATABASE_URL``, else the SQLite file in the
    data folder), its schema brought up to date."""
    from pecoma.store import database_url, open_registry

    return open_registry(database_url(url, {}, data_dir))


def write_out(data: str | bytes, output: Path | None) -> None:
    """Text or bytes to ``output`` (its path said on stderr), else to stdout."""
    if output is None:
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            sys.stdout.write(data)
        return
    try:
        if isinstance(data, bytes):
            output.write_bytes(data)
        else:
            output.write_text(data, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}", EXIT_FILE)
    err.print(f"written: {output}", highlight=False, markup=False)
