"""The board's workflow through the HTTP application, on SQLite and PostgreSQL: a report's
own address (post/redirect/get), saving it to the registry, importing a file, and the
board's decision about each recommendation of a stored assessment.

The patient fixtures are the registry's hand-written cases (``registry_support``): a
high-risk uterine PEComa, R0 resected (recommendations REC-RESECTION-DONE, RISK-ASSESS,
REC-REFER-TRIALS), and a metastatic one (REC-MTOR-FIRST-LINE first).
"""

from __future__ import annotations

import html
import io
import re
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from pecoma.errors import InputError
from pecoma.registry.decisions import check_decision
from pecoma.registry.importer import import_file
from pecoma.registry.service import record_case
from pecoma.settings import default_settings
from pecoma.store import Repository
from pecoma.store.decisions import (
    DecisionConflict,
    DecisionData,
    patient_decisions,
    record_decision,
)
from pecoma.store.models import AuditEntry, BoardDecision
from pecoma.store.tokens import TokenStore
from pecoma.web.app import create_app
from pecoma.web.config import WebConfig
from pecoma.web.links import LinkSigner

from registry_support import ON, db_url, high_risk, metastatic, repo, rows_of, write_csv

__all__ = ["db_url", "repo"]

H = "PEC-0001"  # high risk, resected
M = "PEC-0003"  # metastatic


def plain(page: str) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def latest_assessment(repo: Repository, rid: str) -> int:
    state = repo.state(rid)
    assert state is not None and state.latest is not None
    return state.latest.id


@dataclass
class Server:
    client: TestClient
    repo: Repository
    tokens: dict[str, str]


@pytest.fixture
def server(repo: Repository) -> Iterator[Server]:
    for rid, case in ((H, high_risk()), (M, metastatic())):
        record_case(
            repo, rid, case, on_date=ON, settings=default_settings(), actor="clinic", source="test"
        )
    store = TokenStore(repo.engine)
    tokens = {}
    for role in ("reader", "clinician"):
        _info, tokens[role] = store.create(f"{role} one", role, "setup")
    app = create_app(WebConfig(auth="on", session_secret="s" * 40), today=lambda: ON)
    app.state.registry = repo
    with TestClient(app, follow_redirects=False, base_url="http://localhost") as c:
        yield Server(c, repo, tokens)


def bearer(server: Server, role: str = "clinician") -> dict[str, str]:
    return {"Authorization": f"Bearer {server.tokens[role]}"}


def rows(repo: Repository) -> list[BoardDecision]:
    with repo.engine.connect() as conn:
        return list(conn.execute(select(BoardDecision).order_by(BoardDecision.id)).all())


def decide(server: Server, rid: str, aid: int, role: str = "clinician", **form: str) -> Any:
    data = {
        "record_id": "REC-REFER-TRIALS",
        "decision": "accepted",
        "reason_code": "",
        "reason_text": "",
        "supersedes": "",
        **form,
    }
    return server.client.post(
        f"/registry/patients/{rid}/assessments/{aid}/decisions",
        data=data,
        headers=bearer(server, role),
    )


# --- the decision flow ------------------------------------------------------------------


class TestDecisionFlow:
    def test_record_supersede_show_and_print(self, server: Server) -> None:
        """From the patient page to the stored report, a decision, a changed decision
        (the first kept as history), the patient page and the PDF box."""
        repo = server.repo
        aid = latest_assessment(repo, H)
        patient = server.client.get(f"/registry/patients/{H}", headers=bearer(server))
        assert f'href="/registry/patients/{H}/assessments/{aid}"' in patient.text
        page = server.client.get(
            f"/registry/patients/{H}/assessments/{aid}", headers=bearer(server)
        )
        assert page.status_code == 200
        words = plain(page.text)
        assert "Decision of the board" in words
        # the three recommendations of a resected high-risk case, each with its form
        for rec in ("REC-RESECTION-DONE", "RISK-ASSESS", "REC-REFER-TRIALS"):
            assert f'id="decision-{rec}"' in page.text
        assert f'href="/registry/patients/{H}"' in page.text  # back to the patient

        r = decide(
            server,
            H,
            aid,
            decision="declined",
            reason_code="patient-preference",
            reason_text="prefers to wait until after the summer",
        )
        assert r.status_code == 303
        assert r.headers["location"].startswith(f"/registry/patients/{H}/assessments/{aid}")
        first = rows(repo)
        assert len(first) == 1
        d = first[0]
        pid = repo.state(H).patient_id  # type: ignore[union-attr]
        assert (
            d.source,
            d.patient_id,
            d.assessment_id,
            d.record_id,
            d.decision,
            d.reason_code,
            d.decided_by,
        ) == (
            "board",
            pid,
            aid,
            "REC-REFER-TRIALS",
            "declined",
            "patient-preference",
            "token:2:clinician one",
        )
        r = decide(server, H, aid, decision="accepted", supersedes=str(d.id))
        assert r.status_code == 303
        both = rows(repo)
        assert [x.decision for x in both] == ["declined", "accepted"]
        assert both[1].supersedes == d.id and both[0].decision == "declined"  # kept
        views = patient_decisions(repo, H)
        assert [(v.decision, v.current) for v in views] == [("declined", False), ("accepted", True)]
        with repo.engine.connect() as conn:
            audit = conn.execute(
                select(AuditEntry.entity_id, AuditEntry.patient_id).where(
                    AuditEntry.entity == "board_decision"
                )
            ).all()
        assert sorted(audit) == [(both[0].id, pid), (both[1].id, pid)]
        # the registry's export carries both (it had no decisions: a registry moved
        # through it lost the board's record)
        exported = repo.export()["board_decisions"]
        assert [(x["registry_id"], x["record_id"], x["decision"], x["reason_code"],
                 x["supersedes"]) for x in exported] == [
            (H, "REC-REFER-TRIALS", "declined", "patient-preference", None),
            (H, "REC-REFER-TRIALS", "accepted", None, exported[0]["id"])]
        assert {x["case_version"] for x in exported} == {repo.state(H).version}  # type: ignore[union-attr]

        page = plain(
            server.client.get(
                f"/registry/patients/{H}/assessments/{aid}", headers=bearer(server)
            ).text
        )
        assert "Accepted · by token:2:clinician one" in page
        assert "Earlier decisions (1)" in page
        patient = plain(server.client.get(f"/registry/patients/{H}", headers=bearer(server)).text)
        assert ("1 decision recorded: Refer to a sarcoma reference centre; offer a trial or "
                "registry: accepted") in patient  # named by its title

        pdf = server.client.get(
            f"/registry/patients/{H}/assessments/{aid}/report.pdf", headers=bearer(server)
        )
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        from io import BytesIO

        from pypdf import PdfReader

        pdf_text = " ".join(
            " ".join(p.extract_text() or "" for p in PdfReader(BytesIO(pdf.content)).pages).split()
        )
        assert "Decision of the board" in pdf_text
        assert "Accepted" in pdf_text and "clinician one" in pdf_text

    def test_the_stored_reports_pdf_button_gives_the_boards_record(
        self, server: Server
    ) -> None:
        """On a stored assessment with a decision recorded, the main "Download PDF"
        button gives the PDF with the decision in its box (it had posted the case to
        /report.pdf and given the box empty, as if the board had not decided); the PDF
        with the box left blank is still there, labelled as not the board's record. A
        reader gets the same button and the same PDF."""
        aid = latest_assessment(server.repo, H)
        r = decide(server, H, aid, decision="declined", reason_code="patient-preference",
                   reason_text="prefers to wait until after the summer")
        assert r.status_code == 303
        for role in ("clinician", "reader"):
            page = server.client.get(f"/registry/patients/{H}/assessments/{aid}",
                                     headers=bearer(server, role)).text
            downloads = page.split('class="downloads')[1].split("</section>")[0]
            pdfs = re.findall(r'<form method="(\w+)" action="([^"]+)">(?:(?!</form>).)*?'
                              r'<button type="submit"( class="secondary")?>(Download PDF[^<]*)'
                              r"</button>", downloads, re.S)
            method, action, secondary, label = pdfs[0]
            assert (method, action, secondary) == (
                "get", f"/registry/patients/{H}/assessments/{aid}/report.pdf", ""), role
            assert "board's decisions" in html.unescape(label)
            blank = [html.unescape(x[3]) for x in pdfs[1:] if x[1] == "/report.pdf"]
            assert blank == ["Download PDF with the decision box left blank (not the board's "
                             "record)"], role
            pdf = server.client.get(action, headers=bearer(server, role))
            assert pdf.status_code == 200, role
            from io import BytesIO

            from pypdf import PdfReader

            words = " ".join(" ".join(
                p.extract_text() or "" for p in PdfReader(BytesIO(pdf.content)).pages).split())
            box = words.split("Decision of the board")[-1]
            assert f"Patient {H} · current decisions recorded in the registry" in box, role
            assert "Declined" in box and "prefers to wait until after the summer" in box

    def test_every_download_of_a_stored_report_carries_its_scan_history(
        self, server: Server
    ) -> None:
        """A patient with no scan recorded: the downloads of the stored assessment post the
        scan history the page was drawn with, none ("[]"), never nothing, which reads as no
        history given (I13) and had made the blank-box PDF say the scan history was not
        given and move the overdue first visit to "due now"."""
        aid = latest_assessment(server.repo, H)
        page = server.client.get(f"/registry/patients/{H}/assessments/{aid}",
                                 headers=bearer(server, "clinician")).text
        downloads = page.split('class="downloads')[1].split("</section>")[0]
        posted = re.findall(r'<input type="hidden" name="imaging" value="([^"]*)">', downloads)
        assert posted and all(html.unescape(v) == "[]" for v in posted), posted

    def test_another_patients_assessment_is_refused(self, server: Server) -> None:
        """Hazard: a decision filed under the wrong patient. The assessment number of M's
        assessment under H's address is refused, and nothing is written."""
        other = latest_assessment(server.repo, M)
        r = decide(server, H, other, record_id="REC-MTOR-FIRST-LINE")
        assert r.status_code == 404
        assert rows(server.repo) == []
        with pytest.raises(InputError) as exc:
            record_decision(
                server.repo, H, other, DecisionData("REC-MTOR-FIRST-LINE", "accepted"), "x", None
            )
        assert exc.value.issues[0].path == "assessment"

    def test_a_recommendation_the_assessment_did_not_make(self, server: Server) -> None:
        """Hazard: a decision recorded against the wrong recommendation. REC-MTOR-FIRST-
        LINE is a metastatic patient's; H's assessment never made it."""
        aid = latest_assessment(server.repo, H)
        r = decide(server, H, aid, record_id="REC-MTOR-FIRST-LINE")
        assert r.status_code == 422
        assert ("The decision was not recorded: 1 problem The decision: Is not a "
                "recommendation of this assessment (entered: 'REC-MTOR-FIRST-LINE'): reload "
                "the page and decide again.") in html.unescape(plain(r.text))
        assert rows(server.repo) == []

    @pytest.mark.parametrize(
        ("form", "label", "control", "words"),
        [
            (
                {"decision": "declined"},
                "Reason", "reason-REC-REFER-TRIALS",
                "Required to decline: choose the reason.",
            ),
            ({"decision": "maybe"}, "Decision", "decision-value-REC-REFER-TRIALS-accepted",
             "Must be one of Accepted, Declined, Deferred — entered: 'maybe'."),
            ({"decision": ""}, "Decision", "decision-value-REC-REFER-TRIALS-accepted",
             "Required: choose one of Accepted, Declined, Deferred."),
            (
                {"decision": "deferred", "reason_code": "astrology"},
                "Reason", "reason-REC-REFER-TRIALS",
                "Must be one of the reasons listed — entered: 'astrology'.",
            ),
            (
                {"decision": "declined", "reason_code": "other"},
                "In the team's words", "reason-text-REC-REFER-TRIALS",
                "Required when the reason is “Other”: say in the team's words what it is.",
            ),
            ({"reason_text": "x" * 1001}, "In the team's words", "reason-text-REC-REFER-TRIALS",
             "Must be at most 1000 characters — entered: 1001 characters."),
        ],
    )
    def test_bad_input_names_the_field(
        self, server: Server, form: dict[str, str], label: str, control: str, words: str
    ) -> None:
        """Refused: the page's title says "Error:", the summary at the top names the
        recommendation by its title and the field by its label, linking to it; the message
        stands next to the field of the form that failed (REC-REFER-TRIALS, the third),
        which is marked invalid and described by it; no field name or code is shown."""
        aid = latest_assessment(server.repo, H)
        r = decide(server, H, aid, **form)
        assert r.status_code == 422
        page = html.unescape(r.text)
        assert re.search(r"<title>Error: ", page)
        top = page.index('id="error-summary"')
        assert top < page.index('id="summary-title"')
        summary = page[top:page.index("</section>", top)]
        assert ("The decision about “Refer to a sarcoma reference centre; offer a trial or "
                "registry” was not recorded: 1 problem") in summary
        assert f'<a href="#{control}">{label}</a>: {words}' in summary
        failed = page[page.index('id="decision-REC-REFER-TRIALS"'):]
        failed = failed[:failed.index('class="decision" id=') if 'class="decision" id=' in
                        failed else len(failed)]
        assert f'id="{control}"' in failed and f"<span>{words}</span>" in failed
        tag = re.search(rf'<[a-z]+ [^>]*id="{control}"[^>]*>', failed)
        assert tag is not None and 'aria-invalid="true"' in tag.group()
        assert re.search(r'aria-describedby="([^"]+)"', tag.group()) is not None
        others = page[page.index('id="decision-REC-RESECTION-DONE"'):
                      page.index('id="decision-REC-REFER-TRIALS"')]
        assert "field-error" not in others and "aria-invalid" not in others
        text = plain(r.text)
        for code in ("reason_code", "reason_text", "(got", "(missing)"):
            assert code not in text
        assert rows(server.repo) == []

    def test_a_changed_form_is_refused_on_its_form(self, server: Server) -> None:
        aid = latest_assessment(server.repo, H)
        r = decide(server, H, aid, supersedes="first")
        assert r.status_code == 422
        failed = html.unescape(r.text[r.text.index('id="decision-REC-REFER-TRIALS"'):])
        assert ("<span>Must be the number of the decision shown (entered: 'first'): reload "
                "the page and decide again.</span>") in failed
        assert rows(server.repo) == []

    def test_the_text_required_for_other_is_not_labelled_optional(
        self, server: Server
    ) -> None:
        aid = latest_assessment(server.repo, H)
        page = server.client.get(f"/registry/patients/{H}/assessments/{aid}",
                                 headers=bearer(server)).text
        label = re.search(r'<label for="reason-text-RISK-ASSESS">(.*?)</label>', page)
        assert label is not None
        assert html.unescape(label.group(1)) == (
            "In the team's words (required when the reason is Other; no names)")

    def test_unknown_patient_or_assessment(self, server: Server) -> None:
        assert decide(server, "PEC-9999", 1).status_code == 404
        assert decide(server, H, 99999).status_code == 404
        assert decide(server, H, "1x").status_code == 404  # type: ignore[arg-type]
        assert (
            server.client.get(
                f"/registry/patients/{H}/assessments/99999", headers=bearer(server)
            ).status_code
            == 404
        )
        assert rows(server.repo) == []

    def test_reader_cannot_write(self, server: Server) -> None:
        aid = latest_assessment(server.repo, H)
        r = decide(server, H, aid, role="reader")
        assert r.status_code == 403
        assert "clinician role" in r.text
        assert rows(server.repo) == []
        page = server.client.get(
            f"/registry/patients/{H}/assessments/{aid}", headers=bearer(server, "reader")
        )
        assert page.status_code == 200
        assert "decision-form" not in page.text  # no form offered to a reader

    def test_csrf_is_needed_with_a_session(self, server: Server) -> None:
        c = server.client
        c.post("/login", data={"token": server.tokens["clinician"], "next": "/registry"})
        aid = latest_assessment(server.repo, H)
        url = f"/registry/patients/{H}/assessments/{aid}/decisions"
        form = {"record_id": "REC-REFER-TRIALS", "decision": "accepted", "supersedes": ""}
        assert c.post(url, data=form).status_code == 403
        assert c.post(url, data={**form, "csrf_token": "forged"}).status_code == 403
        assert rows(server.repo) == []
        page = c.get(f"/registry/patients/{H}/assessments/{aid}").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert csrf is not None
        assert c.post(url, data={**form, "csrf_token": csrf[1]}).status_code == 303
        assert len(rows(server.repo)) == 1

    def test_stale_page_cannot_overwrite_a_newer_decision(self, server: Server) -> None:
        """Hazard: a decision lost on concurrent write. Two members open the page with no
        decision; the first records 'declined'; the second's 'accepted' (made without
        seeing it) is refused with 409 naming 'supersedes', and the first stays current."""
        aid = latest_assessment(server.repo, H)
        assert (
            decide(server, H, aid, decision="declined", reason_code="comorbidity").status_code
            == 303
        )
        r = decide(server, H, aid, decision="accepted", supersedes="")
        assert r.status_code == 409
        failed = html.unescape(plain(r.text[r.text.index('id="decision-REC-REFER-TRIALS"'):]))
        assert ("Another decision about this recommendation was recorded meanwhile (shown "
                "here now): read it and decide again.") in failed
        assert [x.decision for x in rows(server.repo)] == ["declined"]

    def test_append_only(self, server: Server) -> None:
        aid = latest_assessment(server.repo, H)
        decide(server, H, aid)
        for sql in (
            "UPDATE board_decision SET decision = 'declined'",
            "DELETE FROM board_decision",
        ):
            with pytest.raises(Exception, match="append-only"), server.repo.engine.begin() as conn:
                conn.execute(text(sql))
        assert [x.decision for x in rows(server.repo)] == ["accepted"]


def test_concurrent_writers_lose_nothing(repo: Repository) -> None:
    """Two writers at once, both having seen no decision: exactly one is stored, the
    other is told (DecisionConflict), never silently overwritten; on both databases."""
    record_case(
        repo, H, high_risk(), on_date=ON, settings=default_settings(), actor="clinic", source="test"
    )
    aid = latest_assessment(repo, H)
    results: list[str] = []
    barrier = threading.Barrier(2)

    def write(decision: str) -> None:
        barrier.wait()
        try:
            record_decision(
                repo,
                H,
                aid,
                check_decision("REC-REFER-TRIALS", decision, "team-judgement", ""),
                decision,
                None,
            )
            results.append("stored")
        except DecisionConflict:
            results.append("conflict")

    threads = [threading.Thread(target=write, args=(d,)) for d in ("accepted", "deferred")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "stored"]
    assert len(rows(repo)) == 1


# --- post/redirect/get ------------------------------------------------------------------


@pytest.fixture
def open_client() -> Iterator[TestClient]:
    app = create_app(WebConfig(session_secret="k" * 40, report_link_hours=2), today=lambda: ON)
    with TestClient(app, follow_redirects=False, base_url="http://localhost") as c:
        yield c


def example_form(client: TestClient) -> dict[str, str]:
    from test_web_pages import Page

    return Page(client.get("/?example=high-risk-uterine").text).values


class TestReportLink:
    def test_post_redirects_to_the_reports_own_address(self, open_client: TestClient) -> None:
        r = open_client.post("/report", data=example_form(open_client))
        assert r.status_code == 303
        where = r.headers["location"]
        assert where.startswith("/report/s/")
        page = open_client.get(where)
        assert page.status_code == 200
        words = plain(page.text)
        assert "Risk: high" in words
        assert "This report's address" in words and "Save to registry" in words
        again = open_client.get(where)  # reload: the same report, nothing re-posted
        assert plain(again.text) == words

    def test_bad_and_expired_links_say_so(self, open_client: TestClient) -> None:
        where = open_client.post("/report", data=example_form(open_client)).headers["location"]
        token = where.removeprefix("/report/s/")
        payload, sig = token.split(".")
        for bad in (
            payload[:-4] + "AAAA." + sig,
            payload + "." + sig[:-2],
            "x",
            "a.b.c",
            payload + "." + sig + "é",
            "A" * 13_000,
        ):
            r = open_client.get(f"/report/s/{bad}")
            assert r.status_code == 400, bad[:20]
            assert "This report link is not valid" in r.text
        other = LinkSigner("o" * 40, 3600).issue({"tumour": {}}, "2026-11-28", None)[0]
        assert open_client.get(f"/report/s/{other}").status_code == 400
        signer = LinkSigner("k" * 40, 2 * 3600)
        old, _ = signer.issue({"tumour": {"primary_site": "kidney"}}, "2026-11-28", None, now=0)
        r = open_client.get(f"/report/s/{old}")
        assert r.status_code == 410
        assert "valid for 2 hours" in plain(r.text)

    def test_a_signed_link_with_a_broken_case_is_a_clear_422(self, open_client: TestClient) -> None:
        """Signed by this server, but the case breaks a rule (e.g. a rule tightened since):
        the error names the field, never a 500."""
        signer = LinkSigner("k" * 40, 3600)
        token, _ = signer.issue(
            {"tumour": {"size": {"value": -3, "unit": "cm"}}}, "2026-11-28", None
        )
        r = open_client.get(f"/report/s/{token}")
        assert r.status_code == 422
        assert "tumour.size" in r.text

    def test_bad_form_is_answered_at_an_address_of_its_own(self, open_client: TestClient) -> None:
        """A refused case is the form again at a GET address (reloading it, or Back to it
        from the report made after the correction, re-posts nothing): the same
        messages, the typed value kept, 422."""
        values = example_form(open_client)
        values["tumour.size.value"] = "-2"
        r = open_client.post("/report", data=values)
        assert r.status_code == 303
        where = r.headers["location"]
        assert where.startswith("/form/s/")
        for _ in range(2):  # and again on reload
            page = open_client.get(where)
            assert page.status_code == 422
            assert "<title>Error: " in page.text
            assert 'value="-2"' in page.text
        # a form's address is not a report's
        token = where.removeprefix("/form/s/")
        assert open_client.get(f"/report/s/{token}").status_code == 400
        assert open_client.get(f"/form/s/{token[:-3]}").status_code == 400

    def test_edit_the_case_is_a_get_address(self, open_client: TestClient) -> None:
        """Report -> Edit the case -> assess -> Back: every page on the way is a GET."""
        where = open_client.post("/report", data=example_form(open_client)).headers["location"]
        report = open_client.get(where).text
        edit = f"{where}/edit"
        assert f'href="{edit}"' in report
        page = open_client.get(edit)
        assert page.status_code == 200
        from test_web_pages import Page

        assert Page(page.text).values == example_form(open_client)

    def test_add_a_row_without_javascript_redirects(self, open_client: TestClient) -> None:
        values = example_form(open_client)
        values["imaging[0].date"] = "2026-10-01"  # typed, kept as typed
        r = open_client.post("/form", data={**values, "_add": "imaging"})
        assert r.status_code == 303
        assert r.headers["location"].startswith("/form/s/")
        page = open_client.get(r.headers["location"])
        assert page.status_code == 200
        assert 'name="imaging[1].date"' in page.text  # the row added
        assert 'value="2026-10-01"' in page.text


# --- editing a stored case ----------------------------------------------------------------


class TestEditingAStoredCase:
    """A stored assessment's "Edit the case" opens the registry patient's case: it is
    registry data, so opening it needs what the stored page needs (a reader, in server
    mode), checked when it is opened, so a revoked token or a signed-out session ends it.
    A report's signed link (``/report/s/<token>``) carries an unsaved case and needs
    nothing while the assessment is open; it must never carry a registry case, which
    anyone holding the address could open, and read from the address itself, for the
    link's whole life."""

    @pytest.mark.parametrize("rid", [H, M])
    @pytest.mark.parametrize("role", ["reader", "clinician"])
    def test_the_stored_page_hands_out_no_open_link(
        self, server: Server, rid: str, role: str
    ) -> None:
        aid = latest_assessment(server.repo, rid)
        page = server.client.get(
            f"/registry/patients/{rid}/assessments/{aid}", headers=bearer(server, role)
        )
        assert page.status_code == 200
        assert "/report/s/" not in page.text and "/form/s/" not in page.text
        assert f'href="/registry/patients/{rid}/assessments/{aid}/edit"' in page.text

    @pytest.mark.parametrize(("rid", "diagnosed"), [(H, "2025-01-06"), (M, "2025-06-01")])
    def test_edit_needs_a_reader_when_opened(
        self, server: Server, rid: str, diagnosed: str
    ) -> None:
        from test_web_pages import Page

        aid = latest_assessment(server.repo, rid)
        edit = f"/registry/patients/{rid}/assessments/{aid}/edit"
        c = server.client
        r = c.get(edit)  # no credentials: sign in first, the case not shown
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login?next=")
        r = c.get(edit, headers=bearer(server, "reader"))  # a reader, as the page
        assert r.status_code == 200
        values = Page(r.text).values
        assert values["diagnosis.date"] == diagnosed  # the stored case, in the form
        TokenStore(server.repo.engine).revoke("reader one", "admin")
        r = c.get(edit, headers=bearer(server, "reader"))  # revoked: refused at once
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")

    def test_signing_out_ends_it(self, server: Server) -> None:
        c = server.client
        aid = latest_assessment(server.repo, H)
        edit = f"/registry/patients/{H}/assessments/{aid}/edit"
        assert c.post("/login", data={"token": server.tokens["reader"],
                                      "next": "/registry"}).status_code == 303
        page = c.get(f"/registry/patients/{H}/assessments/{aid}")
        assert page.status_code == 200
        assert c.get(edit).status_code == 200
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None
        assert c.post("/logout", data={"csrf_token": csrf[1]}).status_code == 303
        r = c.get(edit)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")

    @pytest.mark.parametrize("where", ["0", "999999", "x"])
    def test_no_such_assessment(self, server: Server, where: str) -> None:
        r = server.client.get(f"/registry/patients/{H}/assessments/{where}/edit",
                              headers=bearer(server, "reader"))
        assert r.status_code == 404
        r = server.client.get("/registry/patients/PEC-9999/assessments/1/edit",
                              headers=bearer(server, "reader"))
        assert r.status_code == 404

    def test_an_unsaved_cases_link_stays_open(self, server: Server) -> None:
        """The case form's own report link is unchanged: no credentials needed while the
        assessment is open (it carries what the caller typed, nothing of the registry)."""
        c = server.client
        where = c.post("/report", data=example_form(c)).headers["location"]
        assert where.startswith("/report/s/")
        assert c.get(where).status_code == 200
        assert c.get(f"{where}/edit").status_code == 200


# --- save to registry, import --------------------------------------------------------------


class TestWhatEachRoleIsOffered:
    def test_a_reader_is_not_offered_the_forms_that_change_the_registry(
        self, server: Server
    ) -> None:
        """As the decision forms, the scan/outcome forms and Import are not offered to a
        reader (their post would be refused 403, and what was typed lost)."""
        c = server.client
        for role, offered in (("reader", False), ("clinician", True)):
            page = c.get(f"/registry/patients/{H}", headers=bearer(server, role)).text
            assert ("Record a scan" in page) is offered, role
            assert ("Record an outcome" in page) is offered, role
            assert ('href="/registry/import"' in page) is offered, role
            for form in ("scan", "outcome"):
                text = c.get(f"/registry/patients/{H}/{form}", headers=bearer(server, role)).text
                assert (f'action="/registry/patients/{H}/{form}"' in text) is offered, role
                assert ("needs the clinician role" in text) is not offered, role

    def test_signed_out_the_report_says_saving_needs_signing_in(self, server: Server) -> None:
        c = server.client
        where = c.post("/report", data=example_form(c)).headers["location"]
        page = c.get(where).text
        assert "Save to registry" not in page
        assert "needs signing in" in page
        login = f'href="/login?next={where}"'
        assert login in page
        reader = c.get(where, headers=bearer(server, "reader")).text
        assert "needs the clinician role" in reader and login not in reader


class TestSaveAndImport:
    def test_save_a_linked_report(self, server: Server) -> None:
        c = server.client
        values = example_form(c)
        where = c.post("/report", data=values, headers=bearer(server)).headers["location"]
        token = where.removeprefix("/report/s/")
        assert "Save to registry" in c.get(where, headers=bearer(server)).text
        assert "Save to registry" not in c.get(where, headers=bearer(server, "reader")).text
        r = c.post(
            "/registry/save",
            data={"token": token, "registry_id": "PEC-0100"},
            headers=bearer(server, "reader"),
        )
        assert r.status_code == 403
        r = c.post(
            "/registry/save",
            data={"token": token, "registry_id": "Jane Doe"},
            headers=bearer(server),
        )
        assert r.status_code == 422
        assert "Registry id of the patient : Must be a pseudonymous registry code" in plain(
            r.text)
        assert server.repo.state("PEC-0100") is None
        r = c.post(
            "/registry/save",
            data={"token": token, "registry_id": "PEC-0100"},
            headers=bearer(server),
        )
        assert r.status_code == 303
        aid = latest_assessment(server.repo, "PEC-0100")
        assert r.headers["location"] == f"/registry/patients/PEC-0100/assessments/{aid}?saved=1"
        page = plain(c.get(r.headers["location"], headers=bearer(server)).text)
        assert "Saved to the registry." in page and "Risk: high" in page
        # the same patient spelt in lower case: refused on the page, naming the stored id
        # (it had become a second patient)
        r = c.post(
            "/registry/save",
            data={"token": token, "registry_id": "pec-0100"},
            headers=bearer(server),
        )
        assert r.status_code == 422
        assert ("Registry id of the patient : Differs only in letter case from the stored "
                "registry id 'PEC-0100'") in plain(r.text)
        assert server.repo.state("pec-0100") is None
        r = c.post(
            "/registry/save",
            data={"token": "forged.x", "registry_id": "PEC-0101"},
            headers=bearer(server),
        )
        assert r.status_code == 400 and server.repo.state("PEC-0101") is None

    @pytest.mark.parametrize("field", ["registry_id", "token"])
    def test_a_save_field_sent_twice_is_refused_and_nothing_stored(
        self, server: Server, field: str
    ) -> None:
        """Two patient ids (or two report links) in one save (a scripted or tampered
        post): which was meant is unknown, so nothing is stored and the field is named, as
        the scan, outcome and decision forms answer. The last id had been saved and the
        first dropped, without a word."""
        from urllib.parse import urlencode

        c = server.client
        where = c.post("/report", data=example_form(c), headers=bearer(server)).headers[
            "location"]
        token = where.removeprefix("/report/s/")
        pairs = [("token", token), ("registry_id", "PEC-0400"),
                 (field, "PEC-0401" if field == "registry_id" else token)]
        r = c.post("/registry/save", content=urlencode(pairs),
                   headers={**bearer(server), "Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 422
        assert f"'{field}' was sent more than once" in plain(r.text)
        assert server.repo.state("PEC-0400") is None and server.repo.state("PEC-0401") is None

    def test_save_is_as_of_the_servers_date_not_the_links(self, server: Server) -> None:
        """A report may be asked as of a later date (a what-if): the link carries that
        date. Saved to the registry, a case whose diagnosis and surgery lie after the
        server's date (ON, 2026-11-28) is refused naming the field, nothing stored, as an
        import or a scan dated after today is; it had been stored as of the link's date
        and shown not_evaluable on today's worklist."""
        c = server.client
        values = example_form(c)
        values.update({"diagnosis.date": "2030-01-05", "surgery.date": "2030-01-10",
                       "on": "2031-01-01"})
        r = c.post("/report", data=values, headers=bearer(server))
        assert r.status_code == 303, plain(r.text)
        token = r.headers["location"].removeprefix("/report/s/")
        r = c.post("/registry/save", data={"token": token, "registry_id": "PEC-0102"},
                   headers=bearer(server))
        assert r.status_code == 422
        page = plain(r.text)
        # named by the case form's label, never by its field path
        assert ("Date of diagnosis: Must not be after the evaluation date (2026-11-28) — "
                "entered: 2030-01-05.") in page
        assert "diagnosis.date" not in page
        assert 'aria-invalid' not in r.text.split('id="save-registry-id"')[1].split(">")[0]
        assert server.repo.state("PEC-0102") is None

    def test_a_refused_save_is_said_at_the_top_in_words(self, server: Server) -> None:
        """A name typed as the registry id: the page's title says "Error:", an error
        summary before the report's own summary names the field by its label and links to
        it, and the field is marked invalid and described by its message; no field path
        anywhere on the page. Nothing is stored."""
        c = server.client
        token = c.post("/report", data=example_form(c), headers=bearer(server)).headers[
            "location"].removeprefix("/report/s/")
        r = c.post("/registry/save", data={"token": token, "registry_id": "Anna Schmidt"},
                   headers=bearer(server))
        assert r.status_code == 422
        title = re.search(r"<title>(.*?)</title>", r.text, re.S)
        assert title is not None and title.group(1).startswith("Error: ")
        top = r.text.index('id="error-summary"')
        assert top < r.text.index('id="summary-title"')  # before the report's summary
        box = r.text[r.text.rindex("<section", 0, top):r.text.index("</section>", top)]
        assert 'tabindex="-1"' in box
        assert plain(box).startswith("Not saved to the registry: 1 problem")
        assert '<a href="#save-registry-id">Registry id of the patient</a>: Must be' in box
        assert ("Must be a pseudonymous registry code: 1-40 letters, digits, '-', '_' or "
                "'.'") in html.unescape(plain(box))
        assert "entered: 'Anna Schmidt'" in html.unescape(plain(box))
        field = re.search(r'<input id="save-registry-id"[^>]*>', r.text)
        assert field is not None
        assert 'aria-invalid="true"' in field.group()
        assert 'aria-describedby="save-registry-id-err"' in field.group()
        assert 'id="save-registry-id-err"' in r.text
        assert "registry_id" not in plain(r.text)
        assert server.repo.state("Anna Schmidt") is None

    def test_a_report_asked_for_an_earlier_date_is_saved_as_of_today(
        self, server: Server
    ) -> None:
        """A report asked as of 2026-01-01 and saved: the registry's assessment is dated
        the server's day (ON), as every registry write is."""
        c = server.client
        values = example_form(c)
        values["on"] = "2026-01-01"
        token = c.post("/report", data=values, headers=bearer(server)).headers[
            "location"].removeprefix("/report/s/")
        r = c.post("/registry/save", data={"token": token, "registry_id": "PEC-0103"},
                   headers=bearer(server))
        assert r.status_code == 303
        state = server.repo.state("PEC-0103")
        assert state is not None and state.latest is not None
        assert state.latest.evaluated_on == ON

    def test_import_page_reports_like_the_cli(self, server: Server, tmp_path: Path) -> None:
        """The same file through the page and through the importer the CLI uses: the same
        rejected cells; all or nothing writes nothing."""
        good, bad = rows_of({"PEC-0200": high_risk(), "PEC-0201": high_risk()})
        bad["tumour.size.value"] = "huge"
        path = write_csv(tmp_path / "board.csv", [good, bad])
        c = server.client
        c.post("/login", data={"token": server.tokens["clinician"], "next": "/registry"})
        form = c.get("/registry/import").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf is not None
        upload = {"file": ("board.csv", path.read_bytes(), "text/csv")}
        assert (
            c.post("/registry/import", files=upload, data={"mode": "all-or-nothing"}).status_code
            == 403
        )  # no CSRF
        r = c.post(
            "/registry/import", files=upload, data={"mode": "all-or-nothing", "csrf_token": csrf[1]}
        )
        assert r.status_code == 422
        page = plain(r.text)
        assert "Nothing was written" in page
        assert server.repo.state("PEC-0200") is None
        expected = import_file(
            server.repo, path, on_date=ON, settings=default_settings(), actor="x"
        )
        assert expected.issues
        for issue in expected.issues:
            assert f"{issue.row} {issue.column} {issue.value} {issue.rule}" in page
        r = c.post(
            "/registry/import", files=upload, data={"mode": "good-rows", "csrf_token": csrf[1]}
        )
        assert r.status_code == 200
        assert server.repo.state("PEC-0200") is not None
        assert server.repo.state("PEC-0201") is None

    def test_import_bad_requests(self, server: Server) -> None:
        c = server.client
        h = bearer(server)
        r = c.post("/registry/import", data={"mode": "all-or-nothing"}, headers=h)
        assert r.status_code == 422 and "&#39;file&#39; is required" in r.text
        r = c.post(
            "/registry/import", files={"file": ("x.pdf", b"%PDF", "application/pdf")}, headers=h
        )
        assert r.status_code == 422 and "must be a .csv or .xlsx file" in r.text
        r = c.post("/registry/import", files={"file": ("x.xlsx", b"not a zip", "x")}, headers=h)
        assert r.status_code == 422 and "&#39;file&#39;:" in r.text
        bomb = io.BytesIO()  # 47 kB that would unpack to 50 MB
        with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("xl/worksheets/sheet1.xml", b" " * (50 * 2**20))
        r = c.post("/registry/import", files={"file": ("x.xlsx", bomb.getvalue(), "x")},
                   headers=h)
        assert r.status_code == 422 and "more than 200 times" in r.text
        r = c.post(
            "/registry/import",
            files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")},
            data={"mode": "sometimes"},
            headers=h,
        )
        assert r.status_code == 422 and "&#39;mode&#39; must be" in r.text
        r = c.post(
            "/registry/import",
            files={"file": ("x.csv", b"a,b\n", "text/csv")},
            headers=bearer(server, "reader"),
        )
        assert r.status_code == 403


    def test_a_small_workbook_of_values_in_column_xfd_is_refused_row_by_row(
        self, server: Server
    ) -> None:
        """A workbook of a few kB whose rows each hold a value in column XFD (the last):
        its upload kept a server core busy for minutes (every row read 16,384 cells
        wide) before the refusal. Each row is refused, naming the row and column XFD;
        nothing is written."""
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = "cases"
        ws.append(["registry_id", "tumour.primary_site", "stage.status"])
        for row in range(2, 202):
            ws.cell(row=row, column=16384, value=1)
        out = io.BytesIO()
        wb.save(out)
        assert len(out.getvalue()) < 20_000
        r = server.client.post(
            "/registry/import", files={"file": ("x.xlsx", out.getvalue(), "x")},
            data={"mode": "all-or-nothing"}, headers=bearer(server))
        assert r.status_code == 422
        page = plain(r.text)
        assert "x.xlsx, sheet 'cases': 200 rows read, 0 good, 200 rejected" in page
        assert "201 (column 16384, XFD) 1 must be empty: the header row names " \
               "columns A to C only" in page

    @pytest.mark.parametrize("second", ["second.csv", "second.xlsx", ""])
    def test_two_files_in_one_request_are_refused_and_nothing_is_written(
        self, server: Server, second: str
    ) -> None:
        """A request carrying two 'file' parts had imported the last one alone and said
        nothing of the first (its patients silently missing): refused naming the field,
        as a form field sent twice is, and neither file is written."""
        a = b"registry_id,tumour.primary_site,stage.status\nPEC-0201,kidney,localized\n"
        b = b"registry_id,tumour.primary_site,stage.status\nPEC-0202,kidney,localized\n"
        r = server.client.post(
            "/registry/import",
            files=[("file", ("first.csv", a, "text/csv")), ("file", (second, b, "text/csv"))],
            data={"mode": "good-rows"},
            headers=bearer(server),
        )
        assert r.status_code == 422
        page = plain(r.text)
        assert "'file' was sent more than once" in page and "first.csv" in page
        assert "nothing was imported" in page
        assert server.repo.state("PEC-0201") is None
        assert server.repo.state("PEC-0202") is None

    def test_the_mode_sent_twice_is_refused(self, server: Server) -> None:
        a = b"registry_id,tumour.primary_site,stage.status\nPEC-0201,kidney,localized\n"
        r = server.client.post(
            "/registry/import",
            files=[("file", ("first.csv", a, "text/csv"))],
            data={"mode": ["good-rows", "all-or-nothing"]},
            headers=bearer(server),
        )
        assert r.status_code == 422
        assert "'mode' was sent more than once" in plain(r.text)
        assert server.repo.state("PEC-0201") is None


# --- hostile input ------------------------------------------------------------------------

from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_field = st.one_of(
    st.sampled_from(
        [
            "",
            "accepted",
            "declined",
            "deferred",
            "other",
            "REC-REFER-TRIALS",
            "RISK-ASSESS",
            "1",
            "0",
            "-1",
            "99999999999999999999",
        ]
    ),
    st.text(max_size=40),
)


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[Server]:
    from pecoma.store import open_registry

    r = open_registry(f"sqlite:///{tmp_path / 'fuzz.sqlite3'}")
    record_case(
        r, H, high_risk(), on_date=ON, settings=default_settings(), actor="clinic", source="test"
    )
    _info, token = TokenStore(r.engine).create("clinician one", "clinician", "setup")
    app = create_app(WebConfig(auth="on", session_secret="s" * 40), today=lambda: ON)
    app.state.registry = r
    with TestClient(app, follow_redirects=False, base_url="http://localhost") as c:
        yield Server(c, r, {"clinician": token})
    r.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(record=_field, decision=_field, code=_field, words=_field, seen=_field)
# a superscript or Arabic-Indic digit passes str.isdigit() but not int(): once a 500
@example(record="RISK-ASSESS", decision="accepted", code="", words="", seen="²")
@example(record="RISK-ASSESS", decision="accepted", code="", words="", seen="١")
def test_any_decision_form_is_stored_whole_or_refused(
    sqlite_server: Server, record: str, decision: str, code: str, words: str, seen: str
) -> None:
    """Whatever the form holds: 303 and exactly one more row, or a 4xx page and none;
    never a 500, never a row for a recommendation the assessment did not make."""
    aid = latest_assessment(sqlite_server.repo, H)
    before = len(rows(sqlite_server.repo))
    r = decide(
        sqlite_server,
        H,
        aid,
        record_id=record,
        decision=decision,
        reason_code=code,
        reason_text=words,
        supersedes=seen,
    )
    after = rows(sqlite_server.repo)
    if r.status_code == 303:
        assert len(after) == before + 1
        assert after[-1].record_id in ("REC-RESECTION-DONE", "RISK-ASSESS", "REC-REFER-TRIALS")
        assert after[-1].decision != "declined" or after[-1].reason_code
    else:
        assert r.status_code in (404, 409, 422), r.status_code
        assert len(after) == before


_LINK_APP = create_app(WebConfig(session_secret="k" * 40), today=lambda: ON)


@settings(max_examples=80, deadline=None)
@given(token=st.text(min_size=1, max_size=300).filter(lambda t: t not in (".", "..")))
def test_any_link_token_is_a_clear_page(token: str) -> None:
    """Any text where the token goes: a page saying the link is not valid, never a 500."""
    from urllib.parse import quote

    with TestClient(_LINK_APP, base_url="http://localhost") as c:
        r = c.get("/report/s/" + quote(token, safe=""))
    assert r.status_code in (400, 404), r.status_code
