"""The ``pecoma`` command line: parse, call the library, render. No decisions here.

Exit codes: 0 done; 1 unexpected internal error; 2 wrong usage; 3 the input was rejected
(the message lists each field); 4 a file could not be read or written; 5 a settings or
knowledge file is malformed.

``--debug`` anywhere on the command line (or ``PECOMA_DEBUG=1``) prints the traceback of
an unexpected internal error after the message, for a useful defect report.

The modules: :mod:`~pecoma.cli.common` (exit codes, consoles, shared options and
helpers; it imports no other module of this package), one module per command group
(:mod:`~pecoma.cli.core` for assess, followup, demo, schema, rules and version;
:mod:`~pecoma.cli.fhir`, :mod:`~pecoma.cli.registry`, :mod:`~pecoma.cli.tokens`,
:mod:`~pecoma.cli.serve`), each importing only ``common``; and :mod:`~pecoma.cli.main`,
which assembles them. The web stack, the database, PDF, FHIR, survival, plotting and
spreadsheet libraries are imported inside the commands that use them, so that
``pecoma assess`` and ``pecoma version`` start quickly.
"""

from pecoma.cli.common import EXIT_CONFIG, EXIT_FILE, EXIT_INPUT
from pecoma.cli.main import app, main

__all__ = ["EXIT_CONFIG", "EXIT_FILE", "EXIT_INPUT", "app", "main"]
