"""A number written with too many digits to be a number is refused as written.

Hundreds of digits in a number cell (numbers run together, a column pasted into one
cell) read as a float give Infinity. The import and the case form said "must be at most
100 cm … (got Infinity)" / "— entered: Infinity": a value nobody typed, which does not
let the coordinator find the cell. Every error names the value given: the text as
entered, shortened as any long value is (its first characters and "…"), and no bound
that Infinity "breaks". The case is refused either way; nothing is written.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pecoma.errors import show_value
from pecoma.web import WebConfig, create_app

from cli_support import run_cli
from registry_support import high_risk, rows_of, write_csv, write_xlsx

FIELDS = ["tumour.size.value", "histology.mitoses_per_50_hpf"]

# too many digits for a finite float: whole, with a fraction, signed, run together
TYPED = [
    pytest.param("9" * 400, id="400-nines"),
    pytest.param("1" + "0" * 309, id="1e309-written-out"),
    pytest.param("12" * 200 + ".5", id="with-a-fraction"),
    pytest.param("+" + "34" * 180, id="signed"),
]


def shown(text: str) -> str:
    """The value as every message shows a value given: quoted, a long one shortened."""
    return show_value(text)


class TestRegistryImport:
    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    @pytest.mark.parametrize("field", FIELDS)
    @pytest.mark.parametrize("typed", TYPED)
    def test_the_cell_is_named_as_written(
        self, tmp_path: Path, typed: str, field: str, fmt: str
    ) -> None:
        rows = rows_of({"Z-1": high_risk()})
        rows[0][field] = typed
        write = write_csv if fmt == "csv" else write_xlsx
        path = write(tmp_path / f"cases.{fmt}", rows)
        r = run_cli("registry", "import", str(path), "--on", "2026-11-28",
                    "--data-dir", str(tmp_path / "data"), columns=1000)
        assert r.returncode == 3
        assert f"row 2, column '{field}': must be a number" in r.stderr
        assert f"(got {shown(typed)})" in r.stderr
        assert "Infinity" not in r.stderr
        assert "nothing was written" in r.stdout

    def test_with_a_decimal_comma_in_a_semicolon_file(self, tmp_path: Path) -> None:
        path = tmp_path / "cases.csv"
        path.write_text("registry_id;tumour.primary_site;stage.status;tumour.size.value;"
                        f"tumour.size.unit\nZ-1;kidney;localized;{'9' * 400},5;cm\n",
                        encoding="utf-8")
        r = run_cli("registry", "import", str(path), "--on", "2026-11-28",
                    "--data-dir", str(tmp_path / "data"), columns=1000)
        assert r.returncode == 3
        assert f"(got {show_value('9' * 400 + '.5')})" in r.stderr
        assert "Infinity" not in r.stderr


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(WebConfig(), today=lambda: dt.date(2026, 11, 28)),
                      raise_server_exceptions=False, base_url="http://localhost")


class TestWeb:
    @pytest.mark.parametrize("typed", TYPED)
    def test_the_case_form_names_what_was_entered(self, client: TestClient,
                                                   typed: str) -> None:
        r = client.post("/report", data={
            "on": "2026-11-28", "tumour.primary_site": "kidney", "stage.status": "localized",
            "tumour.size.value": typed, "tumour.size.unit": "cm"})
        assert r.status_code == 422
        text = " ".join(re.sub(r"<[^>]+>", " ", r.text).split())
        assert "Infinity" not in text
        assert f"— entered: {shown(typed)}".replace("'", "&#39;") in text

    @pytest.mark.parametrize("field", FIELDS)
    @pytest.mark.parametrize("typed", TYPED)
    def test_the_api_names_it_as_the_import_does(self, client: TestClient, typed: str,
                                                 field: str) -> None:
        case = high_risk()
        group, key = field.split(".", 1)
        if "." in key:
            case[group]["size"] = {**case[group]["size"], "value": typed}
        else:
            case[group] = {**case[group], key: typed}
        r = client.post("/api/v1/assess", headers={"content-type": "application/json"},
                        content=json.dumps({"case": case, "on": "2026-11-28"}))
        assert r.status_code == 422, r.text
        errors = r.json()["errors"]
        assert [(e["path"], e["value"]) for e in errors] == [(f"case.{field}", shown(typed))]
        assert errors[0]["rule"].startswith("must be a number")
