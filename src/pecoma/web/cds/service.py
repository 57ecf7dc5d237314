"""The state of the CDS Hooks service inside one application: built by ``create_app``.

Nothing here outlives the application, and nothing a request leaves behind is kept in the
process: cards, reports, feedback and seen JWT ids live in the registry database
(:class:`~pecoma.store.cds.CdsStore`), so every worker answers alike.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from pecoma.fhir.client import AllowList, FhirClient
from pecoma.settings import Settings
from pecoma.store.cds import CdsLimits, CdsStore
from pecoma.web.cds.jwt import JwtVerifier
from pecoma.web.cds.settings import CdsSettings

__all__ = ["CdsService", "limits_of"]


def limits_of(settings: CdsSettings) -> CdsLimits:
    """The store's bounds, from the settings."""
    return CdsLimits(
        report_ttl_seconds=settings.report_ttl_seconds, max_reports=settings.max_reports,
        max_jti=settings.max_jti, card_days=settings.card_days, max_cards=settings.max_cards,
        feedback_days=settings.feedback_days, max_feedback=settings.max_feedback,
    )


@dataclass
class CdsService:
    """Settings, the verifier, the store and the clock of the mounted service."""

    settings: CdsSettings
    #: The public base URL (card links, JWT audience); ``None`` when the server is bound
    #: beyond loopback without ``cds.base_url``: the service then answers 503 until set.
    base_url: str | None
    jwt_required: bool
    store: Callable[[], CdsStore]
    engine_settings: Callable[[], Settings]
    today: Callable[[], dt.date]
    transport: httpx.AsyncBaseTransport | None = None
    allow: AllowList = field(init=False)
    verifier: JwtVerifier = field(init=False)

    def __post_init__(self) -> None:
        self.allow = self.settings.allow_list()
        self.verifier = JwtVerifier(self.settings.trusted_issuers,
                                    leeway_seconds=self.settings.jwt_leeway_seconds)

    def fhir_deadline(self) -> float:
        """When the FHIR reads of one hook call must have ended (``time.monotonic()``):
        twice the request timeout from now, the most one query may take, shared by every
        read of the call, so that a slow server never makes the EHR wait for each in turn
        (a read with no time left fails, and its part stays unknown)."""
        return time.monotonic() + 2 * self.settings.fhir_timeout_seconds

    def fhir_client(self, url: str, token: str | None, *, max_pages: int,
                    deadline: float) -> FhirClient:
        """A client of the FHIR server ``url`` (:class:`ServerNotAllowed` when the
        allow-list refuses it), bounded by the settings and ``deadline``."""
        return FhirClient.for_server(url, self.allow, token=token,
                                     timeout_seconds=self.settings.fhir_timeout_seconds,
                                     max_pages=max_pages, transport=self.transport,
                                     deadline=deadline)
