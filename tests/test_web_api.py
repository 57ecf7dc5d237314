"""The JSON API (/api/v1), in-process: every endpoint, every kind of bad input."""

from __future__ import annotations

import datetime as dt
import json
import logging
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pecoma.case import Case
from pecoma.errors import ConfigError
from pecoma.knowledge import STATEMENT_IDS
from pecoma.web import WebConfig, create_app

ON = dt.date(2026, 11, 28)
PROBLEM = "application/problem+json"
JSON_TYPE = {"content-type": "application/json"}


def example(name: str) -> dict[str, Any]:
    text = resources.files("pecoma").joinpath(f"examples/{name}.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(WebConfig(), today=lambda: ON), raise_server_exceptions=False, base_url="http://localhost")


def assert_problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:pecoma:problem:")
    assert body["title"] and body["detail"]
    assert "Traceback" not in r.text
    return body


def paths(body: dict[str, Any]) -> set[str]:
    return {e["path"] for e in body.get("errors", [])}


class TestService:
    def test_healthz(self, client: TestClient) -> None:
        """The health endpoint answers without touching any case."""
        r = client.get("/healthz")
        assert r.status_code == 200
        assert r.json()["status"] == "ok"

    def test_openapi_document(self, client: TestClient) -> None:
        """The OpenAPI document lists every endpoint and carries the case schema."""
        doc = client.get("/api/v1/openapi.json").json()
        for path in ("/api/v1/assess", "/api/v1/followup", "/api/v1/schema", "/api/v1/rules"):
            assert path in doc["paths"]
        schemas = doc["components"]["schemas"]
        assert {"Case", "Assessment", "Problem", "Tumour"} <= set(schemas)
        body = doc["paths"]["/api/v1/assess"]["post"]["requestBody"]["content"]
        assert "application/json" in body
        refs = json.dumps(doc)
        for ref in {part.split('"')[0] for part in refs.split("#/components/schemas/")[1:]}:
            assert ref in schemas, ref

    def test_no_documentation_pages_from_the_internet(self, client: TestClient) -> None:
        """The stock docs pages (which load assets from a CDN) are switched off."""
        assert client.get("/docs").status_code == 404
        assert client.get("/redoc").status_code == 404

    def test_security_headers(self, client: TestClient) -> None:
        r = client.get("/healthz")
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"


class TestSchemaAndRules:
    def test_schema_is_the_case_schema(self, client: TestClient) -> None:
        r = client.get("/api/v1/schema")
        assert r.status_code == 200
        assert r.json() == json.loads(json.dumps(Case.model_json_schema()))

    def test_rules_list_every_statement_and_record(self, client: TestClient) -> None:
        data = client.get("/api/v1/rules").json()
        assert tuple(sorted(data["statements"])) == STATEMENT_IDS
        assert data["records"] and all("provenance" in r for r in data["records"])
        assert data["intended_use"]


class TestAssess:
    def test_envelope(self, client: TestClient) -> None:
        """A high-risk case in an envelope with a date gives the assessment document."""
        r = client.post("/api/v1/assess", json={"case": example("high-risk-uterine"),
                                                "on": "2026-06-01"})
        assert r.status_code == 200, r.text
        a = r.json()
        assert a["format"] == "pecoma-assessment/1"
        assert a["evaluated_on"] == "2026-06-01"
        assert a["risk"]["group"] == "high"
        assert a["intended_use"]
        assert all(i["provenance"]["label"] for i in a["recommendations"])

    def test_bare_case_with_query_date(self, client: TestClient) -> None:
        r = client.post("/api/v1/assess?on=2026-01-02", json=example("metachronous-lung"))
        assert r.status_code == 200, r.text
        assert r.json()["evaluated_on"] == "2026-01-02"
        assert r.json()["disease_status"] == "metastatic"

    def test_date_defaults_to_the_servers_today(self, client: TestClient) -> None:
        r = client.post("/api/v1/assess", json={"case": example("low-risk-kidney")})
        assert r.json()["evaluated_on"] == ON.isoformat()

    def test_same_input_same_output(self, client: TestClient) -> None:
        body = {"case": example("indeterminate-retroperitoneal"), "on": "2026-11-28"}
        first = client.post("/api/v1/assess", json=body).content
        assert client.post("/api/v1/assess", json=body).content == first

    def test_unknown_is_not_absent(self, client: TestClient) -> None:
        """A case without histology reports the features as unknown, never absent."""
        case = {"tumour": {"primary_site": "kidney"}, "stage": {"status": "localized"}}
        a = client.post("/api/v1/assess", json={"case": case, "on": "2026-11-28"}).json()
        assert a["risk"]["group"] == "indeterminate"
        states = {f["id"]: f["state"] for f in a["risk"]["features"]}
        assert set(states.values()) == {"unknown"}
        assert a["missing"]


class TestBadInput:
    """Each kind of bad input gives problem+json naming the field; never a 500."""

    def test_wrong_type(self, client: TestClient) -> None:
        case = example("high-risk-uterine")
        case["tumour"]["size"]["value"] = "big"
        case["histology"]["necrosis"] = "maybe"
        body = assert_problem(client.post("/api/v1/assess", json={"case": case}), 422)
        assert {"case.tumour.size.value", "case.histology.necrosis"} <= paths(body)
        err = next(e for e in body["errors"] if e["path"] == "case.histology.necrosis")
        assert "'maybe'" in err["value"]
        assert "present" in err["rule"] and "unknown" in err["rule"]

    def test_bare_case_paths_have_no_prefix(self, client: TestClient) -> None:
        case = example("high-risk-uterine")
        case["histology"]["necrosis"] = "maybe"
        body = assert_problem(client.post("/api/v1/assess", json=case), 422)
        assert "histology.necrosis" in paths(body)

    def test_contradictory_case(self, client: TestClient) -> None:
        case = example("high-risk-uterine")
        case["stage"]["metastases"] = [{"site": "lung"}]
        body = assert_problem(client.post("/api/v1/assess", json={"case": case}), 422)
        assert "case.stage.metastases" in paths(body)

    def test_missing_required_field(self, client: TestClient) -> None:
        body = assert_problem(
            client.post("/api/v1/assess", json={"case": {"stage": {"status": "localized"}}}),
            422,
        )
        assert "case.tumour" in paths(body)

    def test_unknown_field(self, client: TestClient) -> None:
        case = example("low-risk-kidney")
        case["patient_name"] = "x"
        body = assert_problem(client.post("/api/v1/assess", json={"case": case}), 422)
        assert "case.patient_name" in paths(body)

    def test_unknown_envelope_field(self, client: TestClient) -> None:
        body = assert_problem(
            client.post("/api/v1/assess", json={"case": example("low-risk-kidney"), "x": 1}),
            422,
        )
        assert paths(body) == {"x"}

    def test_long_label_in_plain_words(self, client: TestClient) -> None:
        """The label's limit in characters, as the CLI and the form say it; the value
        shown is the length, not the text."""
        case = example("high-risk-uterine")
        case["label"] = "x" * 87
        body = assert_problem(client.post("/api/v1/assess", json={"case": case}), 422)
        (err,) = [e for e in body["errors"] if e["path"] == "case.label"]
        assert err["rule"] == "must be at most 80 characters"
        assert err["value"] == "87 characters"
        assert "items" not in json.dumps(body)

    def test_fact_after_the_evaluation_date(self, client: TestClient) -> None:
        body = assert_problem(
            client.post("/api/v1/assess",
                        json={"case": example("high-risk-uterine"), "on": "2024-01-01"}),
            422,
        )
        assert "case.diagnosis.date" in paths(body)

    @pytest.mark.parametrize("on", ["2026-13-01", "tomorrow", 20261128, None])
    def test_bad_date(self, client: TestClient, on: Any) -> None:
        payload: dict[str, Any] = {"case": example("low-risk-kidney"), "on": on}
        if on is None:
            r = client.post("/api/v1/assess?on=someday", json={"case": payload["case"]})
        else:
            r = client.post("/api/v1/assess", json=payload)
        assert paths(assert_problem(r, 422)) == {"on"}

    def test_two_different_dates(self, client: TestClient) -> None:
        r = client.post("/api/v1/assess?on=2026-01-01",
                        json={"case": example("low-risk-kidney"), "on": "2026-02-01"})
        assert paths(assert_problem(r, 422)) == {"on"}

    @pytest.mark.parametrize(
        "raw",
        [b"{", b'{"case": }', b"nonsense", b"\xff\xfe\x00", b"", b"   ", b"[" * 100_000],
        ids=["open-brace", "missing-value", "text", "not-utf8", "empty", "blank", "deep"],
    )
    def test_malformed_json(self, client: TestClient, raw: bytes) -> None:
        r = client.post("/api/v1/assess", content=raw,
                        headers={"content-type": "application/json"})
        assert_problem(r, 400)

    @pytest.mark.parametrize("path", ["/api/v1/assess", "/api/v1/followup"])
    def test_a_key_named_twice_is_refused(self, client: TestClient, path: str) -> None:
        """'tumour' twice in one object, the second without the size: the standard reader
        kept the last and assessed a tumour of unknown size, silently. The problem names
        where: the case's 'tumour'."""
        case = json.dumps(example("low-risk-kidney"))
        tumour = json.dumps(example("low-risk-kidney")["tumour"]["primary_site"])
        twice = case[:-1] + f', "tumour": {{"primary_site": {tumour}}}}}'
        raw = f'{{"case": {twice}, "on": "2026-11-28"}}'.encode()
        r = client.post(path, content=raw, headers=JSON_TYPE)
        body = assert_problem(r, 400)
        assert "'tumour'" in body["detail"] and "twice" in body["detail"]
        assert paths(body) == {"case.tumour"}

    @pytest.mark.parametrize("payload", [[], "case", 3, None])
    def test_not_an_object(self, client: TestClient, payload: Any) -> None:
        r = client.post("/api/v1/assess", content=json.dumps(payload), headers=JSON_TYPE)
        body = assert_problem(r, 422)
        assert paths(body) == {"(body)"}

    @pytest.mark.parametrize(
        "ctype", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None]
    )
    def test_wrong_content_type(self, client: TestClient, ctype: str | None) -> None:
        headers = {"content-type": ctype} if ctype else {}
        r = client.post("/api/v1/assess", content=json.dumps(example("low-risk-kidney")),
                        headers=headers)
        assert_problem(r, 415)

    def test_oversized_body(self, client: TestClient) -> None:
        case = example("low-risk-kidney")
        case["label"] = "x" * (300 * 1024)
        body = assert_problem(client.post("/api/v1/assess", json={"case": case}), 413)
        assert "262144" in body["detail"]

    def test_oversized_body_without_content_length(self, client: TestClient) -> None:
        """A streamed body is counted as it arrives, not trusted from its header."""
        chunks = (b"x" * 65536 for _ in range(8))
        r = client.post("/api/v1/assess", content=chunks,
                        headers={"content-type": "application/json"})
        assert_problem(r, 413)

    def test_limit_is_configurable(self) -> None:
        small = TestClient(create_app(WebConfig(max_body_bytes=2048), today=lambda: ON), base_url="http://localhost")
        case = example("high-risk-uterine")
        assert small.post("/api/v1/assess", json=case).status_code == 200
        case["label"] = "x" * 3000
        assert_problem(small.post("/api/v1/assess", json=case), 413)

    def test_unknown_endpoint_and_method(self, client: TestClient) -> None:
        assert_problem(client.get("/api/v1/nothing"), 404)
        assert_problem(client.get("/api/v1/assess"), 405)

    @settings(max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
            | st.text(max_size=12),
            lambda children: st.lists(children, max_size=4)
            | st.dictionaries(
                st.sampled_from(["case", "on", "tumour", "stage", "size", "status",
                                 "primary_site", "histology", "necrosis", "metastases"]),
                children,
                max_size=4,
            ),
            max_leaves=12,
        )
    )
    def test_never_a_server_error(self, client: TestClient, payload: Any) -> None:
        """Whatever JSON comes in, the answer is a result or a problem, never a 500."""
        r = client.post("/api/v1/assess", content=json.dumps(payload), headers=JSON_TYPE)
        assert r.status_code in (200, 400, 422), r.text
        if r.status_code != 200:
            assert r.headers["content-type"].startswith(PROBLEM)


class TestFollowup:
    def test_plan(self, client: TestClient) -> None:
        r = client.post("/api/v1/followup", json={"case": example("high-risk-uterine"),
                                                  "on": "2026-11-28"})
        assert r.status_code == 200, r.text
        plan = r.json()
        assert plan["format"] == "pecoma-surveillance-plan/1"
        assert plan["surveillance_group"] == "high"
        assert plan["visits"] and plan["next_visit"] is not None
        assert all(v["provenance"]["label"] for v in plan["visits"])

    def test_imaging_reanchors(self, client: TestClient) -> None:
        case = example("high-risk-uterine")
        base = client.post("/api/v1/followup", json={"case": case, "on": "2026-11-28"}).json()
        imaging = [{"date": "2025-04-20", "modality": "chest_ct",
                    "finding": "no_evidence_of_disease"},
                   {"date": "2025-04-20", "modality": "mri_primary"}]
        after = client.post("/api/v1/followup", json={"case": case, "on": "2026-11-28",
                                                      "imaging": imaging}).json()
        assert after["visits"][0]["status"] == "done"
        assert after["visits"] != base["visits"]

    def test_history_left_out_differs_from_an_empty_history(self, client: TestClient) -> None:
        """I13: without "imaging" the history is not given: no overdue visit, the missing
        fact, a visit due on 2026-11-28; with "imaging": [] the first visit (due
        2025-04-10, 3 months after surgery on 2025-01-10) is overdue."""
        case = example("high-risk-uterine")
        absent = client.post("/api/v1/followup", json={"case": case, "on": "2026-11-28"}).json()
        assert absent["history_missing"] is True
        assert [m["id"] for m in absent["missing"]] == ["MISS-SCAN-HISTORY"]
        assert absent["next_visit"]["due"] == "2026-11-28"
        assert not [v for v in absent["visits"] if v["status"] == "overdue"]
        empty = client.post("/api/v1/followup", json={"case": case, "on": "2026-11-28",
                                                      "imaging": []}).json()
        assert empty["history_missing"] is False and empty["missing"] == []
        assert empty["next_visit"]["due"] == "2025-04-10"
        assert empty["next_visit"]["status"] == "overdue"

    def test_bad_imaging(self, client: TestClient) -> None:
        imaging = [{"date": "2025-04-20", "modality": "x-ray of the soul"}]
        body = assert_problem(
            client.post("/api/v1/followup", json={"case": example("high-risk-uterine"),
                                                  "on": "2026-11-28", "imaging": imaging}),
            422,
        )
        assert paths(body) == {"imaging[0].modality"}

    def test_bad_case(self, client: TestClient) -> None:
        case = example("high-risk-uterine")
        case["surgery"]["margin"] = "R9"
        body = assert_problem(client.post("/api/v1/followup", json={"case": case}), 422)
        assert "case.surgery.margin" in paths(body)


class TestLogs:
    def test_no_patient_data_in_logs(
        self, client: TestClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Access logs name the route and status; never the label, a value or the body."""
        case = example("high-risk-uterine")
        case["label"] = "TEAM-LABEL-4711"
        with caplog.at_level(logging.DEBUG):
            client.post("/api/v1/assess", json={"case": case, "on": "2026-11-28"})
            case["histology"]["necrosis"] = "SECRET-VALUE"
            client.post("/api/v1/assess", json={"case": case})
            client.post("/report", data={"label": "TEAM-LABEL-4711", "on": "2026-11-28"})
        access = [r for r in caplog.records if r.name == "pecoma.web.access"]
        assert len(access) == 4  # the refused form is shown at its own address
        assert {getattr(r, "route", None) for r in access} == {
            "/api/v1/assess", "/report", "/form/s/{token}"}
        text = "\n".join(logging.Formatter("%(message)s %(args)s").format(r)
                         + json.dumps(r.__dict__, default=str) for r in caplog.records)
        assert "TEAM-LABEL-4711" not in text
        assert "SECRET-VALUE" not in text
        assert "leiomyosarcoma" not in text

    def test_route_fields_join_the_access_line_without_replacing_its_own(self) -> None:
        from pecoma.web.logs import ACCESS, access_extra, access_fields

        scope: dict[str, Any] = {}
        assert access_extra(scope) == {}
        access_fields(scope, service="pecoma-patient-view")
        access_fields(scope, cards=3, status=999, message="x", name="y")
        assert access_extra(scope) == {"service": "pecoma-patient-view", "cards": 3}
        # and the line is written (the logging module refuses to overwrite 'message')
        ACCESS.info("request", extra={"status": 200, **access_extra(scope)})

    def test_json_formatter(self) -> None:
        from pecoma.web.logs import JsonFormatter

        record = logging.makeLogRecord({"name": "pecoma.web.access", "msg": "request",
                                        "levelname": "INFO", "status": 200})
        line = json.loads(JsonFormatter().format(record))
        assert line["message"] == "request" and line["status"] == 200


class TestConfig:
    def test_defaults_bind_to_loopback(self) -> None:
        cfg = WebConfig.from_env({})
        assert cfg.host == "127.0.0.1" and cfg.port == 8000
        assert cfg.max_body_bytes == 256 * 1024

    def test_environment(self, tmp_path: Path) -> None:
        settings_file = tmp_path / "s.toml"
        # a setting the sources leave open (S10's sites beyond the broad ligament)
        settings_file.write_text(
            '[engine]\nhigh_risk_sites = ["broad_ligament", "retroperitoneum"]\n')
        cfg = WebConfig.from_env({"PECOMA_PORT": "9001", "PECOMA_SETTINGS": str(settings_file),
                                  "PECOMA_LOG_LEVEL": "warning"})
        assert cfg.port == 9001 and cfg.log_level == "warning"
        app = create_app(cfg)
        assert app.state.settings.engine.high_risk_sites == ("broad_ligament", "retroperitoneum")

    def test_file_then_environment(self, tmp_path: Path) -> None:
        f = tmp_path / "web.toml"
        f.write_text('[web]\nport = 9100\nhost = "0.0.0.0"\n')
        cfg = WebConfig.from_env({"PECOMA_WEB_CONFIG": str(f), "PECOMA_PORT": "9200"})
        assert cfg.host == "0.0.0.0" and cfg.port == 9200

    @pytest.mark.parametrize(
        "env",
        [{"PECOMA_PORT": "eighty"}, {"PECOMA_PORT": "70000"}, {"PECOMA_LOG_LEVEL": "loud"},
         {"PECOMA_WEB_CONFIG": "/nonexistent/web.toml"}],
    )
    def test_bad_config(self, env: dict[str, str]) -> None:
        with pytest.raises(ConfigError):
            WebConfig.from_env(env)

    def test_bad_settings_file_fails_at_start(self, tmp_path: Path) -> None:
        f = tmp_path / "s.toml"
        f.write_text("[engine]\nnot_a_setting = 1\n")
        with pytest.raises(ConfigError):
            create_app(WebConfig(settings=f))


class TestServeCommand:
    def test_help(self) -> None:
        from typer.testing import CliRunner

        from pecoma.cli import app

        result = CliRunner().invoke(app, ["serve", "--help"])
        assert result.exit_code == 0
        assert "--host" in result.output and "--port" in result.output

    def test_bad_environment_stops_before_serving(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A malformed setting is reported (exit 5 from `pecoma`), nothing is started."""
        from typer.testing import CliRunner

        from pecoma.cli import app

        monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("server started"))
        result = CliRunner().invoke(app, ["serve"], env={"PECOMA_PORT": "eighty"})
        assert isinstance(result.exception, ConfigError)
        assert "port" in str(result.exception)

    def test_options_override_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from typer.testing import CliRunner

        from pecoma.cli import app

        seen: dict[str, Any] = {}
        monkeypatch.setattr("uvicorn.run", lambda web, **k: seen.update(k))
        monkeypatch.setattr("pecoma.web.logs.configure_logging", lambda level: None)
        result = CliRunner().invoke(app, ["serve", "--port", "9321"],
                                    env={"PECOMA_PORT": "9000", "PECOMA_HOST": "127.0.0.2"})
        assert result.exit_code == 0, result.output
        assert seen["port"] == 9321 and seen["host"] == "127.0.0.2"
        assert seen["access_log"] is False
