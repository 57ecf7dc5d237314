"""Run the ``pecoma`` command line inside the test process, as a fresh process would run it.

``run_cli(*args)`` calls the console entry point :func:`pecoma.cli.main` (so errors become
the same messages and exit codes) under Typer's ``CliRunner`` isolation: its own stdout,
stderr and stdin, ``COLUMNS`` and ``NO_COLOR`` set, every ``PECOMA_*`` variable of the test
process removed unless given, the working directory as asked, and consoles of the given
width without colour. The result has the fields of ``subprocess.CompletedProcess`` that
the tests read. Tests of the installed console script itself still start a real process.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

__all__ = ["CliRun", "run_cli"]


@dataclass(frozen=True)
class CliRun:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def _consoles(width: int) -> Iterator[None]:
    """The ``out``/``err`` consoles of every command-line module, replaced for one run
    (also in a module the run imports) and put back afterwards."""
    from pecoma.cli import common

    shared = {"out": common.out, "err": common.err}
    fresh = {
        "out": Console(width=width, color_system=None),
        "err": Console(width=width, color_system=None, stderr=True),
    }

    def point(consoles: dict[str, Console]) -> None:
        for name, module in list(sys.modules.items()):
            if name == "pecoma.cli" or name.startswith("pecoma.cli."):
                for attr, console in consoles.items():
                    if isinstance(getattr(module, attr, None), Console):
                        setattr(module, attr, console)

    point(fresh)
    try:
        yield
    finally:
        point(shared)


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, columns: int = 120
) -> CliRun:
    from pecoma.cli import main

    overrides: dict[str, str | None] = {k: None for k in os.environ if k.startswith("PECOMA_")}
    overrides.update({"COLUMNS": str(columns), "NO_COLOR": "1", **(env or {})})
    runner = CliRunner()
    argv = sys.argv
    with (
        contextlib.chdir(cwd or Path.cwd()),
        _consoles(columns),
        runner.isolation(env=overrides) as (stdout, stderr, _mixed),
    ):
        sys.argv = ["pecoma", *args]
        try:
            main()
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        finally:
            sys.argv = argv
            sys.stdout.flush()
            sys.stderr.flush()
        out_text = stdout.getvalue().decode("utf-8", "replace")
        err_text = stderr.getvalue().decode("utf-8", "replace")
    return CliRun(args, code, out_text, err_text)
