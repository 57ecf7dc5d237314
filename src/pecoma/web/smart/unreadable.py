"""The page of a record from which no PEComa case could be read, in a clinician's words.

The reader's issues (:class:`~pecoma.errors.FieldIssue`) are written for integrators:
field paths, resource ids, code systems. The clinician reads what was found, by the
form's labels (no PEComa diagnosis in the record; the part of the record that could not
be read, and why) and what to do; a complaint that only follows from an earlier one (no
disease status when there is no PEComa at all) is left out. The issues as the reader
wrote them go in a collapsed "details for the integrator" section of the same page, and
the log gets only their kinds (never a value, an id or the patient's).

A record holding another patient's data (the reader's
:class:`~pecoma.errors.OtherPatientError`, the detection the CDS service's "holds another
patient's data" card rests on) gets its own page (:func:`other_patient`): that is what
happened, and nothing of the record was read or assessed; never "no PEComa", and never
the other patient's identifier or the ids of their resources, on the page or in the log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from pecoma.errors import FieldIssue
from pecoma.web.form_messages import plain
from pecoma.web.smart.errors import LaunchError
from pecoma.web.smart.record import SEARCHES
from pecoma.web.summary import field_label

__all__ = ["other_patient", "unreadable"]

TITLE = "No PEComa case could be read from this record"
OTHER_TITLE = "The EHR sent another patient's data"
BY_HAND = "Enter the case by hand on a new case form, from the pathology and surgery reports."

#: What a resource of each kind is, in words (the start of a sentence).
_KIND_WORDS = {
    "Condition": "A diagnosis",
    "Observation": "A result or finding",
    "Procedure": "An operation or procedure",
    "MedicationRequest": "A medication record",
    "MedicationAdministration": "A medication record",
    "MedicationStatement": "A medication record",
    "MedicationDispense": "A medication record",
    "Medication": "A medication record",
    "AllergyIntolerance": "An allergy or intolerance entry",
    "Patient": "The patient's details",
    "Encounter": "A visit",
}
_KIND = re.compile(r"\b(" + "|".join(sorted(_KIND_WORDS, key=len, reverse=True)) + r")/")

#: Why the disease status could not be derived, by the words of the reader's rule.
_STATUS_WHY = (
    ("set aside as not the PEComa's", "the only metastases recorded were found to be "
     "another cancer's, not the PEComa's, and nothing else says whether the PEComa has "
     "spread"),
    ("abatementDateTime", "metastases are recorded as resolved, without the date they "
     "resolved"),
    ("code and words disagree", "a history of metastatic cancer is recorded whose code and "
     "words disagree (one says there was one, the other that there was none), so whether "
     "there was one is not known"),
    ("history of metastatic cancer", "a history of metastatic cancer is recorded without "
     "the site, the date or whether it is present now"),
    ("stage IV", "stage IV is recorded without the metastases or the disease status"),
    ("cannot read", "a stage is recorded in a code pecoma cannot read, so whether there are "
     "distant metastases is not known"),
    ("lymph-node involvement", "involved lymph nodes are recorded without when they were "
     "found (at diagnosis, or as a relapse)"),
    ("Observations were not all read", "the record says there was no metastatic cancer, "
     "but not all of its results could be read (see above), and one of those may say "
     "otherwise"),
)


def _value(issue: FieldIssue) -> str:
    """The issue's value as the reader gave it (``show_value`` quotes a text)."""
    return issue.value.strip("'")


def _case_path(path: str) -> str | None:
    """The case field an issue is about (``stage.status``, or the path of ``path (from
    Observation/x)``), ``None`` for a part of the record (a resource, the Bundle)."""
    head = path.split(" (from ", 1)[0]
    if re.fullmatch(r"[a-z_]+(\[\d+\])?(\.[a-z_0-9]+(\[\d+\])?)*", head):
        return head
    return None


def _resource_words(issue: FieldIssue) -> str:
    m = _KIND.search(issue.path) or _KIND.search(issue.value)
    if m:
        return _KIND_WORDS[m[1]]
    if issue.path.startswith(("Patient", "Bundle.entry (Patient)", "Bundle.entry (subject)")):
        return "The patient's details"
    return "Part of the record"


def _record_point(issue: FieldIssue) -> str:
    """A problem with a part of the record, in words."""
    what = _resource_words(issue)
    rule = issue.rule
    if "another patient" in rule or "one patient" in rule or "one patient's" in rule:
        why = "it may belong to another patient, so nothing of this record can be used"
    elif "its patient cannot be confirmed" in rule:
        why = "it was not read, as it cannot be confirmed to be this patient's"
    elif "must not repeat" in rule:
        why = "it was sent twice with different content, and which version holds cannot be told"
    else:
        why = "it holds a value pecoma cannot read"
    return f"{what} could not be used: {why} (the details for the integrator below say which)."


def _status_point(issue: FieldIssue, unread: bool) -> str:
    label = field_label("stage.status")
    if unread:
        return (f"{label}: could not be read, as part of the record could not be read "
                "(see above).")
    for words, why in _STATUS_WHY:
        if words in issue.rule:
            return f"{label}: cannot be told from the record, as {why}. pecoma never assumes it."
    return (f"{label}: not found in the record (localized, locally advanced and "
            "unresectable, recurrent or metastatic). pecoma never assumes it.")


def unreadable(issues: Sequence[FieldIssue], failed: Sequence[tuple[str, str]],
               causes: Mapping[str, str] | None = None,
               partial: Mapping[str, str] | None = None,
               details: Mapping[str, str] | None = None) -> LaunchError:
    """The page (422) for a record the reader refused with ``issues``, the searches of
    ``failed`` (kind, what it gives) having given no usable answer; ``causes``: why some
    of them ended, when asking again will not change it (a page limit, a refusal), by
    kind; ``partial``: the searches read only in part, with what was and was not read;
    ``details``: what the FHIR client said of each, for the integrator."""
    causes, partial, details = causes or {}, partial or {}, details or {}
    kinds = {kind for kind, _ in failed}
    points: list[str] = []
    actions: list[str] = []
    categories: list[str] = []
    transient = [(k, g) for k, g in failed if k not in causes]
    if transient:
        gives = list(dict.fromkeys(g for _k, g in transient))
        points.append("The EHR gave no usable answer when pecoma asked for part of the "
                      f"record: {'; '.join(gives)}.")
        categories.append("search failed")
    for kind, what in failed:
        if kind in causes:
            points.append(f"Not read from the EHR: {what}, as {causes[kind]}.")
            categories.append("search stopped")
    for kind, why in partial.items():
        points.append(f"Read only in part: {dict(SEARCHES).get(kind, kind)}, as {why}.")
        categories.append("search read in part")
    # the reader's refusal for a record holding no PEComa diagnosis it can read: its value
    # names what it found and set aside or did not read, '(none found)' when nothing
    no_diagnosis = [i for i in issues if i.path == "Condition"
                    and "must hold the PEComa diagnosis" in i.rule]
    if no_diagnosis:
        categories.append("no PEComa diagnosis")
        found = _value(no_diagnosis[0]).strip('"')
        if "Condition" in kinds:
            detail = ("pecoma could not look for a PEComa diagnosis: the patient's diagnoses "
                      "could not be read.")
        elif "records a metastasis of PEComa" in no_diagnosis[0].rule:
            detail = ("This patient's record holds a metastasis of PEComa but no diagnosis "
                      "of its primary tumour: the guideline check reads the primary "
                      "PEComa's site and pathology (the details for the integrator below "
                      "name the metastasis).")
            actions.append("Record the primary PEComa's diagnosis in the EHR (on the problem "
                           "list, with its site), then open pecoma again from the chart.")
        elif found != "(none found)":
            detail = ("This patient's record holds no PEComa diagnosis pecoma can read: "
                      "a diagnosis or a pathology result naming a PEComa was found but set "
                      "aside (recorded as refuted or entered in error) or could not be read "
                      "(the details for the integrator below say which, and why).")
            actions.append("Check that diagnosis in the EHR (its verification status, or "
                           "the pathology result's coding), then open pecoma again from "
                           "the chart.")
        else:
            detail = ("This patient's record holds no PEComa diagnosis: none of the "
                      "diagnoses read names a PEComa (perivascular epithelioid cell "
                      "tumour), nor does any pathology result"
                      + (" that could be read" if "Observation" in kinds else "")
                      # results the reader could not read (no value, words it does not
                      # read) naming no PEComa: said, never as a PEComa found
                      + (" pecoma could read (some could not be read, none of them naming "
                         "a PEComa: the details for the integrator below name them)"
                         if "a result naming no PEComa, is not read" in no_diagnosis[0].rule
                         and "Observation" not in kinds else "") + ".")
            actions.append("If the patient has a PEComa, check that the diagnosis is "
                           "recorded in the EHR (on the problem list or in the pathology "
                           "result), then open pecoma again from the chart.")
        # what follows from no diagnosis at all (no disease status, ...) is not said
    else:
        detail = "pecoma could not read a PEComa case from this patient's record."
        for issue in issues:
            if issue.path == "Condition":
                categories.append("PEComa diagnoses disagree")
                points.append("The record holds more than one current PEComa diagnosis, at "
                              "different primary sites: which is the primary tumour cannot "
                              "be told.")
                actions.append("In the EHR, record the other diagnosis as a metastasis or "
                               "as resolved, then open pecoma again from the chart.")
            elif issue.path == "stage.status" and _value(issue) == "(not found)":
                categories.append("disease status not found")
                points.append(_status_point(issue, bool(kinds & {"Condition", "Observation"})))
            elif (issue.path.endswith((".bodySite", ".extension(bodySite)"))
                  and issue.path.startswith("Condition/")):
                categories.append("primary site not found")
                points.append(f"{field_label('tumour.primary_site')}: the PEComa diagnosis "
                              "does not name it in a way pecoma can read.")
            elif (path := _case_path(issue.path)) is not None:
                categories.append("fact not usable")
                points.append(f"{field_label(path)}: {plain(issue.rule)}.")
            else:
                categories.append("record not usable")
                points.append(_record_point(issue))
        if not failed and any(c != "disease status not found" for c in categories):
            actions.append("Correct the record in the EHR, then open pecoma again from the "
                           "chart.")
    if transient:
        actions.append("Try again from the EHR later; if it keeps failing, ask the EHR's "
                       "administrator whether pecoma may read these parts of the record.")
    if any(kind in causes for kind, _ in failed):
        actions.append("Trying again will end the same way: show the details below to "
                       "pecoma's administrator (a page limit is the setting "
                       "smart.fhir_max_pages; a search the EHR refuses is one it asks to "
                       "be made otherwise).")
    actions.append(BY_HAND)
    technical = [str(i) for i in issues[:20]]
    if len(issues) > 20:
        technical.append(f"and {len(issues) - 20} more")
    technical += [f"{kind} search: {details.get(kind, 'no usable answer')} ({gives})"
                  for kind, gives in failed]
    technical += [f"{kind} search read in part: {details.get(kind, why)}"
                  for kind, why in partial.items()]
    return LaunchError(422, TITLE, detail, points=tuple(dict.fromkeys(points)),
                       actions=tuple(actions), technical=tuple(technical),
                       logged=tuple(dict.fromkeys(categories)))


#: A resource's field as the reader names it, ``Condition/c-7.subject``: its kind and the
#: field, without the resource's id (an id of the other patient's record).
_FIELD = re.compile(r"^([A-Za-z]+)/[^.\s]+(\.[A-Za-z.\[\]0-9]+)?")


def _field_without_id(path: str) -> str:
    m = _FIELD.match(path)
    if m:
        return m[1] + (m[2] or "")
    return re.sub(r"\[\d+\]", "", path)  # Patient.id, Bundle.entry[3].subject: no value


def other_patient(foreign: Sequence[FieldIssue]) -> LaunchError:
    """The page (502) for a record whose resources are another patient's (``foreign``: the
    reader's issues naming them): what happened, that nothing was read or assessed, and
    what to do. Only kinds of resource and field names are shown, with how many; never a
    value (the other patient's reference or identifier) nor a resource id."""
    counts: dict[str, int] = {}
    fields: dict[str, int] = {}
    for issue in foreign:
        words = _resource_words(issue)
        counts[words] = counts.get(words, 0) + 1
        field = _field_without_id(issue.path)
        fields[field] = fields.get(field, 0) + 1
    points = tuple(f"{words} ({n} entr{'y' if n == 1 else 'ies'}): belongs to another "
                   "patient than the one opened in the EHR." for words, n in counts.items())
    return LaunchError(
        502, OTHER_TITLE,
        "The EHR answered pecoma's request for this patient's record with data of another "
        "patient. Nothing of it was read and nothing was assessed: advice built from it "
        "could be another patient's. Whether this patient has a PEComa, and what the "
        "guideline advises, is not known from this launch.",
        points=points,
        actions=("Do not rely on what pecoma or the EHR shows of this record until it is "
                 "checked: tell the EHR's administrator that its FHIR server returned "
                 "another patient's data for this chart (a fault of the EHR, or of a proxy "
                 "or cache in front of it).",
                 "Open pecoma again from the chart once the EHR sends this patient's "
                 "record."),
        technical=tuple(f"{field}: refers to another patient than the launch's ({n} "
                        f"resource{'s' if n != 1 else ''}; the references are not shown)"
                        for field, n in fields.items()),
        logged=("another patient's data",))
