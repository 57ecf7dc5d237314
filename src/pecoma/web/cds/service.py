"""The state of the CDS Hooks service inside one application: built by ``create_app``.

Nothing here outlives the application, and nothing a request leaves behind is kept in the
process: cards, reports, feedback and seen JWT ids live in the registry database
(:class:`~pecoma.store.cds.CdsStore`), so every worker answers alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from pecoma.fhir.client import AllowList
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
    base_url: str
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
