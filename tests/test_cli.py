"""The command line, run as a user runs it: real files, exit codes. Most tests run it in
this process (``cli_support``: the same entry point, own stdout and stderr); the installed
console script and ``python -m pecoma`` are run as real processes in TestConsoleScript."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cli_support import CliRun, run_cli

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
HIGH = SCENARIOS / "margin-r1" / "case.json"


def pecoma(*args: str, cwd: Path | None = None) -> CliRun:
    return run_cli(*args, cwd=cwd, columns=120)


def process(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(command), capture_output=True, text=True, timeout=120, check=False,
        env={"COLUMNS": "120", "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
    )


class TestConsoleScript:
    """The installed ``pecoma`` script and ``python -m pecoma``, each a real process."""

    SCRIPT = str(Path(sys.executable).with_name("pecoma"))

    def test_version(self) -> None:
        r = process(self.SCRIPT, "version")
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("pecoma ") and "· knowledge " in r.stdout

    def test_assess_json(self) -> None:
        r = process(self.SCRIPT, "assess", str(HIGH), "--on", "2026-11-28", "-f", "json")
        assert r.returncode == 0, r.stderr
        assert "REC-RERESECTION" in [i["id"] for i in json.loads(r.stdout)["recommendations"]]

    def test_rejected_case_exit_3_without_traceback(self, tmp_path: Path) -> None:
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps({"tumour": {"primary_site": "moon"},
                                   "stage": {"status": "localized"}}))
        r = process(self.SCRIPT, "assess", str(bad), "--on", "2026-11-28")
        assert r.returncode == 3
        assert "tumour.primary_site" in r.stderr and "moon" in r.stderr
        assert "Traceback" not in r.stderr + r.stdout

    def test_usage_error_exit_2(self) -> None:
        r = process(self.SCRIPT, "assess", str(HIGH), "--format", "pdf")
        assert r.returncode == 2
        assert "Traceback" not in r.stderr

    def test_python_dash_m(self) -> None:
        r = process(sys.executable, "-m", "pecoma", "version")
        assert r.returncode == 0, r.stderr
        assert "knowledge" in r.stdout


class TestAssess:
    def test_text_report(self) -> None:
        """The terminal report shows risk, what to do, why, missing facts and intended use."""
        r = pecoma("assess", str(SCENARIOS / "unknown-features-indeterminate" / "case.json"),
                   "--on", "2026-11-28")
        assert r.returncode == 0, r.stderr
        for text in ("Intended use", "INDETERMINATE", "Missing facts", "guideline S05",
                     "Why:", "supplementary (not from the guideline)", "I1"):
            assert text in r.stdout, text

    def test_text_report_gives_each_supplementary_reference_in_full(self) -> None:
        """A supplementary item carries a full published reference in every output: the
        terminal report named nab-sirolimus's approval only "Wagner et al. 2021 (AMPECT)",
        the Folpe and Bennett categories and ICD-O-3 by short names, where the Markdown,
        HTML and PDF reports give the full citations. It now lists each reference its
        items and missing facts rest on in full (journal, year, pages), as the Markdown
        report does."""
        case = str(SCENARIOS / "dfi-zero-single-metastasis" / "case.json")
        data = json.loads(pecoma("assess", case, "--on", "2026-11-28", "-f", "json").stdout)
        shown = [*data["recommendations"], *data["alerts"], *data["followup"],
                 data["risk"]["item"], *(c["item"] for c in data["classifications"]),
                 *data["missing"]]
        citations = {s["citation"] for i in shown for s in i["provenance"]["sources"]}
        assert any("J Clin Oncol. 2021;39(33):3660-3670" in c for c in citations)
        assert any("Am J Surg Pathol. 2005;29(12):1558-1575" in c for c in citations)
        r = run_cli("assess", case, "--on", "2026-11-28", columns=400)  # each on one line
        assert r.returncode == 0, r.stderr
        text = r.stdout.split("Supplementary references (published, not from the "
                              "guideline)")[1]
        for citation in citations:
            assert citation in text, citation
        markdown = pecoma("assess", case, "--on", "2026-11-28", "-f", "markdown").stdout
        for citation in citations:
            assert f"- {citation}" in markdown.split("## Supplementary references")[1]

    def test_json_report(self) -> None:
        r = pecoma("assess", str(HIGH), "--on", "2026-11-28", "--format", "json")
        assert r.returncode == 0, r.stderr
        data = json.loads(r.stdout)
        assert data["format"] == "pecoma-assessment/1"
        assert data["evaluated_on"] == "2026-11-28"
        assert "REC-RERESECTION" in [i["id"] for i in data["recommendations"]]
        assert data["intended_use"]

    def test_markdown_report(self) -> None:
        r = pecoma("assess", str(HIGH), "--on", "2026-11-28", "-f", "markdown")
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("# pecoma assessment")
        assert "> **Intended use.**" in r.stdout
        assert "guideline S03, S27" in r.stdout

    def test_same_input_same_output(self) -> None:
        a = pecoma("assess", str(HIGH), "--on", "2026-11-28", "-f", "json").stdout
        b = pecoma("assess", str(HIGH), "--on", "2026-11-28", "-f", "json").stdout
        assert a == b


class TestErrors:
    def test_missing_file(self, tmp_path: Path) -> None:
        r = pecoma("assess", str(tmp_path / "nope.json"))
        assert r.returncode == 4
        assert "not found" in r.stderr
        assert "Traceback" not in r.stderr + r.stdout

    def test_rejected_case_names_the_field(self, tmp_path: Path) -> None:
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps({"tumour": {"primary_site": "kidney",
                                              "size": {"value": -3, "unit": "cm"}},
                                   "stage": {"status": "localized"}}))
        r = pecoma("assess", str(bad), "--on", "2026-11-28")
        assert r.returncode == 3
        assert "tumour.size.value" in r.stderr
        assert "Traceback" not in r.stderr + r.stdout

    def test_long_label_in_plain_words(self, tmp_path: Path) -> None:
        """An 87-character label: exit 3, the limit in characters and the length given."""
        bad = tmp_path / "long.json"
        bad.write_text(json.dumps({"label": "x" * 87,
                                   "tumour": {"primary_site": "kidney"},
                                   "stage": {"status": "localized"}}))
        r = pecoma("assess", str(bad), "--on", "2026-11-28")
        assert r.returncode == 3
        assert "'label' must be at most 80 characters (got 87 characters)" in r.stderr
        assert "items" not in r.stderr and "Traceback" not in r.stderr + r.stdout

    def test_unparseable_json(self, tmp_path: Path) -> None:
        bad = tmp_path / "bad.json"
        bad.write_text("{oops")
        r = pecoma("assess", str(bad))
        assert r.returncode == 3
        assert "valid JSON" in r.stderr

    def test_bad_date(self) -> None:
        r = pecoma("assess", str(HIGH), "--on", "28/11/2026")
        assert r.returncode == 2
        assert "YYYY-MM-DD" in r.stderr

    def test_future_fact(self) -> None:
        r = pecoma("assess", str(HIGH), "--on", "2020-01-01")
        assert r.returncode == 3
        assert "after the evaluation date" in r.stderr

    def test_bad_settings_file(self, tmp_path: Path) -> None:
        s = tmp_path / "s.toml"
        s.write_text("[engine]\nsizes = 1\n")
        r = pecoma("assess", str(HIGH), "--settings", str(s))
        assert r.returncode == 5
        assert "engine.sizes" in r.stderr

    def test_unknown_format(self) -> None:
        r = pecoma("assess", str(HIGH), "--format", "pdf")
        assert r.returncode == 2
        assert "Traceback" not in r.stderr


def _last_cell(listing: str, row_id: str) -> str:
    """The last column of the table row whose first cell is ``row_id``, its wrapped lines
    joined (the continuation lines of a row have an empty first cell)."""
    lines = listing.splitlines()
    at = next(n for n, line in enumerate(lines)
              if line.startswith("│") and line.split("│")[1].strip() == row_id)
    row = [lines[at], *itertools.takewhile(
        lambda line: line.startswith("│") and not line.split("│")[1].strip(), lines[at + 1:])]
    return " ".join(c for c in (line.rsplit("│", 2)[1].strip() for line in row) if c)


def _column(listing: str, row_id: str, column: int) -> str:
    """Column ``column`` (0 the first) of the table row whose first cell is ``row_id``,
    its wrapped lines joined."""
    lines = listing.splitlines()
    at = next(n for n, line in enumerate(lines)
              if line.startswith("│") and line.split("│")[1].strip() == row_id)
    row = [lines[at], *itertools.takewhile(
        lambda line: line.startswith("│") and not line.split("│")[1].strip(), lines[at + 1:])]
    return " ".join(c for c in (line.split("│")[column + 1].strip() for line in row) if c)


class TestOtherCommands:
    def test_schema_is_json_schema(self) -> None:
        r = pecoma("schema")
        assert r.returncode == 0
        schema = json.loads(r.stdout)
        assert schema["title"] == "pecoma case"
        assert "tumour" in schema["properties"]

    def test_rules_lists_every_statement(self) -> None:
        r = pecoma("rules")
        assert r.returncode == 0
        for i in range(1, 29):
            assert f"S{i:02d}" in r.stdout
        carried = r.stdout.split("Statements and the records")[1].split("Interpretations:")[0]
        assert "none" not in carried

    def test_rules_json(self) -> None:
        data = json.loads(pecoma("rules", "--format", "json").stdout)
        assert len(data["records"]) >= 40

    def test_rules_list_the_missing_facts_in_every_format(self) -> None:
        """What pecoma does meanwhile for a fact not given is the safer branch it takes
        (unknown is never absent): the JSON held the 53 missing-fact records, but the text
        and Markdown listings held none, though their statements table names them as
        carrying S11, S15 and others. Each lists every one now, from the same records,
        with its question, what the answer would change, what pecoma does meanwhile and
        its provenance: MISS-NODES asks whether the regional nodes are involved and
        meanwhile keeps the high-risk schedule (I10)."""
        from pecoma.engine.collect import provenance_of
        from pecoma.knowledge import load_knowledge

        missing = json.loads(pecoma("rules", "-f", "json").stdout)["missing"]
        # 54, MISS-OTHER-LINE-AGENT, MISS-RESIDUAL-REMOVAL, MISS-METASTASIS-EARLY-TIMING
        # (a metastasis found before the first surveillance scan, I29),
        # MISS-SUSPECTED-METASTASIS (a metastasis suspected, not confirmed) and the
        # questions asked long after the operation: MISS-ADJUVANT-RADIOTHERAPY,
        # MISS-REEXCISION-DECIDED (I30), MISS-EARLIER-LINES (lines numbered above those
        # recorded before them, I19), MISS-GROSS-RESIDUE-CLEARED (a stated interval
        # beside an R2 resection, I5), MISS-LOCAL-RECURRENCE (a recurrence beside lung
        # metastases, S16), MISS-ADJUVANT-RADIOTHERAPY-END (adjuvant radiotherapy whose end
        # is not recorded, beside S16's interval counted from the operation, I5)
        # MISS-PLANNED-OPERATION-PASSED (a planned day the evaluation date has passed)
        # and MISS-ANTHRACYCLINE-CONTRAINDICATED (an anthracycline's contraindication not
        # recorded where doxorubicin or epirubicin with ifosfamide is shown, S14, S15)
        # and MISS-ADJUVANT-NO-PROGRESSION-DATES (an adjuvant course recorded as not
        # progressed on while a metastasis was found during it)
        assert len(missing) == 67
        text = run_cli("rules", columns=240).stdout  # each id on one line
        markdown = pecoma("rules", "-f", "markdown").stdout
        assert "## Missing facts (67)" in markdown
        k = load_knowledge()
        for m in missing:
            label = provenance_of(k, m["id"]).label
            words = {key: " ".join(m[key].split())
                     for key in ("question", "would_change", "meanwhile")}
            assert _column(text, m["id"], 1) == (
                f"{words['question']} ({m['field']}) Would change: {words['would_change']} "
                f"Meanwhile: {words['meanwhile']}"), m["id"]
            assert _last_cell(text, m["id"]) == label, m["id"]
            cells = [c.replace("|", "\\|") for c in (
                words["question"], words["would_change"], words["meanwhile"], label)]
            assert (f"| `{m['id']}` | `{m['field']}` | " + " | ".join(cells) + " |"
                    in markdown.splitlines()), m["id"]
        nodes = next(m for m in missing if m["id"] == "MISS-NODES")
        assert nodes["question"] == "Are regional lymph nodes involved?"
        assert "high-risk schedule meanwhile (I10)" in _column(text, "MISS-NODES", 1)

    def test_rules_read_on_a_terminal_of_80_columns(self) -> None:
        """On a terminal of 80 columns: each column keeps room for whole words
        (the records' table had given every column but the id 6 characters, breaking
        'strength' and 'guideline' mid-word, 3,556 lines), and nothing is cut short."""
        r = run_cli("rules", columns=80)
        assert r.returncode == 0, r.stderr
        assert "…" not in r.stdout
        assert "│ High risk " in r.stdout and "guideline S06 ·" in r.stdout
        assert max(map(len, r.stdout.splitlines())) <= 80
        # the records, the 65 missing facts (about 1,190 lines), the statements,
        # interpretations and references: about 3,515 lines with
        # MISS-ADJUVANT-RADIOTHERAPY-END and REC-PRIMARY-SITE-AFTER-CLEARANCE; the layout
        # breaking words took 3,556 lines with fewer records; 3,688 with
        # MISS-ADJUVANT-NO-PROGRESSION-DATES and the I26 caveat in the anthracycline
        # questions
        assert len(r.stdout.splitlines()) < 3750

    def test_rules_list_the_interpretations_and_references(self) -> None:
        """The project's interpretations and the published references were listed in no
        format, so the numbered interpretations could not be audited from the listing:
        the text now has a table of each (I1 high risk; I9 the S27 alert scaled to the
        evidence of malignancy; I24, applied per patient, cited by no record), and a
        record's provenance names its interpretations (the residual-tumour alert: S27
        read by I9)."""
        r = pecoma("rules")
        assert r.returncode == 0, r.stderr
        text = " ".join(r.stdout.split("Interpretations: the project's reading")[1].split())
        for i in range(1, 25):
            assert f"I{i} " in text
        assert "High risk" in text and "Evidence of malignancy" in text
        assert _last_cell(r.stdout, "I24").startswith("no record: cited on an item")
        refs = " ".join(r.stdout.split("Published references of supplementary")[1].split())
        for short in ("Folpe et al. 2005", "Bennett et al. 2018", "Argani et al. 2010",
                      "ESMO-EURACAN-GENTURIS 2021", "WHO Classification 2020"):
            assert short in refs
        assert "2005;29(12):1558-1575" in "".join(refs.split())
        assert (_last_cell(r.stdout, "ALERT-INCOMPLETE-RESECTION")
                == "guideline S27 · ref [4] · interpretation I9")

    def test_rules_json_holds_the_interpretations_and_references(self) -> None:
        """The JSON had only the records, missing facts and statements; it now holds what
        the web service's /api/v1/rules holds (one listing): the interpretations with
        their titles and texts (I1-I31: I31 the imaging at every high-risk visit), and
        the 9 published references with full citations."""
        data = json.loads(pecoma("rules", "--format", "json").stdout)
        assert len(data["interpretations"]) == 31
        assert data["interpretations"]["I3"]["title"] == "Low-risk schedule"
        assert data["interpretations"]["I12"]["text"].startswith(
            "The guideline names chest CT and MRI of the primary site for high-risk "
            "patients only")
        assert data["references"]["esmo2021"]["short"] == "ESMO-EURACAN-GENTURIS 2021"
        assert "Ann Oncol. 2021;32(11):1348-1365" in data["references"]["esmo2021"]["citation"]
        assert len(data["references"]) == 9

    def test_rules_json_is_the_web_service_s_listing(self) -> None:
        from fastapi.testclient import TestClient

        from pecoma.web.app import create_app
        from pecoma.web.config import WebConfig

        api = TestClient(create_app(WebConfig()), base_url="http://localhost")
        assert json.loads(pecoma("rules", "-f", "json").stdout) == api.get(
            "/api/v1/rules").json()

    def test_rules_markdown_is_markdown(self) -> None:
        """``-f markdown`` was accepted and printed the text table: now a Markdown
        document with the statements, records, interpretations and references."""
        r = pecoma("rules", "-f", "markdown")
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("# pecoma knowledge ")
        for heading in ("## Guideline statements", "## Records (", "## Interpretations",
                        "### I9 Evidence of malignancy and the level of the S27 alert",
                        "## Published references of supplementary knowledge"):
            assert heading in r.stdout
        assert "┃" not in r.stdout and "│" not in r.stdout
        assert ("| `SUPP-TFE3` | alert (warning) | **TFE3-positive PEComa** "
                in r.stdout)
        tfe3 = next(line for line in r.stdout.splitlines() if "| `SUPP-TFE3` |" in line)
        assert tfe3.endswith("| published evidence, not guideline | supplementary (not "
                             "from the guideline) · Argani et al. 2010; Wagner et al. 2021 "
                             "(AMPECT) |")

    def test_rules_refuse_a_format_they_do_not_write(self) -> None:
        r = pecoma("rules", "-f", "pdf")
        assert r.returncode == 2 and r.stdout == ""
        assert all(f in r.stderr for f in ("'text'", "'json'", "'markdown'")), r.stderr

    def test_rules_quote_the_settings_in_force(self, tmp_path: Path) -> None:
        """With visits every 4 months in the first years (S18 allows 3-4), the listed
        schedule record says 4, as the plans drawn with the same file do; without the file
        it says the default 3."""
        f = tmp_path / "s.toml"
        f.write_text("[followup]\nhigh_intensive_due_months = 4\n"
                     "high_intensive_overdue_months = 4\n")

        def schedule_texts(*args: str) -> list[str]:
            r = pecoma("rules", "--format", "json", *args)
            assert r.returncode == 0, r.stderr
            return [rec["text"] for rec in json.loads(r.stdout)["records"]
                    if "during the first" in rec["text"]]

        assert any("every 4 months (overdue after 4)" in t
                   for t in schedule_texts("--settings", str(f)))
        assert any("every 3 months" in t for t in schedule_texts())

    def test_rules_refuse_settings_outside_the_guideline(self, tmp_path: Path) -> None:
        """Visits every 6 months in the first years are not S18's 3-4 months: refused
        naming the setting, as `assess` refuses the same file."""
        f = tmp_path / "six.toml"
        f.write_text("[followup]\nhigh_intensive_due_months = 6\n")
        r = pecoma("rules", "--settings", str(f))
        assert r.returncode == 5 and r.stdout == ""
        assert "high_intensive_due_months" in r.stderr and "Traceback" not in r.stderr

    @pytest.mark.parametrize("fmt", ["text", "json"])
    def test_demo_runs_every_example(self, fmt: str) -> None:
        r = pecoma("demo", "--format", fmt)
        assert r.returncode == 0, r.stderr
        if fmt == "text":
            assert r.stdout.count("example:") == 6

    def test_demo_only_unknown_name(self) -> None:
        r = pecoma("demo", "--only", "nothing")
        assert r.returncode == 2
        assert "high-risk-uterine" in r.stderr

    def test_version(self) -> None:
        r = pecoma("version")
        assert r.returncode == 0 and "knowledge" in r.stdout


def test_markup_in_user_values_is_printed_not_interpreted(tmp_path: Path) -> None:
    """A value that looks like terminal markup comes back verbatim, not as a crash."""
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"tumour": {"primary_site": "[/x] [bold]"},
                               "stage": {"status": "localized"}}))
    r = pecoma("assess", str(bad))
    assert r.returncode == 3
    assert "[/x] [bold]" in r.stderr
    assert "Traceback" not in r.stderr


def test_serve_help_names_the_cds_and_smart_tables() -> None:
    """`pecoma serve --help` had shown "auth, , , …": Rich read [web.cds] and [web.smart]
    as markup tags and dropped them, so an integrator switching on CDS Hooks or the SMART
    launch was not told the two tables that configure them."""
    r = run_cli("serve", "--help", columns=400)
    assert r.returncode == 0, r.stderr
    said = " ".join(r.stdout.split())
    assert "a [web] table (host, port, database_url, auth, [web.cds], [web.smart], …" in said


def test_no_help_text_loses_words_to_markup() -> None:
    """Every command's and option's help, rendered as Rich renders it, keeps every word
    of its text: a bracketed word that is no markup is written escaped (\\[...])."""
    import typer
    from rich.text import Text

    from pecoma.cli import app

    root: Any = typer.main.get_command(app)

    def walk(cmd: Any, ctx: Any) -> Any:
        yield ctx.command_path, cmd
        if hasattr(cmd, "list_commands"):  # a group
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                yield from walk(sub, sub.context_class(sub, parent=ctx, info_name=name))

    lost = [(where, text[:80])
            for where, cmd in walk(root, root.context_class(root, info_name="pecoma"))
            for text in [cmd.help or "", *(getattr(p, "help", None) or "" for p in cmd.params)]
            if Text.from_markup(text).plain != text.replace("\\[", "[")]
    assert lost == []


def test_settings_copy_gets_its_own_fingerprint() -> None:
    from pecoma.settings import default_settings

    s = default_settings()
    copied = s.model_copy(update={"followup": s.followup.model_copy(update={"horizon_years": 12})})
    assert s.fingerprint != copied.fingerprint == copied.digest()


class TestInternalErrors:
    """An unexpected error prints a friendly message; ``--debug`` or ``PECOMA_DEBUG=1``
    adds the traceback (issue 14, defect 10)."""

    @staticmethod
    def run_broken(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                   *extra: str) -> str:
        from pecoma.cli import core, main

        def broken(*_args: object, **_kwargs: object) -> None:
            raise KeyError("a defect")

        monkeypatch.setattr(core, "assess", broken)
        case = str(HIGH)
        monkeypatch.setattr(sys, "argv", ["pecoma", "assess", case, "--on", "2026-11-28",
                                          *extra])
        with pytest.raises(SystemExit) as stop:
            main()
        assert stop.value.code == 1
        return capsys.readouterr().err

    def test_without_debug_no_traceback(self, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
        monkeypatch.delenv("PECOMA_DEBUG", raising=False)
        err = self.run_broken(monkeypatch, capsys)
        assert "internal error" in err and "KeyError" in err
        assert "--debug" in err  # says how to get the traceback
        assert "Traceback" not in err

    def test_debug_flag_prints_the_traceback(self, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
        monkeypatch.delenv("PECOMA_DEBUG", raising=False)
        err = self.run_broken(monkeypatch, capsys, "--debug")
        assert "internal error" in err
        assert "Traceback (most recent call last)" in err
        assert "KeyError: 'a defect'" in err
        assert "def broken" in err or "in broken" in err

    def test_debug_environment_variable(self, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
        monkeypatch.setenv("PECOMA_DEBUG", "1")
        err = self.run_broken(monkeypatch, capsys)
        assert "Traceback (most recent call last)" in err


class TestDeeplyNestedJson:
    """A 10,000-deep JSON document is an input error naming the document (exit 3), never
    "internal error: RecursionError" (issue 14, defect 7)."""

    @pytest.mark.parametrize("command", [
        ("assess",), ("followup",), ("fhir", "to-case"),
        ("registry", "add-case", "PEC-0001"),
    ])
    def test_each_command(self, tmp_path: Path, command: tuple[str, ...]) -> None:
        deep = tmp_path / "deep.json"
        deep.write_text("[" * 10_000 + "]" * 10_000)
        extra = (("--database-url", f"sqlite:///{tmp_path / 'r.sqlite3'}")
                 if command[0] == "registry" else ())
        done = pecoma(*command, str(deep), *extra, cwd=tmp_path)
        assert done.returncode == 3, done.stderr
        assert "internal error" not in done.stderr
        assert "nested less deeply" in done.stderr

    def test_deep_imaging_history(self, tmp_path: Path) -> None:
        deep = tmp_path / "deep.json"
        deep.write_text("[" * 10_000 + "]" * 10_000)
        done = pecoma("followup", str(HIGH), "--imaging", str(deep), cwd=tmp_path)
        assert done.returncode == 3, done.stderr
        assert "nested less deeply" in done.stderr
