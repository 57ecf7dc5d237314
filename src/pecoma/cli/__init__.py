"""The ``pecoma`` command line: parse, call the library, render. No decisions here.

Exit codes: 0 done; 1 unexpected internal error; 2 wrong usage; 3 the input was rejected
(the message lists each field); 4 a file could not be read or written; 5 a settings or
knowledge file is malformed.

``--debug`` anywhere on the command line (or ``PECOMA_DEBUG=1``) prints the traceback of
an unexpected internal error after the message, for a useful defect report.

The modules: :mod:`~pecoma.cli.common` (exit codes, consoles, shared options and helpers;
it imports no other module of this package) and one module per command group, each
importing only ``common``: :mod:`~pecoma.cli.core` (assess, followup, demo, schema, rules,
version), :mod:`~pecoma.cli.serve`, :mod:`~pecoma.cli.registry` (which assembles its
commands from :mod:`~pecoma.cli.registry_records`, :mod:`~pecoma.cli.registry_views` and
:mod:`~pecoma.cli.registry_exports`, each importing only ``common``),
:mod:`~pecoma.cli.fhir` and :mod:`~pecoma.cli.tokens`. This module assembles them into
the Typer ``app`` and holds the console entry point :func:`main`.

Start-up is kept short for the commands people wait for (``assess``, ``version``): the
``registry``, ``fhir`` and ``token`` groups are imported only when named (or when the
help lists them), and the web stack, the database and the PDF, FHIR, survival, plotting,
spreadsheet and HTTP libraries only inside the commands that use them.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup

from pecoma.cli import core
from pecoma.cli.common import EXIT_CONFIG, EXIT_FILE, EXIT_INPUT, err, say_error
from pecoma.cli.serve import serve_cmd
from pecoma.errors import ConfigError, InputError, KnowledgeError, PecomaError

if TYPE_CHECKING:
    from typer._click import Command, Context  # Typer's own copy of Click

__all__ = ["EXIT_CONFIG", "EXIT_FILE", "EXIT_INPUT", "app", "main"]


def _registry() -> typer.Typer:
    from pecoma.cli.registry import registry_app

    return registry_app


def _fhir() -> typer.Typer:
    from pecoma.cli.fhir import fhir_app

    return fhir_app


def _token() -> typer.Typer:
    from pecoma.cli.tokens import token_app

    return token_app


# The command groups imported when first used, and the order of ``pecoma --help``.
LAZY_GROUPS: dict[str, Callable[[], typer.Typer]] = {
    "registry": _registry,
    "fhir": _fhir,
    "token": _token,
}
ORDER = ("assess", "schema", "rules", "demo", "version", "serve", "followup", "registry",
         "fhir", "token")  # fmt: skip


class _Commands(TyperGroup):
    """The top-level commands, where a command group's module loads when it is named."""

    def list_commands(self, ctx: Context) -> list[str]:
        listed = [name for name in ORDER if name in self.commands or name in LAZY_GROUPS]
        return listed + [name for name in self.commands if name not in listed]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name in LAZY_GROUPS and cmd_name not in self.commands:
            self.add_command(typer.main.get_command(LAZY_GROUPS[cmd_name]()), cmd_name)
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: Context, args: list[str]
    ) -> tuple[str | None, Command | None, list[str]]:
        if args and args[0] not in self.commands and args[0] not in LAZY_GROUPS:
            for name in LAZY_GROUPS:  # an unknown name: "did you mean" looks at every group
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)


app = typer.Typer(
    name="pecoma",
    cls=_Commands,
    help="Decision support for the PEComa treatment guideline. It supports, and never "
    "replaces, a multidisciplinary sarcoma team. Add --debug (or set PECOMA_DEBUG=1) to "
    "print the traceback of an internal error.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("assess")(core.assess_cmd)
app.command("schema")(core.schema_cmd)
app.command("rules")(core.rules_cmd)
app.command("demo")(core.demo_cmd)
app.command("version")(core.version_cmd)
app.command("serve")(serve_cmd)
app.command("followup")(core.followup_cmd)


DEBUG_FLAG = "--debug"


def _debug_requested(argv: list[str], environ: dict[str, str] | os._Environ[str]) -> bool:
    """Whether to print tracebacks; removes ``--debug`` from ``argv`` (before any ``--``)."""
    end = argv.index("--") if "--" in argv else len(argv)
    found = DEBUG_FLAG in argv[1:end]
    if found:
        argv[1:end] = [a for a in argv[1:end] if a != DEBUG_FLAG]
    return found or environ.get("PECOMA_DEBUG", "").strip().lower() in ("1", "true", "yes")


def _odd_arguments(args: list[str]) -> list[str]:
    """The command-line arguments breaking :data:`pecoma.text.TEXT_RULE` (a control
    character; bytes that are not UTF-8 arrive as half surrogate pairs), each named by its
    option (``--reason``) or its position: the one place where a command's text comes in."""
    from pecoma.text import TEXT_RULE, escaped, shown, text_is_odd

    out = []
    for i, arg in enumerate(args):
        if not text_is_odd(arg):
            continue
        if arg.startswith("--") and "=" in arg:
            name, _, value = arg.partition("=")
        elif i > 0 and args[i - 1].startswith("-") and not text_is_odd(args[i - 1]):
            name, value = args[i - 1], arg
        else:
            name, value = f"argument {i + 1}", arg
        out.append(f"{escaped(name)}: {TEXT_RULE} (got {shown(value)})")
    return out


def main() -> None:
    """Console entry point: every error becomes a message and an exit code."""
    debug = _debug_requested(sys.argv, os.environ)
    odd = _odd_arguments(sys.argv[1:])
    if odd:
        for line in odd:
            say_error(line)
        sys.exit(EXIT_INPUT)
    try:
        app()
    except InputError as exc:
        say_error(exc)
        sys.exit(EXIT_INPUT)
    except (ConfigError, KnowledgeError) as exc:
        say_error(exc)
        sys.exit(EXIT_CONFIG)
    except PecomaError as exc:
        say_error(exc)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # the last line of defence: never a traceback unless asked
        err.print(
            f"[bold red]internal error:[/] {type(exc).__name__}. This is a defect in pecoma; "
            "please report it with the command you ran (without patient data)"
            + (
                "; the traceback follows."
                if debug
                else f". Run it again with {DEBUG_FLAG} (or PECOMA_DEBUG=1) to see where it "
                "happened."
            ),
            highlight=False,
        )
        if debug:
            traceback.print_exception(exc, file=sys.stderr)
        sys.exit(1)
