"""Feedback on cards (CDS Hooks 2.0.1): checked against the card as issued, then stored.

Body: ``{"feedback": [item, ...]}``, each item with

* ``card``: the uuid of a card this service issued (and still keeps), of this service,
  the whole of it (a uuid with more after it names no card), given to the EHR sending the
  feedback: with JWTs verified, the card's issuer is the feedback JWT's (a card given to
  another trusted issuer, or stored before cards kept theirs, is refused as an unknown
  card is: what is written as the team's decision comes from the team that saw the card);
* ``outcome``: ``accepted`` or ``overridden``;
* ``acceptedSuggestions``: required when accepted, forbidden when overridden; a list of
  ``{"id": uuid}`` naming suggestions the card offered (at most one: cards offer
  ``at-most-one``);
* ``overrideReason``: only when overridden, optional; ``reason`` (a Coding from the
  card's ``overrideReasons``) and/or ``userComment`` (a string of at most 1000
  characters);
* no member, at any depth, null, empty or blank (``null``, ``""``, ``[]``, ``{}``:
  CDS Hooks 2.0.1 omits an optional attribute that has no value), each named; members
  the specification does not define are ignored;
* ``outcomeTimestamp``: an ISO 8601 date-time with its time zone, its instant in UTC
  between 1900-01-01 and 2199-12-31 (the dates pecoma accepts), and neither before the
  card was issued nor after now, give or take :data:`CLOCK_LEEWAY` (the EHR's clock and
  the server's may differ a little). It is when the clinician acted: repeated feedback on
  one card is ordered by it (:mod:`pecoma.store.decisions`), and it is the decision's date.

All items are checked first; any broken rule gives one 400 problem listing each, and
nothing is stored. Stored entries (``cds_feedback``) carry the card's record ids and
knowledge version, for the registry's concordance figures.

**What is a decision.** An entry on a card that offered something to act on (a suggestion,
or override reasons to give: order-select's "mTOR inhibitor first" warning) is the
clinician's decision about the card's recommendations and alerts: accepted, or declined
(CDS Hooks 2.0.1: ``overridden`` is the card dismissed, with or without a reason). An
entry on an informational card (the patient-view summary, an alert card: nothing to accept,
no reason asked) is kept as feedback only: dismissing it decides nothing about the
recommendations it lists. A risk group, a classification or a surveillance item is never a
decision, whatever the card (:func:`decision_ids`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from pecoma.dates import EARLIEST, LATEST, range_rule
from pecoma.errors import FieldIssue
from pecoma.knowledge import load_knowledge
from pecoma.store.cds import CardRecord, FeedbackRecord, issuer_key
from pecoma.web.problems import ApiProblem

__all__ = ["COMMENT_MAX", "decision_ids", "feedback_entries"]

COMMENT_MAX = 1000

#: A uuid in its text form, either case: RFC 9562 reads the hex digits case-insensitively
#: (an EHR may echo a card's or suggestion's uuid upper-cased); this service issues them
#: in lower case, as it looks them up.
_UUID = re.compile(r"[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}")


def _uuid_key(value: str) -> str:
    """``value`` as the service keeps it: a uuid in lower case, anything else as sent."""
    return value.lower() if _UUID.fullmatch(value) else value
#: How far ``outcomeTimestamp`` may fall before the card's issue or after now: the clock
#: difference between the EHR and this server that is taken in good faith.
CLOCK_LEEWAY = dt.timedelta(minutes=5)
#: The kinds of knowledge record a clinician's answer to a card can decide about.
DECIDED_KINDS = ("recommendation", "alert")


def decision_ids(card: CardRecord) -> tuple[str, ...]:
    """The record ids an answer to ``card`` is a decision about: its recommendations and
    alerts when it offered a suggestion or override reasons, else none (an informational
    card: a dismissal is no decision). Risk groups, classifications and surveillance
    items never are; nor is a record id the knowledge no longer holds."""
    if not card.suggestions and not card.override_reasons:
        return ()
    records = load_knowledge().records
    return tuple(rid for rid in card.record_ids
                 if rid in records and records[rid].kind in DECIDED_KINDS)


def _timestamp(value: Any) -> dt.datetime | None:
    """The date-time, or ``None`` when it is none, has no time zone, or its instant (in
    UTC, as it is stored) falls outside the dates pecoma accepts (1900-2199: a time near
    the calendar's ends, 9999-12-31T23:00-05:00, is not even a date-time in UTC)."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        stamp = dt.datetime.fromisoformat(value)
        utc = stamp.astimezone(dt.UTC) if stamp.tzinfo is not None else None
    except (ValueError, OverflowError):
        return None
    if utc is None or range_rule(utc.date()) is not None:
        return None
    return stamp


def _utc_naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


def _when_rule(stamp: dt.datetime, card: CardRecord, now: dt.datetime) -> str | None:
    """Why the instant ``stamp`` cannot be when the clinician answered ``card`` (before it
    was issued, or after ``now``, beyond the leeway), or ``None``."""
    at = _utc_naive(stamp)
    minutes = int(CLOCK_LEEWAY.total_seconds() // 60)
    if card.issued_at is not None and at < card.issued_at - CLOCK_LEEWAY:
        return (f"must not be before the card was issued ({card.issued_at:%Y-%m-%dT%H:%M:%S}Z; "
                f"{minutes} minutes of clock difference allowed)")
    if at > _utc_naive(now) + CLOCK_LEEWAY:
        return (f"must not be in the future (now is {_utc_naive(now):%Y-%m-%dT%H:%M:%S}Z; "
                f"{minutes} minutes of clock difference allowed)")
    return None


_EMPTY_RULE = ("must be left out, not null or empty (CDS Hooks 2.0.1: JSON attributes "
               "are not null and not empty; an optional one with no value is omitted)")


def _empty(value: Any) -> bool:
    """Whether ``value`` is what CDS Hooks 2.0.1 prohibits: null, or an empty string,
    list or object (``""``, ``[]``, ``{}``). A string of spaces is not empty: a comment
    of one blank typed is legal, and kept as sent."""
    return value is None or (isinstance(value, (str, list, dict)) and not value)


def _without_empties(value: Any, path: str, issues: list[FieldIssue]) -> Any:
    """``value`` with every null or empty member (at any depth, outside ``extension``)
    named in ``issues`` and left out: an EHR whose override-reason mapping sends ``{}``
    or ``null`` where the clinician gave a reason must not have the override filed as
    "declined, no reason"."""
    if isinstance(value, dict):
        kept: dict[str, Any] = {}
        for key, member in value.items():
            where = f"{path}.{key}"
            if key == "extension" and not _empty(member):
                # its content is the implementer's, which the specification leaves
                # undefined: ignored, as every member it does not define is
                kept[key] = member
            elif _empty(member):
                issues.append(FieldIssue(where, "null" if member is None else
                                         repr(member)[:20], _EMPTY_RULE))
            else:
                kept[key] = _without_empties(member, where, issues)
        return kept
    if isinstance(value, list):
        items = []
        for i, member in enumerate(value):
            where = f"{path}[{i}]"
            if _empty(member):
                issues.append(FieldIssue(where, "null" if member is None else
                                         repr(member)[:20], _EMPTY_RULE))
            else:
                items.append(_without_empties(member, where, issues))
        return items
    return value


def _item(given: dict[str, Any], path: str, service: str,
          card_of: Callable[[str], CardRecord | None], now: dt.datetime,
          issues: list[FieldIssue], caller: str | None) -> FeedbackRecord | None:
    before = len(issues)
    item = _without_empties(given, path, issues)
    uuid = item.get("card")
    card = card_of(_uuid_key(uuid)) if isinstance(uuid, str) and uuid else None
    if card is not None and (card.service != service or (
            caller is not None and card.issuer != caller)):
        # another service's card, or one given to another EHR: refused as an unknown
        # card is (whether it exists is not said to a caller it was not given to)
        card = None
    if card is None:
        issues.append(FieldIssue(f"{path}.card", repr(uuid)[:60],
                                 "must be the uuid of a card this service issued to the "
                                 "caller"))
    outcome = item.get("outcome")
    if outcome not in ("accepted", "overridden"):
        issues.append(FieldIssue(f"{path}.outcome", repr(outcome)[:40],
                                 "must be 'accepted' or 'overridden'"))
    stamp = _timestamp(item.get("outcomeTimestamp"))
    if stamp is None:
        issues.append(FieldIssue(f"{path}.outcomeTimestamp",
                                 repr(item.get("outcomeTimestamp"))[:40],
                                 "must be an ISO 8601 date-time with a time zone, "
                                 f"between {EARLIEST.isoformat()} and "
                                 f"{LATEST.isoformat()} (UTC)"))
    elif card is not None and (when := _when_rule(stamp, card, now)) is not None:
        issues.append(FieldIssue(f"{path}.outcomeTimestamp",
                                 repr(item.get("outcomeTimestamp"))[:40], when))
    accepted = item.get("acceptedSuggestions")
    ids: list[str] = []
    if accepted is not None:
        if not isinstance(accepted, list) or not all(
            isinstance(x, dict) and isinstance(x.get("id"), str) for x in accepted
        ):
            issues.append(FieldIssue(f"{path}.acceptedSuggestions", "(invalid)",
                                     "must be a list of {\"id\": suggestion uuid}"))
        else:
            ids = [_uuid_key(str(x["id"])) for x in accepted]
    if outcome == "accepted":
        if not ids:
            issues.append(FieldIssue(f"{path}.acceptedSuggestions", "(missing)",
                                     "must name the suggestion accepted"))
        elif card is not None and (len(ids) > 1 or not set(ids) <= set(card.suggestions)):
            issues.append(FieldIssue(f"{path}.acceptedSuggestions", ", ".join(ids)[:80],
                                     "must be one suggestion the card offered"))
    elif outcome == "overridden" and accepted is not None:
        issues.append(FieldIssue(f"{path}.acceptedSuggestions", "(given)",
                                 "must be left out when the outcome is 'overridden'"))
    reason = item.get("overrideReason")
    system = code = comment = None
    if reason is not None:
        if outcome != "overridden":
            issues.append(FieldIssue(f"{path}.overrideReason", "(given)",
                                     "must be left out unless the outcome is 'overridden'"))
        elif not isinstance(reason, dict):
            issues.append(FieldIssue(f"{path}.overrideReason", type(reason).__name__,
                                     "must be an object with 'reason' and/or 'userComment'"))
        else:
            coding = reason.get("reason")
            if coding is not None:
                offered = set(card.override_reasons) if card is not None else set()
                key = (f"{coding.get('system')}|{coding.get('code')}"
                       if isinstance(coding, dict) else None)
                if key is None or key not in offered:
                    issues.append(FieldIssue(f"{path}.overrideReason.reason",
                                             "(not offered)",
                                             "must be a Coding from the card's "
                                             "overrideReasons"))
                else:
                    system, code = key.split("|", 1)
            text = reason.get("userComment")
            if text is not None and (not isinstance(text, str) or len(text) > COMMENT_MAX):
                issues.append(FieldIssue(f"{path}.overrideReason.userComment", "(invalid)",
                                         f"must be a string of at most {COMMENT_MAX} "
                                         "characters"))
            elif isinstance(text, str):
                comment = text
    if len(issues) > before or card is None or stamp is None:
        return None
    return FeedbackRecord(
        card=card.uuid, service=service, outcome=str(outcome), outcome_at=stamp,
        accepted_suggestions=tuple(ids), override_system=system, override_code=code,
        user_comment=comment, record_ids=card.record_ids,
        knowledge_version=card.knowledge_version, decision_ids=decision_ids(card))


def feedback_entries(body: dict[str, Any], service: str,
                     card_of: Callable[[str], CardRecord | None],
                     now: dt.datetime, issuer: str | None = None) -> list[FeedbackRecord]:
    """The checked feedback entries of a body, or a 400 problem listing every rule broken
    (``now``: the server's clock, for the latest ``outcomeTimestamp`` allowed; ``issuer``:
    the verified JWT's issuer, whose cards alone take this feedback, or ``None`` when no
    JWT is verified)."""
    caller = issuer_key(issuer)
    items = body.get("feedback")
    if not isinstance(items, list) or not items or len(items) > 100:
        raise ApiProblem(400, "invalid-feedback", "The body must be {\"feedback\": [...]} "
                         "with 1 to 100 entries.",
                         [FieldIssue("feedback", "(invalid)", "must be a list of 1-100 items")])
    issues: list[FieldIssue] = []
    out = []
    for i, item in enumerate(items):
        path = f"feedback[{i}]"
        if not isinstance(item, dict):
            issues.append(FieldIssue(path, type(item).__name__, "must be an object"))
            continue
        entry = _item(item, path, service, card_of, now, issues, caller)
        if entry is not None:
            out.append(entry)
    if issues:
        raise ApiProblem(400, "invalid-feedback",
                         "The feedback breaks the CDS Hooks 2.0.1 rules.", issues)
    return out
