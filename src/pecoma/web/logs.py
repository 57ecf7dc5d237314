"""Structured logs: one JSON object per line, never a patient identifier.

Access lines carry the method, the route path (never the query string or the body), the
status and the duration, and what the route added (:func:`access_fields`: for a CDS
Hooks call the service and the number of cards or feedback entries). Authentication
lines name a token by its id, never its value.
httpx (the FHIR client) logs only warnings, because its request lines carry URLs that
name the patient. Error lines carry the exception's type and where it was raised,
never its message (messages can quote input values).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

__all__ = ["ACCESS", "APP", "JsonFormatter", "access_extra", "access_fields",
           "configure_logging"]

ACCESS = logging.getLogger("pecoma.web.access")
APP = logging.getLogger("pecoma.web")

#: The ASGI scope key under which a route leaves fields for its request's access line.
_ACCESS_FIELDS = "pecoma.access"
#: The access line's own fields.
_OWN = frozenset({"request_id", "method", "route", "status", "duration_ms"})


def access_fields(scope: MutableMapping[str, Any], **fields: str | int) -> None:
    """Add ``fields`` to the access line of the request of ``scope`` (one line per
    request: what a route adds, such as the CDS service called and the number of cards,
    stands beside the request's id, status and duration). Names and counts only, never a
    value from the request."""
    scope.setdefault(_ACCESS_FIELDS, {}).update(fields)


def access_extra(scope: Mapping[str, Any]) -> dict[str, str | int]:
    """The fields the route of ``scope`` added to its access line (see
    :func:`access_fields`), after the line's own fields, which they never replace (nor a
    log record's own attributes, which the logging module refuses to overwrite)."""
    return {k: v for k, v in scope.get(_ACCESS_FIELDS, {}).items()
            if k not in _OWN and k not in _STANDARD}


# Attributes every LogRecord has; anything else came in through ``extra=``.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's coloured duplicate of the message
}


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON: time, level, logger, message and extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            out["exception"] = record.exc_info[0].__name__
        return json.dumps(out, default=str, ensure_ascii=False)


def configure_logging(level: str = "info") -> None:
    """Send pecoma's and uvicorn's logs to stderr as JSON lines (called by ``serve``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    # httpx logs each request's URL at INFO: a FHIR query names the patient
    # (Patient/<id>, ?patient=<id>), so only its warnings pass.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    # uvicorn's own access log would repeat each request in another format.
    access = logging.getLogger("uvicorn.access")
    access.handlers[:] = []
    access.propagate = False
    access.disabled = True
