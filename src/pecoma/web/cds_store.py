"""Audit storage of CDS Hooks cards and the clinicians' feedback on them.

Behind one small interface, :class:`FeedbackStore`, two implementations: in memory (the
default; lost on restart) and a JSON Lines file (``PECOMA_CDS_FEEDBACK_FILE``), one line
per event, appended and flushed. Each feedback entry is kept with the uuid of its card,
and with what the card said (service, record ids, knowledge version) when this process
issued it. No patient identifier is stored: cards are remembered by uuid only.

A small time-limited store keeps the full reports that cards link to, under a random
token.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "CardRecord",
    "FeedbackEntry",
    "FeedbackStore",
    "JsonlFeedbackStore",
    "MemoryFeedbackStore",
    "ReportStore",
]


@dataclass(frozen=True, slots=True)
class CardRecord:
    """What a card said, for audit: no patient data."""

    uuid: str
    service: str
    hook_instance: str
    indicator: str
    summary: str
    record_ids: tuple[str, ...]
    knowledge_version: str
    issued_at: str


@dataclass(frozen=True, slots=True)
class FeedbackEntry:
    """One clinician's outcome on one card (CDS Hooks 2.0 feedback)."""

    card: str
    service: str
    outcome: str
    outcome_timestamp: str
    accepted_suggestions: tuple[str, ...] = ()
    override_reason: dict[str, Any] | None = None
    user_comment: str | None = None
    received_at: str = ""
    issued: CardRecord | None = field(default=None)


class FeedbackStore(Protocol):
    """Where cards and feedback are kept for audit."""

    def remember(self, card: CardRecord) -> None: ...

    def issued(self, uuid: str) -> CardRecord | None: ...

    def add(self, entry: FeedbackEntry) -> None: ...

    def entries(self) -> list[FeedbackEntry]: ...


class MemoryFeedbackStore:
    """In-memory store (bounded: the oldest cards are forgotten first)."""

    def __init__(self, max_cards: int = 50_000) -> None:
        self._cards: OrderedDict[str, CardRecord] = OrderedDict()
        self._entries: list[FeedbackEntry] = []
        self._lock = threading.Lock()
        self._max = max_cards

    def remember(self, card: CardRecord) -> None:
        with self._lock:
            self._cards[card.uuid] = card
            while len(self._cards) > self._max:
                self._cards.popitem(last=False)

    def issued(self, uuid: str) -> CardRecord | None:
        with self._lock:
            return self._cards.get(uuid)

    def add(self, entry: FeedbackEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[FeedbackEntry]:
        with self._lock:
            return list(self._entries)


class JsonlFeedbackStore(MemoryFeedbackStore):
    """Like the memory store, and every card and feedback appended to a JSON Lines file."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._file_lock = threading.Lock()

    def _append(self, kind: str, data: dict[str, Any]) -> None:
        line = json.dumps({"event": kind, **data}, ensure_ascii=False, sort_keys=True)
        with self._file_lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()

    def remember(self, card: CardRecord) -> None:
        super().remember(card)
        self._append("card", asdict(card))

    def add(self, entry: FeedbackEntry) -> None:
        super().add(entry)
        self._append("feedback", asdict(entry))


class ReportStore:
    """Full reports behind unguessable tokens, kept for ``ttl_seconds``."""

    def __init__(self, ttl_seconds: float = 3600.0, max_reports: int = 2000) -> None:
        self._reports: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()
        self.ttl = ttl_seconds
        self._max = max_reports

    def put(self, text: str, now: float | None = None) -> str:
        now = time.monotonic() if now is None else now
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._reports[token] = (now + self.ttl, text)
            while len(self._reports) > self._max:
                self._reports.popitem(last=False)
        return token

    def get(self, token: str, now: float | None = None) -> str | None:
        now = time.monotonic() if now is None else now
        with self._lock:
            item = self._reports.get(token)
            if item is None:
                return None
            if item[0] < now:
                del self._reports[token]
                return None
            return item[1]
