"""The ``pecoma`` command line assembled: every command and command group, in the order
of ``pecoma --help``, and the console entry point that turns every error into a message
and an exit code (see :mod:`pecoma.cli`).
"""

from __future__ import annotations

import os
import sys
import traceback

import typer

from pecoma.cli import core
from pecoma.cli.common import EXIT_CONFIG, EXIT_INPUT, err, say_error
from pecoma.cli.fhir import fhir_app
from pecoma.cli.registry import registry_app
from pecoma.cli.serve import serve_cmd
from pecoma.cli.tokens import token_app
from pecoma.errors import ConfigError, InputError, KnowledgeError, PecomaError

__all__ = ["DEBUG_FLAG", "app", "main"]

app = typer.Typer(
    name="pecoma",
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
app.add_typer(registry_app, name="registry")
app.command("followup")(core.followup_cmd)
app.add_typer(fhir_app, name="fhir")
app.add_typer(token_app, name="token")


DEBUG_FLAG = "--debug"


def _debug_requested(argv: list[str], environ: dict[str, str] | os._Environ[str]) -> bool:
    """Whether to print tracebacks; removes ``--debug`` from ``argv`` (before any ``--``)."""
    end = argv.index("--") if "--" in argv else len(argv)
    found = DEBUG_FLAG in argv[1:end]
    if found:
        argv[1:end] = [a for a in argv[1:end] if a != DEBUG_FLAG]
    return found or environ.get("PECOMA_DEBUG", "").strip().lower() in ("1", "true", "yes")


def main() -> None:
    """Console entry point: every error becomes a message and an exit code."""
    debug = _debug_requested(sys.argv, os.environ)
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
