"""``pecoma registry …``: the patient registry from the command line.

Every command opens the registry (SQLite file by default, PostgreSQL by URL), brings its
schema up to date, runs one use case and renders the result. Errors become a message and
an exit code (see :mod:`pecoma.cli`); registry ids never go to a log.

Exit codes beyond the common ones: 3 also when an import rejected rows (the report lists
each cell), 4 when the import file or the database cannot be read or written.

The commands live in three modules, each of one idea: :mod:`~pecoma.cli.registry_records`
(the commands that enter data), :mod:`~pecoma.cli.registry_views` (worklist, summary,
survival, quality, audit) and :mod:`~pecoma.cli.registry_exports`; this module assembles
them into the group's one Typer app, in the order of ``pecoma registry --help``.
"""

from __future__ import annotations

import typer

from pecoma.cli import registry_exports, registry_records, registry_views

__all__ = ["registry_app"]

registry_app = typer.Typer(
    name="registry",
    help="The patient registry: import cases, record scans, see who is due, re-assess.",
    no_args_is_help=True,
    add_completion=False,
)
registry_app.command("init")(registry_records.init_cmd)
registry_app.command("template")(registry_records.template_cmd)
registry_app.command("import")(registry_records.import_cmd)
registry_app.command("add-case")(registry_records.add_case_cmd)
registry_app.command("record-scan")(registry_records.record_scan_cmd)
registry_app.command("record-outcome")(registry_records.record_outcome_cmd)
registry_app.command("withdraw")(registry_records.withdraw_cmd)
registry_app.command("worklist")(registry_views.worklist_cmd)
registry_app.command("reassess")(registry_records.reassess_cmd)
registry_app.command("summary")(registry_views.summary_cmd)
registry_app.command("survival")(registry_views.survival_cmd)
registry_app.command("quality")(registry_views.quality_cmd)
registry_app.command("export-omop")(registry_exports.export_omop_cmd)
registry_app.command("export-fhir")(registry_exports.export_fhir_cmd)
registry_app.command("export")(registry_exports.export_cmd)
registry_app.command("audit")(registry_views.audit_cmd)
