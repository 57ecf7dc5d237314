"""What a FHIR search result says about itself: whether it is the whole result.

A Bundle is not the whole result when it has a ``next`` link (one page of several), when
an OperationOutcome entry says the search failed (severity ``error`` or ``fatal``) or
left things out (a security code such as ``suppressed``, ``security`` or ``forbidden``:
entries withheld from this user; a transient one such as ``incomplete``, ``timeout`` or
``throttled``: the server stopped short; ``too-costly``; whatever its severity: "some
allergies were suppressed" or "search timed out; partial results returned" is a warning;
or, whatever its code and severity, an issue whose words say the results are limited or
partial or that entries were left out: "Results limited to active allergies", "Results
of this sub-type will not be returned", "Resources with confidential flag were
excluded"), when its ``total`` (the number of matches the server found) is larger than
the matches it holds and there is no further page, or when its ``total`` is no count at
all (``"3"``, ``-1``, ``2.5``: how many the server found is unknown), or when the
Bundle's ``meta`` carries a label saying information was withheld from it
(:func:`withheld_label`: ``REDACTED``, ``SUBSETTED``), when a request of a
batch-response (or transaction-response, history) failed and returned nothing
(:func:`failed_requests`: a ``response.status`` from 400), or when a Bundle held in one
of its entries (a search answered in a batch-response:
:func:`pecoma.fhir.entries.nested_bundles`) is not the whole result of its search for
any of these reasons. Such a signal sent in a form that
cannot be read is no whole result either: an OperationOutcome whose ``issue`` is an
object and not a list, or whose issue has no FHIR severity or code
(:func:`unreadable_outcome`); a ``link`` that is no list of links
(:func:`unreadable_links`); a ``meta.security`` that is the string ``"REDACTED"``
(:func:`withheld_label`): whether the search is whole cannot be told. The ``total`` is
read whatever the Bundle's type: FHIR allows it only on a searchset or a history, so a
``collection`` that states one is a search result sent under another type, and one
stating more than it holds says that entries were left out just as a searchset would. A
match is an entry whose ``search.mode`` is ``match``; an entry with no mode is a match
only when it holds a resource of the type searched for (:func:`matches`): the
Medications a medication search ``_include``s are no matches, whether or not the server
marks them ``include``.
An allergy search (:data:`CAVEAT_TYPES`) is not the whole result either when an
OperationOutcome entry says the answer *may* not hold the entire record
(:func:`caveat`): Epic's message 4119, "This response includes information available to
the authorized user at the time of the request. It may not contain the entire record
available in the system.", by its code or by such words, or words saying the list itself
was not taken ("Allergies: Not on File"); and, the rule reversed for that search, an
issue whose words are not known to say no more than an empty search (:data:`_BENIGN_ANY`:
"No results found", Epic's 4101; and the search's own words of an empty list, "No known
allergies" for the allergy search, "No medications on file" for a medication search:
words about allergies say nothing of a medication list), words pecoma does not know or
none. A ``null`` where a Bundle gives its ``entry``, ``link``, ``meta`` (or its
``security`` or ``tag``) or ``total`` is no such element absent but one that cannot be
read (FHIR JSON has no nulls). A drug is proposed only from an
allergy list read in full, so that caveat withholds the proposal; the other parts of the
record are read as sent beside it.
What the rest would hold (an allergy, a line of therapy) is unknown, never absent:
:func:`incomplete` says why. The CDS services take such a prefetch part as unread
(:mod:`pecoma.web.cds.record`); the FHIR reader takes every part of a bundle that says
so as unread (``pecoma fhir to-case``); both then read the record the same way
(:attr:`pecoma.fhir.reader.BundleCase.unread`); the FHIR client refuses such a page
(:mod:`pecoma.fhir.client`)."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Final

from pecoma.fhir.entries import RESPONSE_TYPES, answer, deleted, nested_bundles

__all__ = ["CAVEAT_PARTS", "CAVEAT_TYPES", "MEDICATION_PARTS", "MEDICATION_TYPES", "PARTS",
           "RESULT_TYPES",
           "bad_total", "caveat", "caveat_issues", "failed_issues", "failed_requests",
           "foreign", "has_next", "incomplete", "left_out", "matches", "medication_caveat",
           "next_urls",
           "outcome_issues",
           "unreadable_links", "unreadable_outcome", "unreadable_outcomes", "unusable_entry",
           "withheld_label"]

#: The parts of one patient's record, each the answer to one search (the CDS services'
#: prefetch keys), in the words a reader of the output is told which one was not read.
PARTS: Final[Mapping[str, str]] = {
    "patient": "the patient resource",
    "conditions": "the conditions (diagnoses, metastases)",
    "observations": "the observations (tumour size, pathology, markers, status)",
    "procedures": "the procedures (resections)",
    "medications": "the medication statements",
    "medication_requests": "the medication orders",
    "medication_administrations": "the medication administrations",
    "medication_dispenses": "the medication dispenses (pharmacy)",
    "allergies": "the allergies and intolerances",
}

#: The Bundle types that answer a search: a ``searchset`` (FHIR R4), or a ``collection``
#: of the results (some EHRs send their prefetch so). A ``history``, a ``transaction``, a
#: ``batch`` or a ``document`` answers no search: the CDS services do not read such a
#: prefetch part, and the FHIR client refuses such a page.
RESULT_TYPES: Final = ("searchset", "collection")

#: The parts that give the lines of systemic therapy already given.
MEDICATION_PARTS: Final = ("medications", "medication_requests",
                           "medication_administrations", "medication_dispenses")
#: The resource types the medication parts search for: an OperationOutcome in their
#: answer is judged by what its words say (:func:`medication_caveat`), as the allergy
#: search's is.
MEDICATION_TYPES: Final = ("MedicationStatement", "MedicationRequest",
                           "MedicationAdministration", "MedicationDispense")

#: Issue codes of an OperationOutcome saying a search left things out, whatever the
#: severity (FHIR R4 IssueType): the security codes (``security``, ``login``,
#: ``unknown``, ``expired``, ``forbidden``, ``suppressed``: entries the user may not see
#: were withheld from the result), the transient ones (``transient``, ``lock-error``,
#: ``no-store``, ``exception``, ``timeout``, ``incomplete``, ``throttled``: the server
#: stopped short, or was asked too much at once, so what it sent may be partial) and
#: ``too-costly``.
_LEFT_OUT = frozenset({"security", "login", "unknown", "expired", "forbidden", "suppressed",
                       "transient", "lock-error", "no-store", "exception", "timeout",
                       "incomplete", "throttled", "too-costly"})

#: The codes an issue's ``severity`` and ``code`` are taken from (FHIR R4 IssueSeverity
#: and IssueType, required bindings): an issue given another (``"ERROR"``, a vendor's
#: own code) cannot be read, so whether it says the search failed cannot be told.
_SEVERITIES: Final = frozenset({"fatal", "error", "warning", "information"})
_ISSUE_TYPES: Final = frozenset({
    "invalid", "structure", "required", "value", "invariant", "security", "login",
    "unknown", "expired", "forbidden", "suppressed", "processing", "not-supported",
    "duplicate", "multiple-matches", "not-found", "deleted", "too-long", "code-invalid",
    "extension", "too-costly", "business-rule", "conflict", "transient", "lock-error",
    "no-store", "exception", "timeout", "incomplete", "throttled", "informational"})

#: Words of an issue (its ``diagnostics``, ``details.text``, each ``details.coding``'s
#: ``display``) saying the results sent are limited or partial, or that entries were
#: left out of them, whatever the issue's code (``processing``, ``informational``, ...)
#: and severity: "Results limited to active allergies", "partial results returned",
#: "Results of this sub-type will not be returned", "Search results of this type have not
#: been included", "Resources with confidential flag were excluded", "records withheld",
#: "hidden due to break-the-glass restrictions", "Some allergy entries are confidential",
#: "client is not authorized for ...",
#: "This search returns only allergies documented in the last 5 years". Words that
#: speak of no such thing ("Search completed", "0 results", "No results found") say
#: nothing of the list being partial. The words are not parsed for a negation: "no
#: entries were excluded" counts too (the safer reading, and an unusual thing to send).
_LIMITED: Final = re.compile(
    r"(?<![a-z])(?:"
    # cut short: limited, partial, truncated, the first N, too many, timed out
    r"limit(?:s|ed|ing)?|partial(?:ly)?|truncat\w*|incomplete|subset\w*|not all|"
    r"first \d+|only (?:the )?first|too many|exceed\w*|time[ds]? ?out|"
    # left out: omitted, excluded, withheld, hidden, suppressed, redacted, masked,
    # restricted, filtered, skipped, blocked, denied, unavailable
    r"omit\w*|exclu\w*|withh[eo]l\w*|hidden|hid(?:e|es|ing)|suppress\w*|redact\w*|"
    r"mask(?:s|ed|ing)?|censor\w*|restrict\w*|filter\w*|skipp\w*|block(?:s|ed|ing)|"
    r"denied|unavailable|confidential|"
    # not allowed to the user or client
    r"unauthori[sz]\w*|not authori[sz]\w*|not permitted|forbidden|break[- ]the[- ]glass|"
    r"lacks? (?:the )?(?:access|permission|privilege|right)\w*|"
    r"insufficient (?:access|permission|privilege|scope|right)\w*|"
    # not sent: 'will not be returned', 'have not been included', 'not available'
    r"(?:not|never|cannot|unable to)(?: \w+){0,3}? "
    r"(?:return|includ|sen[dt]|shown|display|provid|retriev|disclos|releas|availab|"
    r"accessib|access)\w*|"
    # only some: 'returns only ...', 'only active allergies are returned'
    r"(?:return|includ|show|list|provid)\w* only|"
    r"only [^.;]{0,60}?(?<![a-z])(?:return|includ|sen[dt]|shown|display|provid|list)\w*"
    r")(?![a-z])|n't(?: \w+){0,3}? (?:return|includ|sen[dt]|shown|display|provid|retriev|"
    r"availab|access)\w*")


def _issue_words(issue: Mapping[str, Any]) -> list[str] | None:
    """What an issue says in words (``diagnostics``, ``details.text``, the ``display`` of
    each ``details.coding``: an EHR may put its message in any of them), or ``None`` when
    one of them is not where or what FHIR puts it (``details`` that is no object, a
    ``diagnostics`` that is no string): what it says cannot be read."""
    said: list[str] = []
    diagnostics = issue.get("diagnostics")
    if diagnostics is not None:
        if not isinstance(diagnostics, str):
            return None
        said.append(diagnostics)
    details = issue.get("details")
    if details is None:
        return said
    if not isinstance(details, dict):
        return None
    text = details.get("text")
    codings = details.get("coding")
    if (text is not None and not isinstance(text, str)) or (
            codings is not None and not isinstance(codings, list)):
        return None
    said += [text] if text is not None else []
    for coding in codings or []:
        display = coding.get("display") if isinstance(coding, dict) else None
        if not isinstance(coding, dict) or (display is not None
                                            and not isinstance(display, str)):
            return None
        said += [display] if display is not None else []
    return said


def _plain(text: str) -> str:
    """An issue's words as the patterns read them: lower case, one blank between words."""
    return " ".join(text[:2000].lower().replace("\u2019", "'").split())


def _says_limited(words: Sequence[str]) -> bool:
    """Whether an issue's words (:func:`_issue_words`) say the results sent are limited
    or partial, or that entries were left out (:data:`_LIMITED`)."""
    return any(_LIMITED.search(_plain(t)) is not None for t in words)


#: The search types whose answer is not taken as whole when it says it *may* not hold the
#: entire record (:func:`caveat`): the allergy list, the one part pecoma reads for what it
#: does not hold before it proposes a drug (a proposal needs the list read in full; an
#: allergy the EHR did not send may rule the drug out: I15, S13-S14), and from which it
#: keeps a recorded "mTOR inhibitor not contraindicated". The other parts are read as
#: sent beside such a caveat: what they hold is what the assessment rests on, and an EHR
#: that sends the caveat with every answer (Epic) would otherwise leave every chart
#: unchecked.
CAVEAT_TYPES: Final = ("AllergyIntolerance",)
#: The parts of the record (:data:`PARTS`) answering a search of :data:`CAVEAT_TYPES`.
CAVEAT_PARTS: Final = ("allergies",)

#: Epic's code system for the messages of its OperationOutcomes:
#: ``urn:oid:1.2.840.114350.1.13.<n>.<n>.7.2.657369``, the middle part naming the
#: organisation (``0.1`` in Epic's public sandbox).
_EPIC_MESSAGES: Final = re.compile(r"urn:oid:1\.2\.840\.114350\.1\.13(?:\.\d+)+\.7\.2\.657369")
#: Epic's message codes saying an answer may not hold the entire record: 4119, "This
#: response includes information available to the authorized user at the time of the
#: request. It may not contain the entire record available in the system." (a warning
#: of code ``informational`` or ``processing``, sent beside the results or beside 4101
#: "Resource request returns no results.").
_EPIC_CAVEATS: Final = frozenset({"4119"})
#: Epic's message code saying a search found nothing: 4101, "Resource request returns no
#: results." (no caveat: the list read and empty).
_EPIC_NO_RESULTS: Final = frozenset({"4101"})

#: Words of an issue saying the answer *may* not hold the entire record, without saying
#: that anything was left out (those are :data:`_LIMITED`'s): "It may not contain the
#: entire record available in the system", "information available to the authorized
#: user", "Results may not be complete", "may not reflect all allergies", "entries may
#: be missing", "completeness is not guaranteed"; or that the list itself was not taken:
#: "Patient has not been screened for allergies", "allergy status unknown", Epic's
#: "Allergies: Not on File" (an allergy list never documented, where a list taken and
#: empty is "No Known Allergies"), "not documented", "not recorded", "not assessed",
#: "unable to obtain". A caveat of the whole answer, read for :data:`CAVEAT_TYPES` only
#: (:func:`caveat`); an issue of an allergy search's answer whose words are not known to
#: leave the list whole (:data:`_BENIGN_ALLERGIES`) is one too.
_CAVEAT: Final = re.compile(
    r"(?<![a-z])(?:"
    # 'may not contain the entire record', 'might not be complete', 'may not show all'
    r"(?:may|might|could|can)(?:n't| not)(?: \w+){0,4}? "
    r"(?:entire\w*|complete\w*|whole|full|all|every\w*|exhaustive\w*)|"
    # 'entries may be missing'
    r"(?:may|might|could) (?:be )?(?:missing|lacking|absent)|"
    # 'not guaranteed to be complete', 'completeness is not guaranteed'
    r"not (?:be )?guaranteed (?:to be )?(?:complete|whole|full|exhaustive)\w*|"
    r"(?:completeness|complete\w*) (?:is |are )?not guaranteed|"
    # what the user or client may see, not the record: 'information available to the
    # authorized user'
    r"(?:available|visible|accessible) to the (?:authori[sz]ed |current |requesting )?"
    r"(?:user|client|app\w*|requester)|"
    # the list itself not taken: 'Patient has not been screened for allergies',
    # 'allergies not yet reviewed', 'allergy history not obtained', 'allergy status
    # unknown'
    r"(?:not|never) (?:yet )?(?:been )?(?:screened|assessed|reviewed|verified|obtained|"
    r"taken|asked|documented|recorded|entered|completed|confirmed|elicited|updated)|"
    r"allerg\w* (?:status|history) (?:is |are )?(?:unknown|unavailable|not known)|"
    # Epic's 'Allergies: Not on File': an allergy list never documented
    r"not (?:on|in) (?:the )?(?:file|chart|record)|"
    r"unable to (?:obtain|assess|review|verify|take|elicit|document|record|determine)|"
    r"undocumented|unrecorded|unassessed|unverified|unknown|not known"
    r")(?![a-z])")

#: The words of an issue that say of a search's answer no more than an empty searchset
#: does, each sentence of the issue's words (split at ``.``, ``;``, ``!``) read whole,
#: whatever the search: it found nothing ("No results found", "0 results", Epic's 4101
#: "Resource request returns no results."), it completed ("Search completed
#: successfully", "All OK"), every match was sent ("All available results were
#: returned"). Each search has besides its own words saying its list is empty
#: (:data:`_BENIGN_ALLERGIES`, :data:`_BENIGN_MEDICATIONS`): words about allergies say
#: nothing of a medication list, nor words about medications of an allergy list.
#: Every other issue of an OperationOutcome in the answer of an allergy or a medication
#: search (whatever its code and severity, an issue with no words at all, one in a
#: language or wording pecoma does not know: "Allergies: Not on File", "Some allergy
#: entries are confidential") is read as a caveat (:func:`caveat_issues`): an EHR said
#: something of the list that is not known to leave it whole, so what it did not send is
#: unknown, never absent.
_BENIGN_ANY: Final = (
    r"resource request returns no results|"
    r"(?:the )?search (?:was )?(?:completed|complete|succeeded|successful|ok)"
    r"(?: successfully)?|"
    r"(?:no|0|zero) (?:matching )?(?:results?|matches|records?|resources?|entries|entry)"
    r"(?: (?:were |was )?(?:found|returned|matched))?|"
    r"(?:search )?returned (?:no|0|zero) (?:results?|matches|entries)|"
    r"\d+ (?:matching )?(?:results?|matches|records?|resources?|entries|entry)"
    r"(?: (?:were |was )?(?:found|returned|matched))?|"
    r"all (?:available |matching )?(?:results|matches|records|resources|entries) "
    r"(?:were|are|have been) (?:returned|included|sent)|"
    r"all ok|ok|success(?:ful)?")
#: An allergy search's own words of an empty list: no allergies found, every allergy
#: sent, or the patient has no known allergies ("No known allergies", "NKDA").
_BENIGN_ALLERGIES: Final = re.compile(
    r"(?:" + _BENIGN_ANY + r"|"
    r"(?:no|0|zero) (?:matching )?(?:allergies|allergyintolerances?)"
    r"(?: (?:were |was )?(?:found|returned|matched))?|"
    r"all (?:available |matching )?(?:allergies|allergyintolerances) "
    r"(?:were|are|have been) (?:returned|included|sent)|"
    r"(?:the )?(?:patient has )?no known (?:drug )?allergies|nkda|nka"
    r")")
#: A medication search's own words of an empty list: the patient has no medications, none
#: on file, found or recorded ("No medications on file", "Patient has no medications").
#: Words about a part of the list ("No active medications", "No current medications")
#: say nothing of the drugs stopped or completed, the lines already given: they are not
#: among them, nor "No known medications" (what is not known is not said to be none).
_BENIGN_MEDICATIONS: Final = re.compile(
    r"(?:" + _BENIGN_ANY + r"|"
    r"(?:the )?(?:patient has |patient takes |patient is on )?(?:no|0|zero) "
    r"(?:matching )?(?:medications?|medication (?:records|statements|requests|orders|"
    r"administrations|dispenses)|medicationstatements?|medicationrequests?|"
    r"medicationadministrations?|medicationdispenses?)"
    r"(?: (?:were |was )?(?:on file|found|returned|matched|recorded|documented))?|"
    r"all (?:available |matching )?(?:medications|medication records) "
    r"(?:were|are|have been) (?:returned|included|sent)"
    r")")


def _benign(words: Sequence[str], medication: bool = False) -> bool:
    """Whether an issue's words (:func:`_issue_words`) are, sentence by sentence, words
    of an empty result of the search only (:data:`_BENIGN_ALLERGIES`; with
    ``medication``, :data:`_BENIGN_MEDICATIONS` and the sentences of Epic's 4119 notice,
    :data:`_EPIC_NOTICE`), and there are some."""
    benign = _BENIGN_MEDICATIONS if medication else _BENIGN_ALLERGIES
    sentences = [s.strip(" :,-\"'()") for t in words for s in re.split(r"[.;!\n]", _plain(t))]
    sentences = [s for s in sentences if s]
    return bool(sentences) and all(
        benign.fullmatch(s) is not None
        or (medication and _EPIC_NOTICE.fullmatch(s) is not None)
        for s in sentences)


#: The two sentences of Epic's message 4119, "This response includes information
#: available to the authorized user at the time of the request. It may not contain the
#: entire record available in the system.": a notice Epic sends with every answer, read
#: as no reason by itself for a medication search (:func:`caveat_issues`).
_EPIC_NOTICE: Final = re.compile(
    r"this response includes information available to the authori[sz]ed user at the time "
    r"of the request|it may not contain the entire record available in the system")


def caveat_issues(outcome: Mapping[str, Any], medication: bool = False) -> list[str]:
    """The issues of an OperationOutcome saying the answer may not hold the entire record
    (Epic's message 4119 by its code, or words of :data:`_CAVEAT`, whatever the issue's
    code and severity), each as ``severity: code`` with the Epic code and the words said
    (shortened), or none. With ``medication`` (the answer of a medication search:
    :data:`MEDICATION_TYPES`), Epic's 4119 notice (its code with no words, or its own
    words, :data:`_EPIC_NOTICE`, with or without the code) is none: Epic sends it with
    every answer, and the medication lists are read as sent beside it; every other issue
    whose words are not known to say no more than an empty result is one ("Medications:
    Not on File"), the 4119 code beside those words or not."""
    issues = outcome.get("issue")
    out = []
    for x in issues if isinstance(issues, list) else []:
        words = _issue_words(x) if isinstance(x, dict) else None
        if words is None:
            continue  # not an issue, or its words cannot be read: unreadable_outcome's
        codings = (x.get("details") or {}).get("coding") or []
        epic = _epic_codes(codings, _EPIC_CAVEATS)
        if medication and (_benign(words, medication=True)
                           or (epic and not any(t.strip() for t in words))):
            continue
        # with medication, the code says nothing beside other words: judged as they are
        caveat_coded = [] if medication else epic
        said = next((t for t in words if _CAVEAT.search(_plain(t)) is not None), None)
        # not known to leave the list whole: any words but the search's own words of an
        # empty result (_BENIGN_ALLERGIES, _BENIGN_MEDICATIONS), or none
        # (Epic's 4101 'no results' by its code alone is known); one saying the search
        # failed or left entries out, or that cannot be read, is said as such already
        # (failed_issues, unreadable_outcome)
        unknown = not caveat_coded and said is None and not (
            _benign(words, medication) or (not any(t.strip() for t in words) and _epic_codes(
                codings, _EPIC_NO_RESULTS))) and not _fails_or_unread(x, words)
        if not caveat_coded and said is None and not unknown:
            continue
        shown = said or next((t for t in words if t.strip()), "")
        out.append(": ".join(v[:40] if isinstance(v, str) else _kind(v)
                             for v in (x.get("severity"), x.get("code")))
                   + (f", Epic message {epic[0]}" if epic else "")
                   + (f' "{" ".join(shown.split())[:200]}"' if shown.strip() else
                      " (no words)" if unknown else "")
                   + (", words not known to leave the list whole" if unknown else ""))
    return out


def _fails_or_unread(issue: Mapping[str, Any], words: Sequence[str]) -> bool:
    """Whether an issue says the search failed or left entries out (:func:`failed_issues`)
    or has a severity or code that is not FHIR R4's (:func:`unreadable_outcome`)."""
    severity, code = issue.get("severity"), issue.get("code")
    return (severity in ("error", "fatal") or severity not in _SEVERITIES
            or code not in _ISSUE_TYPES or code in _LEFT_OUT or _says_limited(words))


def _epic_codes(codings: Any, wanted: Collection[str]) -> list[str]:
    """The codes of ``wanted`` among the codings of Epic's message system."""
    return [cd["code"].strip() for cd in (codings if isinstance(codings, list) else [])
            if isinstance(cd, dict) and isinstance(cd.get("system"), str)
            and _EPIC_MESSAGES.fullmatch(cd["system"]) and isinstance(cd.get("code"), str)
            and cd["code"].strip() in wanted]


def _caveats(bundle: Mapping[str, Any], medication: bool = False) -> list[str]:
    """The issues of :func:`caveat_issues` of a Bundle's outcomes, and of the Bundles its
    entries hold."""
    if _only_resources(bundle):
        return []
    return [*(issue for _at, res in _outcomes(bundle)
              for issue in caveat_issues(res, medication)),
            *(issue for _at, nested in nested_bundles(bundle)
              for issue in _caveats(nested, medication))]


def caveat(bundle: Mapping[str, Any]) -> str | None:
    """Why a Bundle says it may not hold the entire record (an OperationOutcome entry of
    :func:`caveat_issues`: Epic's 4119; one in a Bundle an entry holds, a search answered
    in a batch-response, too), or ``None``. Not taken as the whole result of a search of
    :data:`CAVEAT_TYPES` (:func:`incomplete` with ``searched``, the FHIR client, the FHIR
    reader's allergies): what it did not send is unknown, never absent."""
    return _caveat_said(_caveats(bundle))


def medication_caveat(bundle: Mapping[str, Any], whole_record: bool = False) -> str | None:
    """Why the answer of a medication search (:data:`MEDICATION_TYPES`) is not known to
    hold the whole list, by what an OperationOutcome in it says (:func:`caveat_issues`
    with ``medication``: "Medications: Not on File", words pecoma does not know), or
    ``None``. With ``whole_record`` (a bundle of the whole record, ``pecoma fhir
    to-case``: which search an outcome answers cannot be told), an issue whose words name
    the allergies and no medication is the allergy search's (:func:`caveat`), not one of
    the medication lists."""
    said = _caveats(bundle, medication=True)
    if whole_record:
        said = [x for x in said if _ALLERGY_WORDS.search(x.lower()) is None
                or _MEDICATION_WORDS.search(x.lower()) is not None]
    return _caveat_said(said, medication=True)


#: Words naming the allergy list, and the medication lists (:func:`medication_caveat`).
_ALLERGY_WORDS: Final = re.compile(r"allerg|intoleran")
_MEDICATION_WORDS: Final = re.compile(r"medic|drug|prescri|pharmac|dispens|administ")


def _caveat_said(said: list[str], medication: bool = False) -> str | None:
    """:func:`caveat`'s words for the issues ``said`` (with ``medication``,
    :func:`medication_caveat`'s), or ``None`` when there are none."""
    if not said:
        return None
    if medication:
        return (f"an OperationOutcome in it says what is not known to leave the medication "
                f"list whole ({'; '.join(said[:2])}): a medication it did not send may be "
                "a line of therapy already given, so the list is not taken as whole, and "
                "the lines already given are unknown, never none")
    lead = ("says it may not hold the entire record" if not all(
        s.endswith(", words not known to leave the list whole") for s in said) else
        "says what is not known to leave the allergy list whole, so it may not hold the "
        "entire record")
    return (f"an OperationOutcome in it {lead} "
            f"({'; '.join(said[:2])}): an allergy it did not send may rule a drug out, so "
            "the allergy list is not taken as whole; a drug is proposed only from an "
            "allergy search the EHR answers without such a caveat")


def unreadable_outcome(outcome: Mapping[str, Any]) -> str | None:
    """Why the issues of an OperationOutcome cannot be read, or ``None``: its ``issue``
    is not a list of issues (FHIR: one or more), or an issue is no object, has no
    ``severity`` or ``code`` of FHIR R4's (:data:`_SEVERITIES`, :data:`_ISSUE_TYPES`), or
    gives its words where or as FHIR does not (:func:`_issue_words`). Whether such an
    outcome says that the search failed or left things out cannot be told: the search
    is not taken as whole."""
    issues = outcome.get("issue")
    if issues is None or issues == []:
        return "it holds no issue (FHIR: one or more)"
    if not isinstance(issues, list):
        return f"its 'issue' is {_kind(issues)}, not a list of issues"
    for i, x in enumerate(issues):
        if not isinstance(x, dict):
            return f"its issue[{i}] is {_kind(x)}, not an issue"
        for key, allowed in (("severity", _SEVERITIES), ("code", _ISSUE_TYPES)):
            value = x.get(key)
            if not isinstance(value, str) or value not in allowed:
                return (f"its issue[{i}].{key} is not a FHIR R4 issue {key} (got "
                        f"{_said(value) if key in x else '(missing)'})")
        if _issue_words(x) is None:
            return (f"its issue[{i}] gives its diagnostics or details in a form FHIR "
                    "does not (words that cannot be read)")
    return None


def _kind(value: Any) -> str:
    """What a JSON value is, in words ('an object', 'a string')."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return {dict: "an object", list: "a list", str: "a string", int: "a number",
            float: "a number"}.get(type(value), f"a {type(value).__name__}")


def _said(value: Any) -> str:
    """A code as sent (quoted, short), or what was sent instead."""
    return repr(value[:40]) if isinstance(value, str) else _kind(value)


#: The code system of the labels below (HL7 v3 ObservationValue, as FHIR R4 names it;
#: ``http://hl7.org/fhir/v3/ObservationValue`` is its STU3 name), and a label sent
#: without a system.
_OBSERVATION_VALUE: Final = frozenset({
    "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "http://hl7.org/fhir/v3/ObservationValue", None})

#: Labels saying information was left out of what was sent (FHIR R4: security-labels.html
#: and the value set common-tags, both from HL7 v3 ObservationValue): ``REDACTED``, a
#: security label, "information removed ... for security reasons" (FHIR R4 uses it where
#: search results are withheld from the user); ``SUBSETTED``, the tag a ``_summary`` or
#: ``_elements`` result carries (search.html), "some information has been removed from the
#: source object ... the content may not be suitable for use". Either is read in
#: ``meta.security`` or ``meta.tag``: the same words in the other list say the same thing.
WITHHELD_LABELS: Final[Mapping[str, str]] = {
    "REDACTED": "information was withheld from it for security or privacy reasons",
    "SUBSETTED": "some of its information was left out of the copy sent",
}


def withheld_label(resource: Mapping[str, Any]) -> str | None:
    """Why a resource (a Bundle, or one of its resources) says, by a label in its
    ``meta`` (:data:`WITHHELD_LABELS`), that it is not the whole of what the server holds
    (``"labelled REDACTED: ..."``), or why its labels cannot be read (a ``meta`` that is
    no object, a ``meta.security`` or ``meta.tag`` that is no list of labels, the string
    ``"REDACTED"`` in place of one, a label that is no object or whose ``system`` or
    ``code`` is no string: whether it says information was withheld cannot be told), or
    ``None``."""
    if "meta" not in resource:
        return None
    meta = resource["meta"]
    if not isinstance(meta, dict):  # null too: FHIR JSON has no nulls
        return _labels_unread(f"its meta is {_kind(meta)}, not an object")
    for key in ("security", "tag"):
        if key not in meta:
            continue
        labels = meta[key]
        if not isinstance(labels, list):
            shown = f" {_said(labels)}" if isinstance(labels, str) else ""
            return _labels_unread(f"meta.{key} is {_kind(labels)}{shown}, not a list of "
                                  "labels")
        for i, label in enumerate(labels):
            system = label.get("system") if isinstance(label, dict) else None
            code = label.get("code") if isinstance(label, dict) else None
            if not isinstance(label, dict) or not isinstance(system, str | None) or (
                    not isinstance(code, str | None)):
                return _labels_unread(f"meta.{key}[{i}] is not a label (an object whose "
                                      "system and code are strings)")
            if system in _OBSERVATION_VALUE and isinstance(code, str) and (
                    code in WITHHELD_LABELS):
                return f"labelled {code} (meta.{key}): {WITHHELD_LABELS[code]}"
    return None


def _labels_unread(why: str) -> str:
    """The reason :func:`withheld_label` gives for labels that cannot be read (said of a
    resource: 'it is ...', 'the Bundle is ...')."""
    return (f"labelled in a form that cannot be read ({why}): whether information was "
            "withheld from it cannot be told")


def _entries(bundle: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    entries = bundle.get("entry")
    return [e for e in (entries if isinstance(entries, list) else []) if isinstance(e, dict)]


def failed_issues(outcome: Mapping[str, Any]) -> list[str]:
    """The issues of an OperationOutcome saying a search failed or left things out
    (``severity: code``), or none: severity ``error`` or ``fatal``; a code of
    :data:`_LEFT_OUT` whatever the severity (``timeout`` and ``throttled`` included: a
    warning "partial results returned" is no whole result); or, whatever the code, words
    saying the results are limited or partial, or that entries were left out
    (:data:`_LIMITED`). An outcome whose issues cannot be read is
    :func:`unreadable_outcome`'s."""
    issues = outcome.get("issue")
    out = []
    for x in issues if isinstance(issues, list) else []:
        if not isinstance(x, dict):
            continue
        words, code = _issue_words(x), x.get("code")
        if (x.get("severity") in ("error", "fatal")
                or (isinstance(code, str) and code in _LEFT_OUT)
                or (words is not None and _says_limited(words))):
            out.append(": ".join(v[:40] if isinstance(v, str) else _kind(v)
                                 for v in (x.get("severity"), code)))
    return out


def _limiting_words(outcomes: Sequence[Mapping[str, Any]]) -> str | None:
    """The first words of an issue of ``outcomes`` that says the results are limited or
    that entries were left out (:data:`_LIMITED`: "Some allergy entries are
    confidential"), to quote them where that issue is named by its severity and code."""
    for res in outcomes:
        for x in _as_issues(res):
            for t in _issue_words(x) or []:
                if _LIMITED.search(_plain(t)) is not None:
                    return t
    return None


def _outcomes(bundle: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """``(where, resource)`` of each OperationOutcome of a Bundle's entries: an entry's
    resource (``Bundle.entry[3]``), or the ``response.outcome`` of a request of a
    batch-response or transaction-response that did not fail
    (``Bundle.entry[3].response.outcome``: hints and warnings; a failed request's is
    :func:`failed_requests`')."""
    kind = bundle.get("type")
    entries = bundle.get("entry")
    out: list[tuple[str, Mapping[str, Any]]] = []
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict):
            continue
        res = entry.get("resource")
        if isinstance(res, dict) and res.get("resourceType") == "OperationOutcome":
            out.append((f"Bundle.entry[{i}]", res))
        if "response" not in entry:  # nearly every entry: a record read, not a batch's
            continue
        response = entry["response"]
        said = response.get("outcome") if isinstance(response, dict) else None
        if isinstance(said, dict) and said.get("resourceType") == "OperationOutcome" and (
                (answered := answer(entry, kind)) is None or not answered.failed):
            out.append((f"Bundle.entry[{i}].response.outcome", said))
    return out


def outcome_issues(bundle: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    """``(where, issues)`` of each OperationOutcome of a Bundle's entries
    (:func:`_outcomes`) saying the search failed or left things out."""
    return _failing(_outcomes(bundle))


def _failing(outcomes: list[tuple[str, Mapping[str, Any]]]) -> list[tuple[str, list[str]]]:
    return [(at, said) for at, res in outcomes if (said := failed_issues(res))]


def unreadable_outcomes(bundle: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(where, why)`` of each OperationOutcome of a Bundle's entries whose issues
    cannot be read (:func:`unreadable_outcome`): whether it says the search failed
    cannot be told, so the Bundle is not taken as the whole result."""
    return _unreadable(_outcomes(bundle))


def _unreadable(outcomes: list[tuple[str, Mapping[str, Any]]]) -> list[tuple[str, str]]:
    return [(at, why) for at, res in outcomes if (why := unreadable_outcome(res)) is not None]


#: The resources an entry may hold that a search result says something of itself by
#: (an outcome, a Bundle answering a search of a batch).
_LOOKED_AT: Final = ("OperationOutcome", "Bundle")


def _only_resources(bundle: Mapping[str, Any]) -> bool:
    """Whether every entry of a Bundle holds a resource of the record and nothing more
    to look at: no OperationOutcome, no Bundle, no ``response`` (nearly every Bundle an
    EHR sends). Such a Bundle has no entry of :func:`unusable_entry`,
    :func:`failed_requests`, :func:`_outcomes` or
    :func:`pecoma.fhir.entries.nested_bundles`: one look instead of one for each."""
    if "entry" not in bundle:
        return True
    entries = bundle["entry"]
    if not isinstance(entries, list):
        return False
    for entry in entries:
        res = entry.get("resource") if isinstance(entry, dict) else None
        if not (isinstance(res, dict) and isinstance(kind := res.get("resourceType"), str)
                and kind not in _LOOKED_AT and "response" not in entry):
            return False
    return True


def failed_requests(bundle: Mapping[str, Any]) -> list[str]:
    """Each entry of a batch-response, transaction-response or history that holds no
    resource and whose request failed (:func:`pecoma.fhir.entries.answer`: a status
    from 400, or one that is no HTTP status), as ``Bundle.entry[i]: response.status
    '...'`` with what its outcome says: what it would have returned is unknown."""
    kind = bundle.get("type")
    entries = bundle.get("entry")
    out = []
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if kind not in RESPONSE_TYPES or not isinstance(entry, dict) or (
                entry.get("resource") is not None):
            continue
        answered = answer(entry, kind)
        if answered is None or not answered.failed:
            continue
        said = f"Bundle.entry[{i}]: response.status {answered.status!r}"
        if answered.outcome is not None:
            issues = failed_issues(answered.outcome) or ["(no error issue)"]
            words = next((w for x in _as_issues(answered.outcome)
                          for w in (_issue_words(x) or []) if w.strip()), "")
            said += (f", its outcome {'; '.join(issues[:2])}"
                     + (f' "{" ".join(words.split())[:120]}"' if words else ""))
        out.append(said)
    return out


def _as_issues(outcome: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The issues of an OperationOutcome that are objects."""
    issues = outcome.get("issue")
    return [x for x in (issues if isinstance(issues, list) else []) if isinstance(x, dict)]


def next_urls(bundle: Mapping[str, Any]) -> list[Any]:
    """The ``url`` of each ``next`` link of a Bundle, as sent (``None`` when a link has
    none). The relation is read in any case (RFC 8288: ``Next`` is ``next``); the
    prefetch check and the FHIR client both read the links here."""
    links = bundle.get("link")
    return [link.get("url") for link in (links if isinstance(links, list) else [])
            if isinstance(link, dict) and isinstance(link.get("relation"), str)
            and link["relation"].strip().lower() == "next"]


def unreadable_links(bundle: Mapping[str, Any]) -> str | None:
    """Why a Bundle's links cannot be read, or ``None``: its ``link`` is no list of links
    (one link object given in place of the list, ``{"relation": "next", ...}``), or a link
    is no object or has no relation (a string): whether a ``next`` page follows cannot be
    told, so the Bundle is not taken as the whole result."""
    if "link" not in bundle:
        return None
    links = bundle["link"]
    if not isinstance(links, list):  # null too: FHIR JSON has no nulls
        return (f"its 'link' is {_kind(links)}, not a list of links: whether a next page "
                "follows cannot be told")
    for i, link in enumerate(links):
        if not isinstance(link, dict) or not isinstance(link.get("relation"), str):
            return (f"its link[{i}] is not a link with a relation: whether a next page "
                    "follows cannot be told")
    return None


def has_next(bundle: Mapping[str, Any]) -> bool:
    """Whether the Bundle is one page of several (a ``next`` link)."""
    return bool(next_urls(bundle))


def matches(bundle: Mapping[str, Any], searched: Collection[str] | None = None) -> int:
    """The entries of a Bundle that are matches of the search: search mode ``match``, or
    no mode and a resource of a type searched for (``searched``: the types the query asks
    for; when not known, any type but OperationOutcome). ``include`` and ``outcome``
    entries are not matches, nor an entry with no mode holding another type (the
    Medication a MedicationRequest search ``_include``s, sent without its mode)."""
    count = 0
    for entry in _entries(bundle):
        search = entry.get("search")
        mode = search.get("mode") if isinstance(search, dict) else None
        res = entry.get("resource")
        kind = res.get("resourceType") if isinstance(res, dict) else None
        if mode == "match" or (mode is None and kind != "OperationOutcome" and (
                searched is None or kind in searched)):
            count += 1
    return count


def bad_total(bundle: Mapping[str, Any]) -> str | None:
    """Why a Bundle's ``total`` is no count (FHIR ``unsignedInt``: a whole number from 0),
    or ``None`` when it is one or is not given. How many the search found is then
    unknown, so whether the Bundle holds them all is unknown too."""
    if "total" not in bundle:
        return None
    total = bundle["total"]  # null too: FHIR JSON has no nulls
    if isinstance(total, int) and not isinstance(total, bool) and total >= 0:
        return None
    try:
        shown = json.dumps(total)
    except (TypeError, ValueError):  # not from JSON: said by its type
        shown = type(total).__name__
    return (f"its 'total' is not a count of matches (a whole number from 0; got "
            f"{shown[:40]}): how many the search found is unknown")


def left_out(bundle: Mapping[str, Any], held: int | None = None,
             searched: Collection[str] | None = None) -> tuple[int, int] | None:
    """``(total, held)`` when a Bundle's ``total`` (whatever its type) is larger than the
    matches it holds (``held``: the matches of all its pages, if read over several;
    else :func:`matches` with ``searched``) and it has no further page; else ``None``."""
    total = bundle.get("total")
    if bad_total(bundle) is not None or not isinstance(total, int) or has_next(bundle):
        return None
    count = matches(bundle, searched) if held is None else held
    return (total, count) if total > count else None


def unusable_entry(bundle: Mapping[str, Any]) -> str | None:
    """Why an entry of a Bundle cannot be read, or ``None``: its ``entry`` is not a list,
    or an entry holds no FHIR resource (no object with a ``resourceType``: a match the
    server left out or masked). What that entry held is unknown. A history's DELETE
    entry and the response of a request holding no resource
    (:func:`pecoma.fhir.entries.answer`; a failed one is :func:`failed_requests`') are
    no such entry."""
    if "entry" not in bundle:
        return None
    entries = bundle["entry"]
    if not isinstance(entries, list):  # null too: FHIR JSON has no nulls
        return "its 'entry' is not a list of entries" + (
            " (null: FHIR JSON has no null values)" if entries is None else "")
    for i, entry in enumerate(entries):
        res = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(res, dict) and isinstance(res.get("resourceType"), str):
            continue
        if deleted(entry) is None and answer(entry, bundle.get("type")) is None:
            return f"Bundle.entry[{i}] is an entry that holds no FHIR resource"
    return None


def foreign(resources: Sequence[Mapping[str, Any]], wanted: str,
            included: tuple[str, ...] = ()) -> str | None:
    """Why ``resources``, the answer to a search for ``wanted`` (with ``included`` types
    it may ``_include``), answers another query, or ``None``: it holds resources, and
    none of the type searched for (a prefetch key wired to the wrong query). OperationOutcome
    entries are not counted."""
    kinds = {str(r.get("resourceType")) for r in resources} - {"OperationOutcome"}
    if not kinds or wanted in kinds or kinds <= set(included):
        return None
    return (f"it holds no {wanted} but {', '.join(sorted(kinds)[:3])}: it answers "
            "another query")


def incomplete(bundle: Mapping[str, Any],
               searched: Collection[str] | None = None) -> str | None:
    """Why a Bundle is not the whole result of its search, or ``None`` when nothing says
    so: a label in its ``meta`` saying information was withheld, or labels that cannot
    be read (:func:`withheld_label`), an entry that holds no resource, a request of a
    batch-response (or transaction-response, history) that failed
    (:func:`failed_requests`), an OperationOutcome entry (or a request's
    ``response.outcome``) saying the search failed or left things out, or one whose
    issues cannot be read (:func:`unreadable_outcome`), a ``next`` link, links that
    cannot be read (:func:`unreadable_links`), a ``total`` that is no count, a ``total``
    above the matches held (``searched``: the types the query asks for, when known; see
    :func:`matches`), or a Bundle held in one of its entries (a search answered in a
    batch-response) that is not the whole result of its search, for any of these
    reasons. A signal of a partial result sent in a form that cannot be read
    counts as one: the Bundle is then not known to be whole. For a search of
    :data:`CAVEAT_TYPES` (the allergy list), an OperationOutcome saying the answer may not
    hold the entire record counts too (:func:`caveat`: Epic's 4119)."""
    reasons = []
    label = withheld_label(bundle)
    if label is not None:
        reasons.append(f"the Bundle is {label}")
    plain = _only_resources(bundle)  # no entry to look at one by one below
    unusable = None if plain else unusable_entry(bundle)
    if unusable is not None:
        reasons.append(unusable)
    requests = [] if plain else failed_requests(bundle)
    if requests:
        reasons.append(f"a request answered in it failed ({'; '.join(requests[:2])}"
                       + (f"; and {len(requests) - 2} more" if len(requests) > 2 else "")
                       + "): what it would have returned is unknown")
    outcomes = [] if plain else _outcomes(bundle)
    failed = _failing(outcomes)
    if failed:
        quoted = _limiting_words([res for _at, res in outcomes])
        reasons.append("the search failed or left entries out (OperationOutcome in the "
                       f"Bundle: {'; '.join(failed[0][1][:3])}"
                       + (f', "{" ".join(quoted.split())[:200]}"' if quoted else "") + ")")
    unread = _unreadable(outcomes)
    if unread:
        reasons.append(f"an OperationOutcome in the Bundle ({unread[0][0]}) "
                       f"cannot be read ({unread[0][1]}): whether the search failed or "
                       "left entries out cannot be told")
    if has_next(bundle):
        reasons.append("only the first page of the search was sent (a 'next' link)")
    links = unreadable_links(bundle)
    if links is not None:
        reasons.append(links)
    malformed = bad_total(bundle)
    if malformed is not None:
        reasons.append(malformed)
    short = left_out(bundle, searched=searched)
    if short is not None:
        reasons.append(f"the search found {short[0]} but sent {short[1]} (its 'total'): "
                       "entries were left out")
    # the Bundle's own caveat; one of a Bundle it holds is said with that Bundle's reasons
    kinds = set(searched or ())
    said = (_caveat_said([issue for _at, res in outcomes for issue in caveat_issues(res)])
            if kinds & set(CAVEAT_TYPES) else
            _caveat_said([issue for _at, res in outcomes
                          for issue in caveat_issues(res, medication=True)], medication=True)
            if kinds & set(MEDICATION_TYPES) else None)
    if said is not None:
        reasons.append(said)
    for at, nested in [] if plain else nested_bundles(bundle):
        why = incomplete(nested, searched)
        if why is not None:
            kind = nested.get("type")
            shown = f"a {kind[:40]} Bundle" if isinstance(kind, str) else "a Bundle"
            reasons.append(f"{shown} held in {at} is not the whole result of its search "
                           f"({why})")
    return "; ".join(reasons) or None
