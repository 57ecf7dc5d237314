"""Importing a CSV or XLSX file from the browser (clinician), with the same report of
rejected cells as ``pecoma registry import`` (the one importer), all or nothing or the
good rows only."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import Response

from pecoma.errors import show_value
from pecoma.store import StoreError
from pecoma.web.form_input import read_form, repeated_fields
from pecoma.web.registry_common import _actor, _unavailable, can_write
from pecoma.web.store_access import registry_of


def _import_page(request: Request, context: dict[str, Any], status: int = 200) -> Response:
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        "registry/import.html",
        {
            "report": None,
            "error": None,
            "mode": "all-or-nothing",
            "can_write": can_write(request),
            "max_bytes": request.app.state.config.max_body_bytes,
            **context,
        },
        status_code=status,
    )


def import_form(request: Request) -> Response:
    return _import_page(request, {})


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_IMPORT_FIELDS = ("file", "mode")


async def import_post(request: Request) -> Response:
    from pecoma.registry.import_table import ImportFileError
    from pecoma.registry.importer import ImportMode, import_file

    form = await read_form(request)
    upload = form.get("file")
    mode_text = str(form.get("mode", "all-or-nothing"))
    repeated = repeated_fields(form, _IMPORT_FIELDS)
    if repeated:
        # two files in one request: importing the last alone would drop the first unsaid
        return _import_page(
            request,
            {"error": "; ".join(f"'{i.path}' {i.rule} (got {i.value}): nothing was "
                                "imported; import one file at a time" for i in repeated),
             "mode": mode_text if mode_text in ("all-or-nothing", "good-rows")
             else "all-or-nothing"},
            422,
        )
    if mode_text not in ("all-or-nothing", "good-rows"):
        return _import_page(
            request,
            {"error": f"'mode' must be all-or-nothing or good-rows (got {show_value(mode_text)})"},
            422,
        )
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _import_page(
            request,
            {
                "error": "'file' is required: choose a .csv or .xlsx file in the import layout",
                "mode": mode_text,
            },
            422,
        )
    name = _SAFE_NAME.sub("_", Path(upload.filename).name)[-80:] or "upload"
    if not name.lower().endswith((".csv", ".xlsx")):
        return _import_page(
            request,
            {
                "error": "'file' must be a .csv or .xlsx file (got "
                f"{show_value(upload.filename[:80])})",
                "mode": mode_text,
            },
            422,
        )
    body = await upload.read()
    repo = registry_of(request.app.state)
    today: dt.date = request.app.state.today()
    settings = request.app.state.settings
    actor = _actor(request)

    def work() -> Any:
        with tempfile.TemporaryDirectory(prefix="pecoma-import-") as folder:
            path = Path(folder) / name
            path.write_bytes(body)
            return import_file(
                repo,
                path,
                on_date=today,
                settings=settings,
                actor=actor,
                mode=ImportMode(mode_text),
            )

    try:
        report = await run_in_threadpool(work)
    except ImportFileError as exc:
        return _import_page(request, {"error": f"'file': {exc}", "mode": mode_text}, 422)
    except StoreError as exc:
        return _unavailable(request, exc)
    return _import_page(
        request,
        {"report": report, "mode": mode_text},
        422 if report.issues and not report.committed else 200,
    )
