"""Text that comes in holds only characters every store and output of pecoma can carry
(:data:`pecoma.text.TEXT_RULE`): a NUL or another control character (but tab, line feed
and carriage return) is refused as bad input where the text is read (every posted form,
every JSON body or file, every command-line argument, every imported cell), naming the
field, the same on SQLite and on PostgreSQL.

A NUL in a board decision's reason had been stored as it was on SQLite and, on
PostgreSQL (which cannot store it), answered 503 "registry database unavailable" and
logged as an outage: anyone could make the server report its database down.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest

from pecoma.case import parse_case
from pecoma.engine import assess
from pecoma.errors import InputError
from pecoma.jsonin import loads
from pecoma.registry.importer import import_file
from pecoma.registry.stored import assessment_data
from pecoma.settings import default_settings
from pecoma.store import StoreError
from pecoma.store.decisions import DecisionData, record_decision
from pecoma.store.repository import CaseSubmission, case_digest
from pecoma.text import TEXT_RULE, odd_text_at, shown, text_is_odd
from pecoma.web.api import json_body
from pecoma.web.problems import ApiProblem
from test_board import H, Server, decide, latest_assessment, plain, rows, server

from cli_support import run_cli
from registry_support import ON, db_url, high_risk, repo, rows_of, write_csv

__all__ = ["db_url", "repo", "server"]

# Each a character XML 1.0 cannot hold (PostgreSQL text cannot hold the first).
REFUSED = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\ufffe", "\uffff"]
# What a reason typed into a text area holds: line breaks of every system, tabs, accents.
ALLOWED = ["line one\r\nline two", "a\tb", "a\nb", "Größe é ✓", "\u00a0non-breaking"]


class TestTheRule:
    @pytest.mark.parametrize("char", [*REFUSED, "\ud800", "\udfff"])
    def test_refused_characters(self, char: str) -> None:
        assert text_is_odd(f"a{char}b")

    @pytest.mark.parametrize("text", [*ALLOWED, "\U0001F600", "\x7f", "\x85"])
    def test_allowed_text(self, text: str) -> None:
        """Tab, line feed, carriage return and every printable character, also beyond
        the basic plane; DEL and the C1 controls are text XML 1.0 holds."""
        assert not text_is_odd(text)

    def test_shown_escaped_and_found_in_nested_data(self) -> None:
        assert shown("a\x00b\ud800") == "'a\\x00b\\ud800'"
        assert odd_text_at({"a": [1, {"b": "x\x01"}]}) == ("a[1].b", "x\x01")
        assert odd_text_at({"k\x0b": 1}) == ("k\x0b", "k\x0b")
        assert odd_text_at({"a": ["fine\n"]}) is None


class TestBoardDecision:
    """On SQLite and PostgreSQL alike (the ``server`` fixture runs on both)."""

    @pytest.mark.parametrize("char", REFUSED)
    def test_a_control_character_in_the_reason_is_refused_on_the_form(
        self, server: Server, char: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        aid = latest_assessment(server.repo, H)
        with caplog.at_level(logging.WARNING):
            r = decide(server, H, aid, record_id="RISK-ASSESS", decision="declined",
                       reason_code="other", reason_text=f"a{char}b")
        assert r.status_code == 422, r.status_code
        page = plain(r.text)
        # named by its label, on the form of the recommendation it was about
        assert f"In the team's words : {TEXT_RULE[0].upper()}{TEXT_RULE[1:]}" in page
        assert ("The decision about “Stratify the risk before any adjuvant decision” was "
                "not recorded") in page
        assert 'aria-describedby="reason-text-RISK-ASSESS-err"' in r.text
        assert char not in r.text  # shown as its escape
        assert rows(server.repo) == []
        assert "unavailable" not in caplog.text

    @pytest.mark.parametrize("words", ALLOWED)
    def test_line_breaks_and_tabs_are_stored_as_typed(self, server: Server, words: str) -> None:
        aid = latest_assessment(server.repo, H)
        r = decide(server, H, aid, record_id="RISK-ASSESS", decision="declined",
                   reason_code="other", reason_text=words)
        assert r.status_code == 303
        [row] = rows(server.repo)
        assert row.reason_text == words.strip()

    @pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                             indirect=True)  # SQLite stores a NUL: nothing to refuse there
    def test_the_store_refuses_what_the_database_cannot_hold_as_input(
        self, server: Server
    ) -> None:
        """Behind the check where text comes in: a value PostgreSQL refuses is an input
        error, never 'cannot write to the registry' (read as the database down)."""
        assert server.repo.dialect == "postgresql"
        aid = latest_assessment(server.repo, H)
        data = DecisionData("RISK-ASSESS", "declined", "other", "a\x00b")
        with pytest.raises(InputError) as exc:
            record_decision(server.repo, H, aid, data, "clinic", None)
        assert not isinstance(exc.value, StoreError)
        assert rows(server.repo) == []


    @pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                             indirect=True)
    def test_a_value_the_database_refuses_is_named_by_its_table_and_column(
        self, server: Server
    ) -> None:
        """The backstop said only "(value): must be a value the registry can store
        (<the driver's message>)", naming no field, and the database's message may quote
        the value. It names the table and column (from the error's diagnostics, the bulk
        insert's context or the bound value of the refused shape) and the kind of value,
        never the value itself."""
        aid = latest_assessment(server.repo, H)
        nul = DecisionData("RISK-ASSESS", "declined", "other", "secret\x00words")
        with pytest.raises(InputError) as exc:
            record_decision(server.repo, H, aid, nul, "clinic", None)
        [issue] = exc.value.issues
        assert (issue.path, issue.value) == ("board_decision.reason_text", "(not shown)")
        assert "a character the database cannot store (a NUL)" in issue.rule
        assert "secret" not in str(exc.value)
        # a text longer than its column, in a bulk insert (COPY): an assessment whose
        # knowledge version no release has (assessment.knowledge_version holds 20)
        case = high_risk()
        a = assess(parse_case(case), ON, default_settings())
        data = replace(assessment_data(a, None, "case"), knowledge_version="v" * 25)
        with pytest.raises(InputError) as exc:
            server.repo.add_cases([CaseSubmission("PEC-0900", case, case_digest(case),
                                                  "test", data)], "clinic")
        [issue] = exc.value.issues
        assert issue.path == "assessment.knowledge_version"
        assert "a text longer than its column holds (character varying(20))" in issue.rule
        assert "vvvvv" not in str(exc.value)


class TestOtherForms:
    """Every form is read through one reader: the scan and outcome forms, the case form,
    saving to the registry, signing in."""

    @pytest.mark.parametrize(("path", "form"), [
        (f"/registry/patients/{H}/scan",
         {"performed_on": "2026-11-01", "modality": "chest_ct\x00",
          "finding": "no_evidence_of_disease"}),
        (f"/registry/patients/{H}/outcome",
         {"event": "last_contact", "date": "2026-11-01\x01", "vital_status": "alive"}),
        ("/report", {"label": "team\x00", "on": "2026-11-28"}),
        ("/registry/save", {"token": "x", "registry_id": "PEC-\x000009"}),
    ])
    def test_refused_naming_the_field(self, server: Server, path: str,
                                      form: dict[str, str]) -> None:
        r = server.client.post(path, data=form, headers={
            "Authorization": f"Bearer {server.tokens['clinician']}"})
        assert r.status_code == 422, (r.status_code, r.text[:300])
        page = plain(r.text)
        field = next(k for k, v in form.items() if text_is_odd(v))
        assert f"'{field}' {TEXT_RULE}" in page

    def test_a_patient_address_with_a_nul_is_no_outage(self, server: Server) -> None:
        """PostgreSQL refused the id in the query: that was a 500, not a page."""
        r = server.client.get("/registry/patients/PEC-%000001", headers={
            "Authorization": f"Bearer {server.tokens['reader']}"})
        assert r.status_code in (404, 422), r.status_code


class TestJsonAndFiles:
    @pytest.mark.parametrize("escape", ["\\u0001", "\\u000b", "\\u001f", "\\ufffe", "\\b",
                                        "\\f"])
    def test_a_json_body_with_an_escaped_control_character_is_refused(
        self, escape: str
    ) -> None:
        """A CDS Hooks feedback comment is stored: it had taken any control character
        but a NUL."""
        raw = ('{"feedback": [{"userComment": "a' + escape + 'b"}]}').encode()
        with pytest.raises(ApiProblem) as exc:
            json_body(raw)
        assert exc.value.status == 400
        assert exc.value.issues[0].path == "feedback[0].userComment"
        assert exc.value.issues[0].rule == TEXT_RULE

    def test_a_json_body_with_tabs_and_line_breaks_reads(self) -> None:
        assert json_body(b'{"c": "a\\tb\\r\\nc\\u0009"}') == {"c": "a\tb\r\nc\t"}

    def test_a_json_file_is_read_by_the_same_rule(self) -> None:
        with pytest.raises(InputError) as exc:
            loads('{"case": {"label": "x\\u0000y"}}', "case in c.json")
        [issue] = exc.value.issues
        assert (issue.path, issue.value, issue.rule) == ("case.label", "'x\\x00y'", TEXT_RULE)
        assert loads('{"a": "x\\ny"}', "c.json") == {"a": "x\ny"}

    @pytest.mark.parametrize("char", ["\x00", "\x01", "\x1f"])
    def test_an_imported_cell_names_its_row_column_and_the_rule(
        self, repo: object, tmp_path: Path, char: str
    ) -> None:
        [row] = rows_of({"PEC-0100": high_risk()})
        row["surgery.margin"] = f"R{char}0"
        path = write_csv(tmp_path / "cells.csv", [row])
        report = import_file(repo, path, on_date=ON, settings=default_settings(),  # type: ignore[arg-type]
                             actor="import")
        assert [(i.row, i.column, i.rule) for i in report.issues][:1] == [
            (2, "surgery.margin", TEXT_RULE)]
        assert report.written is None


    @pytest.mark.parametrize("char", ["\x00", "\x0b", "\x1c", "\x1f"])
    def test_a_header_cell_names_its_position_and_the_rule(
        self, repo: object, tmp_path: Path, char: str
    ) -> None:
        """A header cell was never read by the text rule: 'stage.status' followed by
        \x0b, \x1c or \x1f lost the character when the cell was trimmed and imported as
        if clean; with \x00 the report printed the character itself in the column's
        name. Refused now, by position (its text cannot name it), the text shown escaped,
        nothing written."""
        path = tmp_path / "head.csv"
        path.write_text(f"registry_id,tumour.primary_site,stage.status{char}\n"
                        "PEC-0100,kidney,localized\n", encoding="utf-8")
        report = import_file(repo, path, on_date=ON, settings=default_settings(),  # type: ignore[arg-type]
                             actor="import")
        assert [(i.row, i.column, i.value, i.rule) for i in report.issues] == [
            (1, "(column 3, C)", shown(f"stage.status{char}"), TEXT_RULE),
            (1, "stage.status", "(missing)", "is a required column"),
        ]
        assert report.written is None and not text_is_odd("\n".join(report.lines()))


class TestCommandLine:
    @pytest.mark.parametrize("args", [
        ["token", "create", "--role", "reader", "--name", "desk\x01"],
        ["token", "create", "--role", "reader", "--name=desk\x1b[2J"],
    ])
    def test_an_argument_with_a_control_character_is_refused_naming_it(
        self, args: list[str], tmp_path: Path
    ) -> None:
        r = run_cli(*args, "--database-url", f"sqlite:///{tmp_path / 'r.sqlite3'}")
        assert r.returncode == 3, r.stderr
        assert "--name:" in r.stderr and "must be plain text" in r.stderr
        assert not (tmp_path / "r.sqlite3").exists()  # refused before anything ran


def test_every_form_is_read_by_the_one_reader() -> None:
    """A route reading its form past :func:`pecoma.web.form_input.read_form` would take
    any text again. (The guard reading a multipart form's CSRF token only compares it.)"""
    web = Path(__file__).resolve().parent.parent / "src" / "pecoma" / "web"
    readers = sorted(str(p.relative_to(web)) for p in web.rglob("*.py")
                     if "request.form()" in p.read_text(encoding="utf-8"))
    assert readers == ["auth.py", "form_input.py"]
