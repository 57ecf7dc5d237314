"""The FHIR reader's treatment records: the resection of the primary (Procedure, with its
margin), lines of systemic therapy (medication statements, requests and
administrations), and allergies or intolerances (to mTOR inhibitors, and to the other drugs
the case format names).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from pydantic import ValidationError

from pecoma.case import (
    Agent,
    DiseaseStatus,
    Margin,
    PrimarySite,
    Response,
    SurgeryStatus,
    TherapyLine,
    TherapySetting,
    YesNo,
    mtor_class_ruled_out,
    mtor_each_ruled_out,
    mtor_ruled_out,
    mtor_tolerated_line,
    opposed_judgements,
)
from pecoma.errors import show_value
from pecoma.fhir import codes as c
from pecoma.fhir import mcode as m
from pecoma.fhir import medications as meds
from pecoma.fhir.ages import AgeDays, age_days
from pecoma.fhir.allergies import CATCH_ALL, AllergyList, AllergyReading, lines_given
from pecoma.fhir.allergies import read_allergies as read_allergy_list
from pecoma.fhir.read_conditions import (
    _codes_or_names_pecoma,
    _codes_pecoma_spread,
    _is_metastasis,
    cancers_given_for,
    codes_own_organ,
    names_benign_tumour,
    names_other_tumour,
    on_the_specimen,
    same_tumour,
    surely_other_cancer,
    the_pecoma,
)
from pecoma.fhir.reading import (
    FORBIDDEN,
    OF_ONE_TIME,
    NotTolerated,
    Order,
    Planned,
    Reader,
    agreeing,
    as_list,
    codings,
    condition_sides,
    conditions_named,
    day_of,
    enum_extension,
    extension,
    given_without_day,
    has_code,
    known_later,
    live_condition,
    reference_of,
    refuse_backwards,
    resolved,
    site_of,
    stated_sides,
    time_order,
)

__all__ = [
    "NAME_NOT_IDENTIFIED",
    "names_the_pecoma",
    "order_given_for",
    "ordered_for_no_cancer",
    "read_allergies",
    "read_medications",
    "read_procedures",
]

# ------------------------------------------------------------------------ procedures


_PROCEDURE_STATUS = {
    "completed": SurgeryStatus.performed,
    "in-progress": SurgeryStatus.performed,
    "stopped": SurgeryStatus.performed,
    "preparation": SurgeryStatus.planned,
    "on-hold": SurgeryStatus.planned,
    "not-done": SurgeryStatus.not_performed,
    "unknown": SurgeryStatus.unknown,
}


def _reasons(proc: Mapping[str, Any], r: Reader) -> list[tuple[str, bool | None]]:
    """The Conditions a Procedure's ``reasonReference`` names that the record holds, each
    with whether it is the PEComa read as the primary (:func:`the_pecoma`)."""
    out = []
    for ref in as_list(proc.get("reasonReference")):
        found = resolved(where := reference_of(ref), r)
        if found is not None:
            out.append((r.labels.get(id(found), where or ""),
                        the_pecoma(found, r) if found.get("resourceType") == "Condition"
                        else False))
    return out


def _reason_codes(proc: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """A Procedure's reasons given as codes, each with how it is shown: each
    ``reasonCode``, and the code of each Condition it holds (``contained``) that a local
    ``reasonReference`` (``#id``) names, read as a ``reasonCode`` is (a copy of a
    Condition inside the Procedure is its reason in words and codes, not a Condition of
    the record)."""
    codes = [(f"reasonCode '{_shown(x)}'", x) for x in as_list(proc.get("reasonCode"))]
    for ref in as_list(proc.get("reasonReference")):
        where = reference_of(ref)
        if where is None or not where.startswith("#"):
            continue
        try:
            held = meds.contained(proc, where)
        except meds.RepeatedLocalId:
            held = None
        if held is not None and held.get("resourceType") == "Condition":
            codes.append((f"{where} '{_shown(held.get('code'))}'", held.get("code")))
    return codes


def _unheld_reasons(proc: Mapping[str, Any], r: Reader) -> list[str]:
    """Each ``reasonReference`` of a Procedure naming nothing the record holds, as shown:
    an identifier or a display only (FHIR R4 allows both), a Condition not sent, a
    ``urn:uuid`` no entry carries, a local ``#id`` the Procedure does not contain. Such a
    reason says nothing of which tumour was operated on: the operation is read as one
    naming no reason is."""
    out = []
    for ref in as_list(proc.get("reasonReference")):
        where = reference_of(ref)
        if where is not None and (resolved(where, r) is not None or (
                where.startswith("#") and where in _contained_ids(proc))):
            continue
        if where is not None:
            out.append(show_value(where, 60))
        elif isinstance(ref, dict) and isinstance(ref.get("identifier"), dict):
            ident = ref["identifier"]
            out.append(show_value(f"identifier {ident.get('system', '')}|"
                                  f"{ident.get('value', '')}", 80))
        elif isinstance(ref, dict) and isinstance(ref.get("display"), str):
            out.append(f"display {show_value(ref['display'], 60)}")
        else:
            out.append(show_value(ref, 60))
    return out


def _contained_ids(proc: Mapping[str, Any]) -> set[str]:
    return {f"#{res['id']}" for res in as_list(proc.get("contained"))
            if isinstance(res, dict) and isinstance(res.get("id"), str)}


def _for_primary(proc: Mapping[str, Any], r: Reader) -> bool | None:
    """Whether a resection Procedure is of the PEComa primary: ``True`` when a reason
    names the PEComa (a ``reasonReference`` to the PEComa Condition or to the same tumour
    recorded again, :func:`the_pecoma`; ICD-O-3 8714/x as a reason code) or, none doing
    so, when its bodySite, or else the organ its name or code removes, is the primary
    site; ``None`` when its reason is a PEComa Condition that cannot be told to be the
    primary's or another tumour. A reason naming no PEComa does not decide here: one the
    record does not hold (:func:`_unheld_reasons`) says nothing, as no reason; one naming
    another tumour sets aside an operation of the PEComa's organ afterwards
    (:func:`_reason_against`), its surgery facts found but not read."""
    known = [named for _w, named in _reasons(proc, r)]
    if True in known or any(m.icdo3_pecoma(x) for _s, x in _reason_codes(proc)):
        return True
    if None in known:
        return None
    primary_site = r.data.get("tumour", {}).get("primary_site")
    site = site_of(proc.get("bodySite"), PrimarySite)
    if site is not None and site != PrimarySite.other.value:
        return bool(site == primary_site)
    organ = m.resected_organ(proc)
    # Neither linked nor naming an organ (the mCODE profile alone says cancer-related,
    # not which cancer): not taken as the resection of the primary.
    return organ is not None and organ.value == primary_site


def _reason_against(proc: Mapping[str, Any], r: Reader) -> str | None:
    """Why a resection of the PEComa's organ, naming no PEComa as its reason, is not shown
    to be its resection: the first of its reasons (a Condition its ``reasonReference``
    names, or a reason code read as a Condition's code: :func:`_reason_codes`) that names
    another tumour (:func:`_another_tumour`), shown with why; ``None`` when none does (no
    reason, a reason the record does not hold, a condition that is no tumour such as
    menorrhagia, N92.0: the organ decides, as for no reason)."""
    held: list[tuple[str, Mapping[str, Any], bool]] = [
        (shown, {"code": x}, False) for shown, x in _reason_codes(proc)]
    for ref in as_list(proc.get("reasonReference")):
        found = resolved(reference_of(ref), r)
        if found is not None and found.get("resourceType") == "Condition" \
                and live_condition(found):
            label = r.labels.get(id(found), reference_of(ref) or "")
            held.append((f"{label} '{_shown(found.get('code'))}'", found, True))
    for shown, cond, recorded in held:
        if the_pecoma(cond, r) is not False:
            continue  # the PEComa (C55 beside a uterine PEComa), or asked already
        why = _another_tumour(cond, recorded, proc, r)
        if why is not None:
            return f"{shown}, {why}"
    return None


def _another_tumour(cond: Mapping[str, Any], recorded: bool, proc: Mapping[str, Any],
                    r: Reader) -> str | None:
    """Why a reason (a Condition, or a reason code read as one's code) that is not the
    PEComa (:func:`the_pecoma`) names another tumour than it, or ``None`` when it names
    none: a metastasis; a Condition whose own histology names another tumour; a further
    PEComa Condition of another site or side; a malignancy of the PEComa's organ on the
    other side; another primary cancer, current or cured since (the operation was done
    for it); another tumour type by name; a benign tumour (a leiomyoma, D25.9) unless the
    PEComa was diagnosed on the specimen of this operation (:func:`on_the_specimen`: the
    "leiomyoma" operated on was the PEComa, which imaging cannot tell from one, S24),
    since beside a PEComa already diagnosed it may be another lesion, removed alone."""
    site = r.data.get("tumour", {}).get("primary_site")
    concept = cond.get("code")
    # a cancer the operation was done for is another tumour, cured since or not
    current = {k: v for k, v in cond.items() if k != "clinicalStatus"}
    if _is_metastasis(cond):
        return "a metastasis, not the primary tumour"
    if recorded and id(cond) in r.other_histology:
        return "a tumour whose own histology names another tumour than PEComa"
    if recorded and id(cond) in r.further_pecoma:
        return "a PEComa Condition of another site or side"
    if names_benign_tumour(concept):
        if _diagnosed_on_its_specimen(proc, r):
            return None
        diagnosed = r.data.get("diagnosis", {}).get("date")
        return ("a benign tumour, named while the PEComa was already diagnosed "
                f"({diagnosed or 'on a day not known'}): the operation may have removed "
                "that tumour alone")
    if same_tumour(cond, site):
        return "a malignancy of the PEComa's organ on the other side"
    if surely_other_cancer(current, site) or names_other_tumour(concept):
        return "another tumour than the PEComa"
    return None


def _diagnosed_on_its_specimen(proc: Mapping[str, Any], r: Reader) -> bool:
    """Whether the PEComa was diagnosed on the specimen of a resection (its diagnosis
    dated the day of the operation or up to
    :data:`pecoma.fhir.read_conditions.SPECIMEN_REPORT_DAYS` after it, by
    the rule that then dates the diagnosis the day of the resection); never when the
    diagnosis date is only the day its Condition was entered, or either day is
    unknown."""
    diagnosed = day_of(r.data.get("diagnosis", {}).get("date"))
    operated = day_of(_performed_on(proc))
    return (diagnosed is not None and operated is not None
            and "diagnosis.date" not in r.entered_dates
            and on_the_specimen(diagnosed, operated))


#: The PEComa primary sites of paired organs (a kidney, a lung, an ovary or tube, a broad
#: ligament): an operation there is of one side, and bilateral tumours occur (renal
#: PEComas in tuberous sclerosis).
_PAIRED_SITES: Final = frozenset({
    PrimarySite.kidney.value, PrimarySite.lung.value, PrimarySite.broad_ligament.value,
    PrimarySite.other_gynecologic.value})

#: The primary site whose resection has no side: the uterus is one organ, removed whole
#: by a hysterectomy, so a side its code names is that of the ovary or tube removed with
#: it ("Total hysterectomy with left oophorectomy"), never the PEComa's.
_SIDELESS_SITES: Final = frozenset({PrimarySite.uterus.value})


def _procedure_sides(proc: Mapping[str, Any], r: Reader) -> frozenset[str] | None:
    """The sides a Procedure states: its bodySite, its code (:func:`condition_sides`) and
    the name of the resection code it carries ("Resection of Right Kidney", ICD-10-PCS
    0TT00ZZ; "Resection of Bilateral Kidneys", both), which must agree (:func:`agreeing`):
    ``None`` when they state different sides (a code right beside a bodySite laterality
    "Right and left", a right nephrectomy whose words name the left kidney too)."""
    coded = m.coded_resection(proc)
    return agreeing([condition_sides(proc, r),
                     frozenset() if coded is None else stated_sides([{"text": coded[1]}])])


def _sides_shown(sides: frozenset[str] | None) -> str:
    return ("in doubt (its record states sides that disagree)" if sides is None
            else "both" if len(sides) > 1 else next(iter(sides), "not stated"))


def _side_against(proc: Mapping[str, Any], r: Reader) -> tuple[bool | None, str]:
    """Whether a resection read as of the PEComa's organ is of the PEComa's side, by the
    rule that tells a size or a second PEComa of the other side (:func:`condition_sides`),
    at an organ with sides (not the uterus: :data:`_SIDELESS_SITES`): a resection is read
    as the PEComa's only when its side surely is. ``False`` when the sides it states
    (:func:`_procedure_sides`) do not hold the PEComa Condition's one side (both stated:
    a right nephrectomy beside a left renal PEComa is not its resection, whatever else it
    names; a bilateral one is); ``None`` (asked) when the Procedure's or the PEComa's own
    record states sides that disagree, when the PEComa is recorded on both sides and the
    operation is not stated bilateral (a one-sided operation leaves the other side's
    tumour), and at a paired organ when one side is stated and the other not, unless its
    reasonReference names the PEComa Condition read as the primary (or the same tumour
    recorded again, sides compared by :func:`the_pecoma`), which tells the side; else
    ``True``. With the sides, what each states (for the notes)."""
    own = frozenset() if r.primary is None else condition_sides(r.primary, r)
    sides = _procedure_sides(proc, r)
    shown = f"its side: {_sides_shown(sides)}; the PEComa's: {_sides_shown(own)}"
    primary_site = r.data.get("tumour", {}).get("primary_site")
    if primary_site in _SIDELESS_SITES:
        return True, shown
    if sides is None or own is None:
        return None, shown
    if len(own) > 1:
        return (len(sides) > 1 or None), (
            f"{shown}: the PEComa is recorded on both sides, and an operation not stated "
            "bilateral leaves the other side's tumour")
    if sides and own and not own <= sides:
        return False, shown
    named = any(x is True for _w, x in _reasons(proc, r))
    if (sides and own) or named or len(sides) > 1 or (not sides) == (not own):
        lobes = _other_lobe(proc, r) if primary_site == PrimarySite.lung.value else None
        return (None, f"{shown}; {lobes}") if lobes is not None else (True, shown)
    return primary_site not in _PAIRED_SITES or None, shown


#: The lobes of the lung words name ("Right lower lobectomy", ICD-10-PCS "Resection of
#: Right Upper Lung Lobe"), and the whole lung (a pneumonectomy, "Resection of Left Lung").
_LOBE_WORDS: Final = (("upper", re.compile(r"\bupper\b")), ("middle", re.compile(r"\bmiddle\b")),
                      ("lower", re.compile(r"\blower\b")), ("lingula", re.compile(r"\blingul")))
_WHOLE_LUNG: Final = re.compile(r"pneumonectom|\bresection of (?:right|left|bilateral) lungs?\b")
_ALL_LOBES: Final = frozenset(name for name, _pattern in _LOBE_WORDS)
#: ICD-10 lobes of the lung (C34.1 upper, C34.2 middle, C34.3 lower lobe).
_ICD10_LOBES: Final = {"C341": "upper", "C342": "middle", "C343": "lower"}


def _lobes_named(words: str) -> frozenset[str]:
    return frozenset(name for name, pattern in _LOBE_WORDS if pattern.search(words))


def _other_lobe(proc: Mapping[str, Any], r: Reader) -> str | None:
    """At a lung PEComa whose one lobe its Condition states (an ICD-10 code C34.1-C34.3,
    or the words of its code or bodySite), why a lung operation of its side may not have
    removed it: the operation names lobes (its words, or the name of its resection code)
    and not the PEComa's ("the PEComa's: upper lobe; the operation's: lower lobe"). An
    upper lobectomy holds the lingula (part of the left upper lobe); a pneumonectomy every
    lobe. ``None`` when the lobes agree or either is not stated: sides are compared, and
    now lobes too where both are stated (a right lower lobectomy is not taken as removing
    a right upper lobe PEComa)."""
    if r.primary is None:
        return None
    cond = r.primary
    own = set(_lobes_named(" ".join([m.lower_words(cond.get("code")), *(
        m.lower_words(x) for x in as_list(cond.get("bodySite")))])))
    own |= {lobe for system, code in codings(cond.get("code"))
            if system in (m.ICD10CM, m.ICD10)
            and (lobe := _ICD10_LOBES.get(code.replace(".", "").strip().upper()[:4]))}
    coded = m.coded_resection(proc)
    words = " ".join([m.lower_words(proc.get("code")), *(
        m.lower_words(x) for x in as_list(proc.get("bodySite"))),
        "" if coded is None else coded[1].lower()])
    done = _ALL_LOBES if _WHOLE_LUNG.search(words) else _lobes_named(words)
    if "upper" in done:
        done |= {"lingula"}
    if len(own) != 1 or not done or own <= done:
        return None
    return (f"the PEComa's lobe: {', '.join(sorted(own))}; the operation's: "
            f"{', '.join(sorted(done))}: whether it removed the PEComa cannot be told")


#: Words of an operation on the adnexa (an ovary, a tube), which leaves the uterus.
_ADNEXA_WORDS: Final = re.compile(r"oophor|salping|adnex|ovariectom|tubectom")


def _removes_no_uterus(proc: Mapping[str, Any], r: Reader) -> str | None:
    """At a uterine PEComa (:data:`_SIDELESS_SITES`), what an operation removes when it
    is surely not the uterus: an organ its code names other than the uterus, or an
    operation on the adnexa alone ("Right salpingo-oophorectomy", SNOMED CT 83152002
    "Oophorectomy"); ``None`` for a hysterectomy, or an operation naming no organ.
    Sides are not compared at the uterus only for an operation removing it."""
    if r.data.get("tumour", {}).get("primary_site") not in _SIDELESS_SITES:
        return None
    words = m.lower_words(proc.get("code"))
    if "hysterectom" in words:
        return None  # "vaginal hysterectomy" names the vagina as its route
    if _ADNEXA_WORDS.search(words):
        # an operation on the adnexa, whatever else its words name ("Right
        # salpingo-oophorectomy, uterus preserved"; "... for uterine PEComa")
        return "an ovary or a tube"
    organ = m.resected_organ(proc)
    if organ is PrimarySite.uterus:
        return None
    return None if organ is None else f"the {organ.value.replace('_', ' ')}"


def _linked_to_pecoma(proc: Mapping[str, Any], r: Reader) -> bool:
    """Whether a Procedure names the PEComa as its reason: a ``reasonReference`` to the
    PEComa Condition or the same tumour recorded again (:func:`the_pecoma`), or an
    ICD-O-3 8714/x reason code (:func:`_reason_codes`)."""
    return (any(named is True for _w, named in _reasons(proc, r))
            or any(m.icdo3_pecoma(x) for _s, x in _reason_codes(proc)))


def _code_shown(proc: Mapping[str, Any]) -> str:
    """A Procedure's code as the record gives it, short: its codings (system's last part
    and code), else its words."""
    pairs = [f"{system.rstrip('/').rsplit('/', 1)[-1] or 'no system'} {code}"
             for system, code in codings(proc.get("code")) if code]
    words = m.lower_words(proc.get("code"))
    return show_value(", ".join(pairs[:3]) or words or "no code", 80).strip("'\"")


#: Words naming an operation that takes tissue for diagnosis or looks without removing
#: the organ (a sampling, a curettage, a dilatation, a diagnostic procedure, a look
#: through a scope, an exploration: "Exploratory laparotomy") besides
#: :data:`pecoma.fhir.mcode.NOT_RESECTION`: a resection code whose own words name one of
#: these, and no resection, is in doubt.
_SAMPLING_WORDS: Final = ("sampling", "curettage", "curetage", "diagnostic", "dilation",
                          "dilatation", "hysteroscopy", "colposcopy", "cystoscopy",
                          "laparoscopy", "endoscopy", "pipelle", "examination under",
                          "explorat")
#: "D&C" (dilatation and curettage) as it is usually written: "D&C", "D & C", "D+C",
#: "D/C", "D and C".
_D_AND_C: Final = re.compile(r"\bd\s*(?:&|\+|/|and)\s*c\b")


def _code_words_disagree(proc: Mapping[str, Any]) -> str | None:
    """Why a Procedure whose code is a resection code (:mod:`pecoma.fhir.resection_codes`)
    cannot be read by it, or ``None``: its own words (its text, a coding's display) name
    no resection but a biopsy, an aspiration, an ablation, an embolization, a
    diagnostic sampling, a dilatation and curettage ("D&C") or a look through a scope
    (SNOMED CT 176795006 Subtotal abdominal hysterectomy displayed "Diagnostic
    endometrial sampling", or "D&C", or "Hysteroscopy"). Which operation was done
    cannot be told, as for a result whose code and words disagree: neither is read over
    the other. Words that name
    a resection beside a biopsy ("Hysterectomy with lymph node biopsy") are no
    disagreement, nor are a code's words that name neither (a display in another
    language). An excisional biopsy ("Excisional biopsy of renal mass") is a biopsy
    here: whether it was the primary's resection is asked."""
    coded = m.coded_resection(proc)
    concept = proc.get("code")
    if coded is None or not isinstance(concept, dict):
        return None
    parts = [("its text", concept["text"])] if isinstance(concept.get("text"), str) else []
    parts += [("a coding's display", cd["display"]) for cd in m.as_list(concept.get("coding"))
              if isinstance(cd, dict) and isinstance(cd.get("display"), str)]
    for what, shown in parts:
        words = m.plain_words(shown)
        kind = m.resection_words(words)
        if kind == "none" or (kind is None and (
                any(w in words for w in _SAMPLING_WORDS) or _D_AND_C.search(words))):
            return (f"its code ({_code_shown(proc)}) names a resection ({coded[1]}), but "
                    f"{what} {show_value(shown, 80)} names none: the code and its words "
                    "disagree, so which operation was done cannot be told")
    return None


def _words_in_doubt(proc: Mapping[str, Any]) -> str | None:
    """Why a Procedure's words cannot tell whether a resection was done, or ``None``: its
    resection code and its words disagree (:func:`_code_words_disagree`), or its words
    name a resection beside an ablation or an embolization, or beside a biopsy and words
    negating or deferring it (:func:`pecoma.fhir.mcode.resection_words`)."""
    why = _code_words_disagree(proc)
    if why is None and m.resection_words(m.lower_words(proc.get("code"))) == "doubt":
        why = (f"its words ({_code_shown_words(proc)}) name a resection beside an "
               "ablation, an embolization, or a biopsy with words negating or deferring "
               "the resection: whether the resection was done cannot be told")
    return why


def _code_shown_words(proc: Mapping[str, Any]) -> str:
    """A Procedure's words (its text and displays, each once) quoted, short."""
    said = dict.fromkeys(m.concept_text(proc.get("code")).splitlines())
    return show_value("; ".join(said) or "none", 80)


def read_procedures(procedures: list[tuple[str, dict[str, Any]]],
                     observations: list[tuple[str, dict[str, Any]]], r: Reader) -> None:
    disagree = [(w, p, why) for w, p in procedures if p.get("status") != "entered-in-error"
                and (why := _words_in_doubt(p)) is not None]
    doubted = {w for w, _p, _why in disagree}
    _read_resections([(w, p) for w, p in procedures if w not in doubted], observations, r)
    for where, proc, why in r.modified_procedures:
        _set_aside(where, proc, why, r)
    for where, proc, why in disagree:
        # asked, as a Procedure that cannot be read is: never taken as the resection
        # (nor its day as the resection's), never dropped without a word
        _set_aside(where, proc, why, r, resection=_for_primary(proc, r) is not False)
    surgery = r.data.get("surgery", {})
    was = r.sources.get("surgery.margin")
    if was is not None and surgery.get("status") != SurgeryStatus.performed.value:
        # a margin with no resection recorded as done (the operation's record not sent,
        # or one cancelled): the surgery status stays what was read, asked about, and the
        # margin is not pinned to an operation the record does not show
        status = surgery.get("status", "not recorded")
        r.notes.append(f"{was}: a margin while no resection of the primary is recorded "
                       f"as done (surgery status {status}); surgery.margin is unknown")
        _forget_margin(r)
        r.why[was] = "a margin with no resection recorded as done"


def _read_resections(procedures: list[tuple[str, dict[str, Any]]],
                     observations: list[tuple[str, dict[str, Any]]], r: Reader) -> None:
    resections = []
    for w, p in procedures:
        if p.get("status") == "entered-in-error":
            r.why[w] = "entered in error"
            continue
        if has_code(p.get("code"), c.PECOMA_SYSTEM, c.PROCEDURE_RESECTION[0]):
            resections.append((w, p))
        elif m.is_resection(p):
            of_primary = _for_primary(p, r)
            if of_primary and (organ := _removes_no_uterus(p, r)) is not None:
                _not_the_uterus(w, p, organ, r)
            elif of_primary:
                on_side, sides = _side_against(p, r)
                against = None if _linked_to_pecoma(p, r) else _reason_against(p, r)
                if on_side and against is None:
                    resections.append((w, p))
                    _unheld_noted(w, p, r)
                elif against is not None and on_side is False:
                    # of the other side, and done for another tumour: another operation
                    r.why[w] = (f"a resection ({_code_shown(p)}) not shown to be of the "
                                f"PEComa primary: of the other side ({sides}), its reason "
                                f"{against}")
                elif against is not None:
                    _reason_not_the_pecoma(w, p, against, r)
                else:
                    _side_not_the_pecoma(w, p, on_side, sides, r)
            elif of_primary is None:
                _reason_in_doubt(w, p, r)
            else:
                r.why[w] = ("a resection not shown to be of the PEComa primary (its "
                            "reasonReference, bodySite or name says another site, or "
                            "nothing)")
        elif m.not_resection(p):
            r.why[w] = "a biopsy, aspiration, ablation or embolization: no resection"
        elif m.scope_excision(p):
            _scope_excision(w, p, r)
        elif _linked_to_pecoma(p, r):
            # done for the PEComa, and named by a code pecoma does not know (a display is
            # optional): it may be the resection. Not read as one (its kind, date and
            # margin would be guessed), but said where the team sees it
            shown = _code_shown(p)
            r.why[w] = (f"linked to the PEComa, but its code ({shown}) names no resection "
                        "pecoma knows: whether it was the resection of the primary is "
                        "unknown")
            r.notes.append(f"{w}: a procedure for the PEComa ({shown}) that pecoma cannot "
                           "tell to be a resection or not: not read as the resection; if "
                           "it removed the tumour, the surgery facts below are incomplete: "
                           "check surgery.status, surgery.date and surgery.margin")
    if not resections:
        return
    for w, p in resections:
        # an operation dated by a period that ends before it starts: the record
        # contradicts itself on the day of the resection (surgery.date, which dates the
        # surveillance and the margin): refused, naming both ends, as a medication's is
        refuse_backwards(p.get("performedPeriod"), w, "performedPeriod",
                         "the day of the operation (surgery.date) is read from it", r)
    resections.sort(key=lambda wp: _performed_on(wp[1]))
    statuses = {w: _status_read(w, p, observations, r) for w, p in resections}
    performed = [(w, p) for w, p in resections if statuses[w] is SurgeryStatus.performed]
    ages = {w: age_days(p, "performed", w, r.birth, r) for w, p in performed
            if day_of(_performed_on(p)) is None
            and given_without_day(p, "performed") is not None}
    _resection_days(performed, ages, r)
    # a resection done outweighs one cancelled or still planned, whatever their dates;
    # with none done, the latest recorded says where things stand
    for other, p in resections:
        if performed and statuses[other] is not SurgeryStatus.performed:
            r.why[other] = (f"status '{p.get('status')}'{_why_stopped(p)} beside a "
                            f"resection recorded as done ({performed[-1][0]})")
    if len(performed) > 1:
        # a resection completed by another (after an R2 margin, say): the case holds one
        # surgery, the latest, and only a margin that belongs to it
        _latest_of(performed, observations, r)
        return
    where, proc = performed[0] if performed else resections[-1]
    r.used.add(where)
    for other, _p in resections:
        if other != where and other not in r.why:
            r.why[other] = (f"an earlier record of the resection ({where}, the latest, is "
                            "read as the resection of the primary)")
    status = statuses[where]
    if status is SurgeryStatus.performed:
        _incomplete_noted(proc, where, r)
    else:
        _not_removed_noted(where, proc, status, r)
    r.put("surgery.status", status.value, f"{where}.status")
    day = day_of(_performed_on(proc))
    dated = status in (SurgeryStatus.performed, SurgeryStatus.planned)
    given = given_without_day(proc, "performed") if day is None and dated else None
    # an age (or a range of ages) is placed by the birth date, as an onset's is: an age
    # in days is one day; any other holds none, said with why (read once: a resection
    # done has been, for the days results are placed against)
    age = (None if given is None else ages[where] if where in ages
           else age_days(proc, "performed", where, r.birth, r))
    if age is not None and age.day is not None:
        day = age.day
        r.notes.append(f"surgery.date taken from {where}'s performed[x], given as {age}")
    if day is not None and dated:
        r.put("surgery.date", day.isoformat(), f"{where}.performed[x]")
    elif given is not None:
        shown = given if age is None else f"{age}, which holds no single day"
        r.notes.append(f"surgery.date not read: {where}'s performed[x] is given as {shown}"
                       f"{', which holds no day' if age is None else ''}: the surgery date "
                       "is unknown")
        if status is SurgeryStatus.performed and age is not None:
            _latest_day(where, age, r)
    elif status is SurgeryStatus.performed:
        _latest_stated(where, proc, r)
    if status is SurgeryStatus.performed and "surgery.margin" not in r.sources:
        _margin(proc, where, observations, r)


def _latest_day(where: str, age: AgeDays, r: Reader) -> None:
    """A resection done given as the patient's age: the last day that age may be, and no
    later than the evaluation date (done by then), is the latest the operation can have
    been (``surgery.date_on_or_before``), never its day."""
    last = age.last if age.why is None else None
    if last is None:
        return
    if r.on is not None and r.on < last:
        last = r.on
    r.put("surgery.date_on_or_before", last.isoformat(), f"{where}.performed[x]")
    r.notes.append(f"surgery.date_on_or_before taken from {where}'s performed[x], given "
                   f"as {age}: the operation was on or before {last.isoformat()}, its day "
                   "unknown")


def _latest_stated(where: str, proc: Mapping[str, Any], r: Reader) -> None:
    """A resection done with no performed[x], stating the latest day it can have been
    (the project extension ``performed-on-or-before``, as pecoma writes it): read as
    ``surgery.date_on_or_before``; a value that is not a full date is not read, said."""
    stated = extension(proc, c.EXT.PERFORMED_ON_OR_BEFORE)
    if stated is None:
        return
    value = stated.get("valueDate")
    latest = day_of(value)
    if latest is None:
        r.notes.append(f"{where}: the extension performed-on-or-before is not read: "
                       f"{show_value(value, 40)} is not a date as YYYY-MM-DD; the latest "
                       "day of the operation is unknown")
        return
    r.put("surgery.date_on_or_before", latest.isoformat(),
          f"{where}.extension[performed-on-or-before]")


def _resection_days(performed: list[tuple[str, dict[str, Any]]],
                    ages: Mapping[str, AgeDays | None], r: Reader) -> None:
    """The days results are placed against (``Reader.resection_days``): each resection of
    the primary done, by its day, or, given as the patient's age (``performedAge``,
    ``performedRange``: ``ages``), by the first day that age may be, said in
    ``Reader.resection_ages``: a result after that day may be after the operation, and a
    result that may be after it is never taken for one before it (the safer reading: a
    size that may be a recurrence's is never the primary's). One given with no day pecoma
    places (no date, an age with no birth date) is not among them."""
    dated: set[dt.date] = set()
    aged: dict[dt.date, str] = {}
    for where, proc in performed:
        day = day_of(_performed_on(proc))
        age = ages.get(where)
        if day is None and age is not None and age.why is None and age.first is not None:
            if age.day is None:
                aged.setdefault(age.first, f"{where}'s performed[x], given as {age}")
            else:
                dated.add(age.day)
        elif day is not None:
            dated.add(day)
    # a resection of that very day outranks the first day an age may be, in the words
    r.resection_ages = {day: said for day, said in aged.items() if day not in dated}
    r.resection_days = sorted(dated | set(aged))


def _set_aside(where: str, proc: Mapping[str, Any], why: str, r: Reader,
               resection: bool | None = None) -> None:
    """A Procedure not read for a modifierExtension pecoma does not understand or a label
    saying information was withheld from it (``Reader.modified_procedures``), or whose
    resection code and words disagree (:func:`_code_words_disagree`): listed with why;
    when it is a resection that may be the primary's (linked to the PEComa, or of its
    organ: :func:`_for_primary`; ``resection``: the caller's answer), its surgery facts
    are found but not read (never "not found"), so the surgery status is asked, and a
    note says so; otherwise a note says why it is not read."""
    r.why[where] = f"not read: {why}"
    if resection is None:
        resection = (has_code(proc.get("code"), c.PECOMA_SYSTEM, c.PROCEDURE_RESECTION[0])
                     or (m.is_resection(proc) and _for_primary(proc, r) is not False)
                     or _linked_to_pecoma(proc, r))
    if not resection:
        if _words_in_doubt(proc) is not None:
            r.notes.append(f"{where}: not read: {why}")
        return
    read = r.sources.get("surgery.status")
    if read is not None:
        r.notes.append(f"{where}: a resection that may be the primary's "
                       f"({_code_shown(proc)}), not read ({why}): the surgery facts are "
                       f"read from {_resource_of(read)} alone; check them in the record")
        return
    r.notes.append(f"{where}: a resection that may be the primary's ({_code_shown(proc)}), "
                   f"not read ({why}): surgery.status, surgery.date and surgery.margin are "
                   "unknown; check them in the record")
    for path in ("surgery.status", "surgery.date", "surgery.margin"):
        r.value_not_read(path, where)


def _unheld_noted(where: str, proc: Mapping[str, Any], r: Reader) -> None:
    """A note when a resection read as the primary's by its organ gives a
    ``reasonReference`` the record does not hold (:func:`_unheld_reasons`)."""
    unheld = _unheld_reasons(proc, r)
    if unheld and not _linked_to_pecoma(proc, r):
        r.notes.append(f"{where}: its reasonReference ({', '.join(unheld)}) names no "
                       "Condition the record holds: it says nothing of which tumour was "
                       "operated on, so the resection is read by its bodySite and code, as "
                       "one naming no reason is")


def _reason_not_the_pecoma(where: str, proc: Mapping[str, Any], against: str,
                           r: Reader) -> None:
    """A resection of the PEComa's organ whose reason names another tumour
    (:func:`_reason_against`): not shown to be the PEComa's resection, yet it may have
    removed it (the organ holding it was operated on). Not read as the resection of the
    primary, nor dropped: listed with why, its surgery facts found but not read (never
    "not found"), and the question said: the surgery status is asked."""
    shown = _code_shown(proc)
    primary = r.labels.get(id(r.primary), "the PEComa Condition")
    r.why[where] = (f"a resection ({shown}) of the PEComa's organ not shown to be of the "
                    f"PEComa primary: its reason is {against}")
    r.notes.append(f"{where}: a resection ({shown}) of the organ holding the PEComa, done "
                   f"for {against}: not shown to be the PEComa's resection, so not read as "
                   "it (the tumour is not taken as removed, nor as left in place); "
                   "surgery.status, surgery.date and surgery.margin are unknown; if it "
                   f"removed the PEComa, give its reasonReference to {primary}")
    for path in ("surgery.status", "surgery.date", "surgery.margin"):
        r.value_not_read(path, where)


def _reason_in_doubt(where: str, proc: Mapping[str, Any], r: Reader) -> None:
    """A resection whose reason is a further PEComa Condition that cannot be told to be
    the primary's or another tumour (:func:`the_pecoma`): not read as the resection of
    the primary, nor dropped: listed, its surgery facts found but not read (never "not
    found"), and the question said."""
    doubt = next(w for w, named in _reasons(proc, r) if named is None)
    primary = r.labels.get(id(r.primary), "the PEComa Condition read")
    r.why[where] = (f"a resection ({_code_shown(proc)}) whose reasonReference names "
                    f"{doubt}, a PEComa Condition that cannot be told to record the same "
                    f"tumour as {primary} (read as the primary) or another")
    r.notes.append(f"{where}: a resection ({_code_shown(proc)}) for {doubt}, a PEComa "
                   f"Condition beside {primary}, read as the primary; whether they record "
                   "one tumour cannot be told (a primary site not read, or one site but not "
                   "of one standing: confirmed or suspected, current or past, a recurrence "
                   "or spread), so the resection is not read as the primary's: "
                   "surgery.status, surgery.date and surgery.margin are unknown; record "
                   f"whether {doubt} is the same tumour (the same bodySite and status as "
                   f"{primary}, or one Condition for it)")
    for path in ("surgery.status", "surgery.date", "surgery.margin"):
        r.value_not_read(path, where)


def _side_not_the_pecoma(where: str, proc: Mapping[str, Any], on_side: bool | None,
                         sides: str, r: Reader) -> None:
    """A resection of the PEComa's organ not shown to be of its side
    (:func:`_side_against`): not read as the resection of the primary. Of the other side
    (``on_side`` ``False``), it is another operation, listed with why, as an operation
    for another tumour is; linked to the PEComa all the same, or of a side that cannot be
    told (``None``), its surgery facts are found but not read (never "not found") and
    the question is said: the tumour is not taken as removed."""
    shown = _code_shown(proc)
    if on_side is False:
        r.why[where] = (f"a resection ({shown}) of the other side ({sides}): not the "
                        "resection of the PEComa primary")
        if not _linked_to_pecoma(proc, r):
            return
        r.notes.append(f"{where}: a resection ({shown}) naming the PEComa as its reason, "
                       f"but of the other side ({sides}): not read as the resection of the "
                       "primary; surgery.status, surgery.date and surgery.margin are "
                       "unknown; check the side of the operation and of the PEComa")
    else:
        r.why[where] = (f"a resection ({shown}) of a paired organ whose side cannot be "
                        f"told against the PEComa's ({sides}): not read as the resection "
                        "of the primary")
        r.notes.append(f"{where}: a resection ({shown}) of the PEComa's organ, a paired "
                       f"one ({sides}): whether it removed the PEComa cannot be told: "
                       "not read as the resection of the primary (the tumour is not taken "
                       "as removed); surgery.status, surgery.date and surgery.margin are "
                       "unknown; record the side of the operation "
                       "(its bodySite laterality) or its reasonReference to the PEComa "
                       "Condition")
    for path in ("surgery.status", "surgery.date", "surgery.margin"):
        r.value_not_read(path, where)


def _not_the_uterus(where: str, proc: Mapping[str, Any], organ: str, r: Reader) -> None:
    """An operation linked to a uterine PEComa that removes another organ
    (:func:`_removes_no_uterus`): not the resection of the primary (S01, S03: the
    uterus is left in place); listed with why, its surgery facts found but not read, and
    the question said."""
    shown = _code_shown(proc)
    r.why[where] = (f"an operation ({shown}) removing {organ}, not the uterus holding the "
                    "PEComa: not the resection of the primary")
    r.notes.append(f"{where}: an operation ({shown}) removing {organ}, not the uterus "
                   "holding the PEComa: not read as the resection of the primary (the "
                   "tumour is not taken as removed); surgery.status, surgery.date and "
                   "surgery.margin are unknown; if the uterus was removed, record the "
                   "hysterectomy")
    for path in ("surgery.status", "surgery.date", "surgery.margin"):
        r.value_not_read(path, where)


def _scope_excision(where: str, proc: Mapping[str, Any], r: Reader) -> None:
    """An excision through a scope or a natural opening (hysteroscopic, transurethral,
    colonoscopic, a polypectomy): not the resection of the primary (S01, S03), whatever
    its code; done for the PEComa, it is said where the team sees it, since the surgery
    facts may then be incomplete."""
    shown = _code_shown(proc)
    if not _linked_to_pecoma(proc, r):
        r.why[where] = ("an excision through a scope or a natural opening (hysteroscopic, "
                        "transurethral, endoscopic, a polypectomy; its code: "
                        f"{shown}): not the resection of the primary")
        return
    r.why[where] = (f"linked to the PEComa, but an excision through a scope or a natural "
                    f"opening ({shown}): not read as the resection of the primary; whether "
                    "it removed the tumour is unknown")
    r.notes.append(f"{where}: a procedure for the PEComa that is an excision through a "
                   f"scope or a natural opening ({shown}): not read as the resection of the "
                   "primary; if it removed the whole tumour, the surgery facts below are "
                   "incomplete: check surgery.status, surgery.date and surgery.margin")


def _incomplete_noted(proc: Mapping[str, Any], where: str, r: Reader) -> None:
    """A note when a resection read as performed says it was stopped before completion
    (its margin recorded: :func:`_status_read`) or that it did not succeed: the resection
    is read, and its margin says what it left; the statusReason is quoted."""
    outcome = proc.get("outcome")
    failed = (has_code(outcome, c.SNOMED, "385671000")
              or "unsuccessful" in m.lower_words(outcome))
    if _stopped(proc, _status(proc)) or failed:
        said = (f"status '{proc.get('status')}', a margin recorded for it"
                if _stopped(proc, _status(proc)) else "outcome unsuccessful")
        r.notes.append(f"{where}: {said}{_why_stopped(proc)}: the resection is read as "
                       "performed; it may not have removed the tumour: check the margin it "
                       "left (surgery.margin)")


def _reason_words(proc: Mapping[str, Any]) -> str:
    """A Procedure's ``statusReason`` (a CodeableConcept, or text sent in its place) as
    :func:`pecoma.fhir.mcode.plain_words`."""
    reason = proc.get("statusReason")
    return m.plain_words(reason) if isinstance(reason, str) else m.lower_words(reason)


def _says_unresectable(proc: Mapping[str, Any]) -> bool:
    """Whether a resection record says in words that the tumour cannot be removed (its
    ``statusReason``, or its own words: :data:`pecoma.fhir.mcode.UNRESECTABLE`, the
    words :data:`pecoma.fhir.mcode.NOT_CARRIED_OUT` reads too)."""
    return any(m.UNRESECTABLE.search(words) is not None
               for words in (_reason_words(proc), m.lower_words(proc.get("code"))))


def _not_removed_noted(where: str, proc: Mapping[str, Any], status: SurgeryStatus,
                       r: Reader) -> None:
    """The one reading of a resection of the primary read as not done (``stopped``
    with no margin, ``not-done``, planned, ``unknown``): its ``statusReason`` is quoted in
    a note, whatever its status (never dropped). Words saying the tumour cannot be
    removed (:func:`_says_unresectable`) are not read as ``stage.resectable`` (pecoma
    does not read resectability from words), nor set aside: the fact is found but not
    read (unknown, asked: MISS-PRIMARY-RESECTABLE), so the resection advice is
    provisional on it and never shown as settled beside a record saying the tumour
    cannot be removed; a ``stage.resectable`` read from the record stays as read, with
    a note to check it against these words."""
    said = proc.get("status")
    unresectable = _says_unresectable(proc)
    resectable = r.sources.get("stage.resectable")
    ask = ("" if not unresectable else
           f"; its words say the tumour cannot be removed: stage.resectable is read from "
           f"{resectable} ({r.data.get('stage', {}).get('resectable')}): check it against "
           "these words" if resectable is not None else
           "; its words say the tumour cannot be removed, which is not read as "
           "stage.resectable (resectability is not read from words): whether the tumour "
           "is resectable is asked (record stage.resectable), and the resection advice "
           "is provisional on it")
    if _stopped(proc, _status(proc)):
        r.notes.append(f"{where}: status '{said}'{_why_stopped(proc)}: the operation "
                       "was stopped before it was completed and no margin is recorded for "
                       "it, so whether it removed the tumour cannot be told: the surgery "
                       "status is left unknown (not taken as performed); record what was "
                       "removed (its margin) or the surgery status, and whether the tumour "
                       f"is resectable (stage.resectable){ask}")
    elif status is SurgeryStatus.unknown:
        r.notes.append(f"{where}: status '{said}'{_why_stopped(proc)} does not say whether "
                       f"the resection was done; the surgery status is left unknown{ask}")
    elif proc.get("statusReason") is not None or unresectable:
        r.notes.append(f"{where}: status '{said}'{_why_stopped(proc)}: the resection is "
                       f"read as {status.value.replace('_', ' ')}{ask}")
    if unresectable and resectable is None:
        r.unreadable.setdefault(
            "stage.resectable", f"{where}: its words say the tumour cannot be removed "
            "(not read as stage.resectable)")


def _status(proc: Mapping[str, Any]) -> SurgeryStatus:
    return _PROCEDURE_STATUS.get(str(proc.get("status")), SurgeryStatus.unknown)


def _status_read(where: str, proc: Mapping[str, Any],
                 observations: list[tuple[str, dict[str, Any]]], r: Reader) -> SurgeryStatus:
    """The surgery status a resection record gives (:data:`_PROCEDURE_STATUS`), but for
    one ``stopped`` (FHIR R4: terminated without completing successfully) with no margin
    recorded for it (none stated on it, no margin result dated from its day or undated):
    an operation abandoned (the tumour found unresectable, say) may have removed nothing,
    so whether it removed the tumour cannot be told: unknown, asked, never performed.
    With a margin, what it removed was examined: performed, its margin saying what it
    left. So is one whose own words say it was not carried out ("Aborted nephrectomy",
    "Nephrectomy abandoned", "Open and close laparotomy": :func:`_stopped`), whatever
    its status: records are often closed as ``completed`` with the outcome in the
    operation's name."""
    status = _status(proc)
    if not _stopped(proc, status) or _procedure_margins(proc, where):
        return status
    day = day_of(_performed_on(proc))
    for order, _w, _margin, _text in _observed_margins(observations, r, coded=True):
        seen = day_of(order[0][:10])
        if seen is None or day is None or seen >= day:
            return status
    return SurgeryStatus.unknown


def _stopped(proc: Mapping[str, Any], status: SurgeryStatus) -> bool:
    """Whether a resection was stopped before it was completed: its status ``stopped``,
    or, recorded as done, its own words saying it was not carried out
    (:data:`pecoma.fhir.mcode.NOT_CARRIED_OUT`)."""
    return proc.get("status") == "stopped" or (
        status is SurgeryStatus.performed and m.not_carried_out(proc))


def _why_stopped(proc: Mapping[str, Any]) -> str:
    """A Procedure's ``statusReason`` (why it was stopped or not done) quoted for a
    note, or ``""``."""
    words = (f" (its words {_code_shown_words(proc)} say it was not carried out)"
             if m.not_carried_out(proc) else "")
    reason = proc.get("statusReason")
    if reason is None:
        return words
    said = _shown(reason) if isinstance(reason, dict) else reason
    return f"{words} (its statusReason: {show_value(said, 160)})"


def _performed_on(proc: Mapping[str, Any]) -> str:
    return str(proc.get("performedDateTime") or _period_of(proc))


def _latest_of(performed: list[tuple[str, dict[str, Any]]],
               observations: list[tuple[str, dict[str, Any]]], r: Reader) -> None:
    """Several resections of the primary were performed. Each takes the margin stated on
    it, or the latest margin Observation dated from its day until the next resection; a
    margin that cannot be tied to one (undated) is left unknown with a note, never pinned
    to a resection. A first resection with an R2 margin is the surgery and the latest
    the resection that completed it (``surgery.completion``); otherwise the latest is the
    surgery."""
    days = [day_of(_performed_on(p)) for _w, p in performed]
    where = performed[-1][0]
    first_where = performed[0][0]
    r.put("surgery.status", SurgeryStatus.performed.value, f"{where}.status")
    _forget_margin(r)
    if any(d is None for d in days):
        r.used.add(where)
        for other, _p in performed[:-1]:
            r.why[other] = (f"an earlier resection ({where}, the latest, is read as the "
                            "resection of the primary)")
        r.notes.append(f"{where}: several resections of the primary and not all are dated: "
                       "which is the latest, and which margin belongs to it, cannot be "
                       "told; surgery.date and surgery.margin are unknown")
        return
    dated = [d for d in days if d is not None]
    margins = _margins_between(dated, observations, r)
    for i, (w, p) in enumerate(performed):
        own = _procedure_margins(p, w)
        if own:
            margins[i] = _latest_margin(own, r)
    first_margin = margins[0]
    if first_margin is not None and first_margin[0] is Margin.R2:
        # an R2 resection completed by a later one: both are kept
        r.used.update({first_where, where})
        r.put("surgery.date", dated[0].isoformat(), f"{first_where}.performed[x]")
        r.put("surgery.margin", Margin.R2.value, first_margin[1])
        r.used.add(_resource_of(first_margin[1]))
        completion: dict[str, Any] = {"date": dated[-1].isoformat()}
        last = margins[-1]
        if last is not None:
            completion["margin"] = last[0].value
            r.used.add(_resource_of(last[1]))
        r.put("surgery.completion", completion, f"{where}.performed[x]")
        for other, _p in performed[1:-1]:
            r.why[other] = (f"a resection between the R2 one ({first_where}) and the latest "
                            f"({where}, read as its completion)")
        if last is None:
            r.notes.append(f"{where}: no margin can be tied to the resection completing the "
                           "R2 one: surgery.completion.margin is unknown")
        return
    r.used.add(where)
    for other, _p in performed[:-1]:
        r.why[other] = (f"an earlier resection ({where}, the latest, is read as the "
                        "resection of the primary)")
    r.put("surgery.date", dated[-1].isoformat(), f"{where}.performed[x]")
    r.notes.append(f"{where}: the latest of several resections of the primary is read as "
                   f"the surgery (an earlier one left no R2 margin that can be told)")
    last = margins[-1]
    if last is not None:
        r.put("surgery.margin", last[0].value, last[1])
        r.used.add(_resource_of(last[1]))
    else:
        r.notes.append(f"{where}: no margin can be tied to the latest resection: "
                       "surgery.margin is unknown")


def _resource_of(where: str) -> str:
    """The resource a source path names (``Procedure/x.outcome``: ``Procedure/x``)."""
    return where.split(".", 1)[0]


#: A margin one text or value gives: its time (as ``r.orders`` holds an observation's),
#: where it is, the margin (``Margin.unknown``: a statement that is not plain, see
#: ``mcode.margin_in_text``), and the text it was read from.
_Reading = tuple[Order, str, Margin, str]


def _procedure_margins(proc: Mapping[str, Any], where: str) -> list[_Reading]:
    """The margins stated on a resection Procedure (its outcome, its notes), each of the
    operation's time."""
    order = time_order(_performed_on(proc))
    outcome = proc.get("outcome")
    texts = [(f"{where}.outcome", m.concept_text(outcome), m.lower_words(outcome))]
    texts += [(f"{where}.note", str(n.get("text") or ""), str(n.get("text") or ""))
              for n in as_list(proc.get("note")) if isinstance(n, dict)]
    return [(order, w, found, shown) for w, text, shown in texts
            if text and (found := m.margin_in_text(text)) is not None]


def _observed_margins(observations: list[tuple[str, dict[str, Any]]], r: Reader,
                      coded: bool) -> list[_Reading]:
    """The margins the margin Observations give: those whose code names a margin (their
    finding's text, read as said of the margin: "Positive", "Involved by tumour";
    ``mcode.margin_in_text``) and, when ``coded``, the project-coded ones (their value's
    code). A result whose value pecoma cannot read is a margin result all the same
    (``Margin.unknown``): it is never passed over for another."""
    out = []
    for w, obs in observations:
        project = has_code(obs.get("code"), c.PECOMA_SYSTEM, c.OBS_MARGIN[0])
        if id(obs) not in r.orders or not (
                (coded and project) or r.kinds.get(id(obs)) == "margin"):
            continue
        if project:
            margin = _coded_margin(obs)
            text = margin.value if margin is not None else ""
        else:
            value = obs.get("valueCodeableConcept")
            text = m.lower_words(value) or str(obs.get("valueString") or "")
            said = m.concept_text(value) or text
            margin = m.margin_in_text(f"Margin: {said}") if said else None
            if margin is None and any(k.startswith("value") for k in obs):
                margin = Margin.unknown  # a value of another type, or a code not read
                text = text or next(k for k in obs if k.startswith("value"))
        if margin is not None:
            out.append((r.orders[id(obs)], w, margin, text))
    return out


def _latest_margin(readings: list[_Reading], r: Reader) -> tuple[Margin, str] | None:
    """The margin of the latest reading, whatever the order of the entries (later results
    win); a differing earlier one is set aside, noted. Readings that differ and cannot be
    told apart in time (of one time, or one undated) leave the margin unknown, noted with
    both: the order of the entries never decides, nor the more reassuring one. A latest
    statement that is not plain (a negation, a qualification, words pecoma does not read)
    leaves it unknown, noted: an earlier readable one never stands for it; one earlier
    than a plain one is set aside, noted."""
    if not readings:
        return None
    readings = sorted(readings, key=lambda x: x[0])
    *earlier, last = readings
    rivals = [x for x in earlier if x[2] is not last[2]
              and not (x[0][0] and known_later(x[0], last[0]))]
    if rivals:
        named = " and ".join(f"{w} ({show_value(text)})" for _o, w, _m, text in [*rivals, last])
        r.notes.append(f"surgery.margin: {named} differ, and none is known to be the later "
                       f"result ({OF_ONE_TIME}): surgery.margin is unknown")
        for _o, w, _m, _t in [*rivals, last]:
            if not _on_procedure(w):
                r.why[w] = "a margin result differing from another of the same time"
        r.value_not_read("surgery.margin", last[1])
        return None
    if last[2] is Margin.unknown:
        left = (" it says tumour was left without saying whether microscopic (R1) or gross "
                "(R2): not R0;" if m.TUMOUR_LEFT.search(m.plain_words(last[3])) else "")
        r.notes.append(f"{last[1]}: {show_value(last[3])} does not state the margin plainly "
                       "(it negates or qualifies what it says, names two R classes, names "
                       "the margin in words pecoma does not read, or its statements name "
                       f"different margins):{left} not read as a margin; an earlier result "
                       "does not stand for it; surgery.margin is unknown")
        if not _on_procedure(last[1]):
            r.why[last[1]] = "a margin result that does not state the margin plainly"
        # found in the record, but not read: to correct there, never "not found"
        r.value_not_read("surgery.margin", last[1])
        return None
    set_aside = [x for x in earlier if x[2] is not last[2]]
    if set_aside:
        named = ", ".join(f"{w} ({show_value(text)})" for _o, w, _m, text in set_aside)
        r.notes.append(f"surgery.margin taken from {last[1]} ({show_value(last[3])}), the "
                       f"latest result; an earlier result that differs is set aside: {named}")
        for _o, w, _m, _t in set_aside:
            if not _on_procedure(w):
                r.why[w] = f"an earlier margin result ({last[1]}, the later one, is read)"
    return last[2], last[1]


def _on_procedure(where: str) -> bool:
    """Whether a margin was read from a resection Procedure (its outcome, a note), not
    from an Observation of its own."""
    return where.endswith((".outcome", ".note"))


def _margins_between(days: list[dt.date], observations: list[tuple[str, dict[str, Any]]],
                     r: Reader) -> list[tuple[Margin, str] | None]:
    """For each resection day, the margin of the latest margin Observation dated from that
    day until the next resection (``None`` when there is none). Undated margins are named
    in a note."""
    found: list[list[_Reading]] = [[] for _d in days]
    undated: list[str] = []
    for reading in _observed_margins(observations, r, coded=True):
        seen = day_of(reading[0].day or reading[0].time[:10])  # its day as written
        if seen is None:
            undated.append(reading[1])
            continue
        slots = [i for i, d in enumerate(days) if d <= seen]
        if slots:
            found[slots[-1]].append(reading)
        else:
            r.notes.append(f"{reading[1]}: a margin observed before every resection of the "
                           "primary is not read")
    if undated:
        r.notes.append(f"{', '.join(undated)}: an undated margin cannot be told to belong to "
                       "one of several resections: not read")
    return [_latest_margin(f, r) for f in found]


def _coded_margin(obs: Mapping[str, Any]) -> Margin | None:
    """The margin a project-coded margin Observation gives (its value's code)."""
    known = {x.value: x for x in Margin if x is not Margin.unknown}
    for system, code in codings(obs.get("valueCodeableConcept")):
        if system == c.PECOMA_SYSTEM and code in known:
            return known[code]
    return None


def _forget_margin(r: Reader) -> None:
    """Drop a margin read from the observations: it may belong to another resection."""
    was = r.sources.pop("surgery.margin", None)
    if was is not None:
        r.used.discard(was)
    r.data.get("surgery", {}).pop("margin", None)


def _period_of(proc: Mapping[str, Any]) -> str:
    """When an operation given as a period (``performedPeriod``) took place: its start
    (an operation past midnight or over days is of the day it began, as a result's
    ``effectivePeriod`` is dated by its start), else its end."""
    period = proc.get("performedPeriod")
    if isinstance(period, dict):
        start, end = period.get("start"), period.get("end")
        return str(start if isinstance(start, str) and start else end or "")
    return ""


def _margin(proc: Mapping[str, Any], where: str,
            observations: list[tuple[str, dict[str, Any]]], r: Reader) -> None:
    """The margin from the Procedure's outcome or notes, or a margin Observation's finding:
    the latest of them (``_latest_margin``)."""
    readings = _procedure_margins(proc, where) + _observed_margins(observations, r,
                                                                   coded=False)
    found = _latest_margin(readings, r)
    if found is not None:
        r.put("surgery.margin", found[0].value, found[1])
        r.used.add(_resource_of(found[1]))


# ----------------------------------------------------------------------- medications


def _agent(med: Mapping[str, Any], r: Reader) -> Agent | None:
    """The agent of a medication resource, read once per resource."""
    key = id(med)
    if key not in r.agents:
        r.agents[key] = meds.agent_of(med, r.resolve)
    return r.agents[key]


#: ICD-10 codes outside the neoplasms (C00-D49) that name a disorder in a neoplastic
#: disease (anaemia, paraneoplastic neuropathy, carcinoid syndrome, tumour lysis): a
#: drug given for one may be given for the cancer.
_IN_NEOPLASTIC_DISEASE: Final = ("D63.0", "E34.0", "E88.3", "G13.0", "G13.1", "G53.3",
                                 "G55.0", "G63.1", "G73.2", "G94.1", "M36.0", "M36.1",
                                 "M49.5", "M82.0", "M84.5", "M90.6", "M90.7", "N08.1",
                                 "N16.1")


def _not_cancer(concept: Any) -> bool:
    """Whether a reason's CodeableConcept names a condition that is surely no cancer: an
    ICD-10 (or ICD-10-CM) code, every one outside the neoplasms (C00-D49), the symptoms
    (R: a sign of the cancer, perhaps), the encounters and histories (Z: chemotherapy,
    a history of cancer) and the disorders in a neoplastic disease; no ICD-O-3 or
    project code; no word naming a cancer. A reason coded otherwise only (SNOMED CT)
    is not decided: unknown, never taken for no cancer."""
    if m.CANCER_WORDS.search(m.lower_words(concept)):
        return False
    icd = []
    for system, code in codings(concept):
        if system in c.ICDO3_SYSTEMS or system == c.PECOMA_SYSTEM:
            return False
        if system in (m.ICD10CM, m.ICD10):
            icd.append(code.strip().upper())
    return bool(icd) and not any(
        not code[:1].isalpha() or code[:1] in "CRZ" or (code[:1] == "D" and code[1:3] < "50")
        or code.startswith(_IN_NEOPLASTIC_DISEASE) for code in icd)


def _shown(concept: Any) -> str:
    """A reason's concept in a few words: its text, else its codes and displays."""
    if isinstance(concept, dict) and isinstance(concept.get("text"), str):
        return str(concept["text"])
    parts = [f"{cd.get('code', '')} {cd.get('display', '')}".strip()
             for cd in as_list(concept.get("coding") if isinstance(concept, dict) else None)
             if isinstance(cd, dict)]
    return "; ".join(p for p in parts if p) or "no name"


def _reason_not_cancer(med: Mapping[str, Any], r: Reader) -> str | None:
    """What a medication record is given for, when every reason it gives
    (``reasonCode``; ``reasonReference`` to a Condition resolved in the record) names a
    condition that is no cancer (:func:`_not_cancer`): methotrexate for rheumatoid
    arthritis. ``None`` when it gives no reason, or a reason naming the PEComa or a
    cancer, or one pecoma cannot resolve or decide on (read as before: a line)."""
    shown = []
    for concept in as_list(med.get("reasonCode")):
        if not _not_cancer(concept):
            return None
        shown.append(f"reasonCode '{_shown(concept)}'")
    for ref in as_list(med.get("reasonReference")):
        target = resolved(reference_of(ref), r)
        if (target is None or target is r.primary
                or target.get("resourceType") != "Condition"
                or not live_condition(target) or not _not_cancer(target.get("code"))):
            return None
        shown.append(f"{reference_of(ref)} '{_shown(target.get('code'))}'")
    return ", ".join(shown) or None


def _names_no_disease(concept: Any) -> bool:
    """Whether a reason's CodeableConcept is coded only as an encounter for chemotherapy
    (:data:`pecoma.fhir.mcode.CHEMOTHERAPY_ENCOUNTER`: the usual associated diagnosis of
    a chemotherapy order), with no word of a cancer: it says no more than that the order
    is chemotherapy, as no reason stated."""
    found = list(codings(concept))
    return bool(found) and not m.CANCER_WORDS.search(m.lower_words(concept)) and all(
        system in (m.ICD10CM, m.ICD10) and code.strip().upper().startswith(
            m.CHEMOTHERAPY_ENCOUNTER) for system, code in found)


def order_given_for(order: Mapping[str, Any], resolve: meds.Resolver,
                    pecoma: str | None, site: str | None) -> tuple[bool | None, str]:
    """What an order's reasons say it is given for, read as a medication record's are
    (:func:`cancers_given_for`, :func:`_not_cancer`), with the PEComa Condition
    (``pecoma``, ``Condition/id``) and its primary site (``site``), each reason read by
    :func:`_reason_said`: ``(True, "")`` when it gives no reason (an encounter for
    chemotherapy, Z51.11, names none); ``(True, shown)`` when every reason it gives names
    the PEComa (a ``reasonReference`` to the PEComa Condition or to one recording the same
    tumour, a ``reasonCode`` sharing a coding with its code, coding or naming PEComa, or a
    malignancy of its own organ named by its site alone: C18.9 beside a gastrointestinal
    PEComa, C49.9 beside a soft-tissue one); ``(False, shown)`` when every reason surely
    names something else: a condition that is surely no cancer (rheumatoid arthritis,
    ICD-10-CM M06.9), or another primary cancer, by code or name, recorded or not (colon
    cancer, C18.9, beside a lung PEComa: :func:`pecoma.fhir.read_conditions.
    surely_other_cancer`; a tumour type other than PEComa, renal cell carcinoma beside a
    kidney PEComa); ``(None, shown)`` otherwise: a reason names neither that pecoma can
    read (a SNOMED CT code only, a Condition the record does not hold, a cancer code beside
    a PEComa of unknown or regional site, a ``reasonCode`` or ``reasonReference`` that is
    no list), or the reasons name the PEComa and something else (the PEComa and rheumatoid
    arthritis, as two reasons or as two codings of one): what the order is for cannot be
    told. ``shown`` names the reasons read."""
    said, shown = _reasons_said(order, resolve, pecoma, site)
    if all(x is True for x in said):
        return True, ", ".join(shown)
    return (False if all(x is False for x in said) else None), ", ".join(shown)


def names_the_pecoma(order: Mapping[str, Any], resolve: meds.Resolver,
                     pecoma: str | None, site: str | None) -> bool:
    """Whether one reason of an order at least names the PEComa, read as
    :func:`order_given_for` reads each (the PEComa Condition, its own metastasis, a code
    or name of PEComa): an order naming it beside another cancer of the record may be
    for either, never taken for the other cancer's alone."""
    return True in _reasons_said(order, resolve, pecoma, site)[0]


def _reasons_said(order: Mapping[str, Any], resolve: meds.Resolver, pecoma: str | None,
                  site: str | None) -> tuple[list[bool | None], list[str]]:
    """What each reason of an order says (:func:`_reason_said`: the PEComa, something
    else, or neither pecoma can read), and the reasons shown, an encounter for
    chemotherapy (Z51.11) read as no reason (:func:`order_given_for`). A reference to a
    metastasis whose ``condition-related`` extension names the PEComa Condition is the
    PEComa's, as the PEComa Condition itself is."""
    held = resolve(pecoma) if pecoma is not None else None
    said: list[bool | None] = []
    shown: list[str] = []
    for key in ("reasonCode", "reasonReference"):
        if key in order and not isinstance(order[key], list):
            said.append(None)
            shown.append(f"{key} not a list: {show_value(order[key])}")
    for concept in as_list(order.get("reasonCode")):
        if _names_no_disease(concept):
            continue
        shown.append(f"reasonCode '{_shown(concept)}'")
        ours = held is not None and bool(
            conditions_named({"reasonCode": [concept]}, [("", held)], resolve))
        said.append(_reason_said({"code": concept}, site, ours))
    for ref in as_list(order.get("reasonReference")):
        where = reference_of(ref)
        target = resolve(where) if where else None
        if target is not None and target.get("resourceType") == "Condition" \
                and _names_no_disease(target.get("code")):
            continue
        shown.append(f"reasonReference {where or '(no reference)'}")
        if target is None or target.get("resourceType") != "Condition" \
                or not live_condition(target):
            said.append(None)
        else:
            related = reference_of((extension(target, m.CONDITION_RELATED) or {}).get(
                "valueReference"))
            said.append(True if target is held or (
                held is not None and _is_metastasis(target) and related is not None
                and resolve(related) is held) else _reason_said(target, site))
    return said, shown


def ordered_for_no_cancer(order: Mapping[str, Any], resolve: meds.Resolver) -> bool:
    """Whether an order gives a reason and every reason it gives names a condition that
    is surely no cancer (:func:`_not_cancer`: rheumatoid arthritis, ICD-10-CM M06.9, as a
    ``reasonCode`` or the code of a Condition its ``reasonReference`` names): a drug
    ordered for that is no line of any cancer's. A benign tumour is not such a reason
    (:func:`_reason_said`: no anticancer drug is given for a leiomyoma, so the tumour
    may be the PEComa taken for one). An encounter for chemotherapy (Z51.11)
    is no reason; a reference the record does not resolve to a Condition, or a reason
    pecoma cannot read, is never taken for no cancer."""
    if not isinstance(order.get("reasonCode", []), list) \
            or not isinstance(order.get("reasonReference", []), list):
        return False
    concepts = [x for x in as_list(order.get("reasonCode")) if not _names_no_disease(x)]
    for ref in as_list(order.get("reasonReference")):
        where = reference_of(ref)
        target = resolve(where) if where else None
        if target is None or target.get("resourceType") != "Condition":
            return False
        if not _names_no_disease(target.get("code")):
            concepts.append(target.get("code"))
    return bool(concepts) and all(_not_cancer(x) for x in concepts)


def _reason_said(cond: Mapping[str, Any], site: str | None,
                 ours: bool = False) -> bool | None:
    """Whether one reason of an order (a Condition, or a ``reasonCode`` as one's code)
    names the PEComa (``True``: ``ours``, a coding shared with the PEComa Condition's
    code; codes or names PEComa; or a malignancy of its organ named by its site alone:
    :func:`pecoma.fhir.read_conditions.same_tumour`, or an ICD-10 code of that organ),
    surely something else (``False``: no cancer, :func:`_not_cancer`; surely another
    primary cancer, :func:`pecoma.fhir.read_conditions.surely_other_cancer`; a tumour type
    other than PEComa, :func:`pecoma.fhir.read_conditions.names_other_tumour`, renal cell
    carcinoma beside a kidney PEComa), or neither pecoma can read (a benign tumour
    named: a leiomyoma, which a PEComa may have been taken for), or both (C64.9 coded
    beside C18.9 for a kidney PEComa, ICD-O-3 8714/3 beside C18.9 for a lung one: which is
    meant cannot be told), ``None``."""
    concept = cond.get("code")
    pecoma = ours or _codes_or_names_pecoma(concept) or _codes_pecoma_spread(cond)
    if not pecoma and (_is_metastasis(cond) or names_benign_tumour(concept)):
        # a benign tumour (a leiomyoma, D25.9): no anticancer drug is ordered for one, and
        # a PEComa is often first taken for one (S24, S25): what it is for cannot be told
        return None
    other_type = names_other_tumour(concept)
    pecoma = pecoma or (not other_type and (same_tumour(cond, site)
                                            or codes_own_organ(cond, site)))
    other = other_type or _not_cancer(concept) or surely_other_cancer(cond, site)
    return None if pecoma == other else pecoma


def _reason_holder(med: Mapping[str, Any], r: Reader) -> Mapping[str, Any]:
    """The record whose reasons say what a medication record was given for: its own
    (``reasonCode``, ``reasonReference``) when it gives any, else those of the order it
    carries out, when the record holds that MedicationRequest and it gives one (an
    administration's ``request``, a dispense's ``authorizingPrescription``, a
    statement's ``basedOn``: EHRs name the reason on the order)."""
    if as_list(med.get("reasonCode")) or as_list(med.get("reasonReference")):
        return med
    for ref in [med.get("request"), *as_list(med.get("authorizingPrescription")),
                *as_list(med.get("basedOn"))]:
        order = resolved(reference_of(ref), r)
        if order is not None and order.get("resourceType") == "MedicationRequest" and (
                as_list(order.get("reasonCode")) or as_list(order.get("reasonReference"))):
            return order
    return med


def _cancer_of_course(holder: Mapping[str, Any], r: Reader) -> tuple[str | None, bool]:
    """Beside another present primary cancer (``Reader.other_cancers``), which cancer a
    course was given for, by its reasons (:func:`pecoma.fhir.read_conditions.
    cancers_given_for`): ``(other, False)`` for one naming another cancer and not the
    PEComa; ``(None, True)`` for one naming neither (no reason, or none pecoma can place):
    which cancer it was given for is unknown; ``(None, False)`` for one naming the PEComa
    (whatever else it names: it is given for the PEComa too), or with no other cancer. A
    metastasis set aside as another tumour's (``Reader.other_spread``: its own histology
    names one) is that cancer: a course whose reason names it is ``(that Condition,
    False)``, with or without another primary cancer recorded."""
    if not r.other_cancers and not r.other_spread:
        return None, False
    pecoma, others = cancers_given_for(holder, r)
    if pecoma:
        return None, False
    if others:
        return others[0], False
    # no reason naming a cancer: beside another primary cancer, or a lesion of another
    # cancer with no primary of it recorded (the lesion is that cancer's, and a course
    # may have been given for it), which cancer it was given for is asked
    return None, True


def _beside_another_cancer(where: str, agent: Agent, name: str, start: meds.FirstDay | None,
                           other: str | None, r: Reader) -> bool:
    """A course given beside another present primary cancer that no reason gives for the
    PEComa (:func:`_cancer_of_course`: ``other``, the cancer its reason names, or
    ``None``: it names none). Whether it is read as a line of the PEComa's, the safer
    reading for each piece of advice that rests on it:

    - named for the other cancer: no line (its chemotherapy is not the PEComa's first
      line, its anthracycline no line of the PEComa's, though it counts towards the
      cumulative dose: said); an mTOR inhibitor acts on the PEComa too, so whether the
      PEComa progressed on it is asked (``Reader.courses_in_doubt``: the lines already
      given are not fully known, the mTOR advice conditional on the answer);
    - naming no cancer: which cancer it was given for is asked (``courses_in_doubt``).
      An mTOR inhibitor is read as a line meanwhile (the PEComa is not taken as never
      treated with one: whether it progressed on it is asked too); any other agent is
      not (no chemotherapy is claimed as given first for the PEComa).

    Returns whether the record is no line."""
    since = f" (started {start.written})" if start is not None else ""
    anthracycline = ("; an anthracycline counts towards the patient's cumulative "
                     "anthracycline dose whichever cancer it was given for: check that dose "
                     "before any anthracycline for the PEComa"
                     if agent.is_anthracycline_based else "")
    if other is not None:
        r.why[where] = (f"{name} given for another cancer ({other}, its reason): not a line "
                        "of PEComa treatment")
        r.notes.append(f"{where}: {name}{since} given for another cancer ({other}, its "
                       "reason): not read as a line of PEComa treatment" + anthracycline
                       + "; if it was given for the PEComa too, give the PEComa Condition "
                       "among its reasons")
        if agent.is_mtor_inhibitor:
            r.courses_in_doubt.append(
                f"{where}: did the PEComa progress on {name}{since}, an mTOR inhibitor "
                f"given for another cancer ({other})?")
            r.notes.append(f"{where}: {name} is an mTOR inhibitor, which acts on the PEComa "
                           "too: whether the PEComa progressed on it is unknown, so the lines "
                           "already given are not fully known (the advice naming a drug is "
                           "conditional on it); if the PEComa progressed on it, record it "
                           "as a line of the PEComa's (the PEComa Condition among its "
                           "reasons)")
        return True
    cancer = (r.other_cancers[0] if r.other_cancers else
              f"the other tumour {next(iter(r.other_spread.values()))[0]} records")
    question = f"which cancer was {name} given for{since}: the PEComa, or {cancer}?"
    r.courses_in_doubt.append(f"{where}: {question}")
    kind = "another primary cancer" if r.other_cancers else "another cancer"
    said = (f"{where}: no reason of it tells which cancer it was given for, and the record "
            f"holds {kind} ({cancer}) besides the PEComa: {question}")
    if agent.is_mtor_inhibitor:
        r.notes.append(f"{said} Read meanwhile as a line of the PEComa's (the safer "
                       "reading: the PEComa is not taken as never treated with an mTOR "
                       "inhibitor, and whether it progressed on it is asked); the lines "
                       "already given are not fully known; give its reason (reasonCode or "
                       "reasonReference)")
        return False
    r.why[where] = (f"{name} naming no reason beside {kind} ({cancer}): which cancer it "
                    "was given for is unknown")
    r.notes.append(f"{said} Not read meanwhile as a line of the PEComa's (no chemotherapy "
                   "is claimed as given first for the PEComa); the lines already given are "
                   "not fully known" + anthracycline + "; give its reason (reasonCode or "
                   "reasonReference): given for the PEComa, it is a line of the PEComa's "
                   "(before its resection, the features recorded may be those of a treated "
                   "tumour)")
    return True


#: How a medication record read as no line, its name holding words pecoma does not
#: identify and nothing marking it as an anticancer drug, is listed as not read (the CDS
#: cards list such records by these words, so that the team sees what was set aside).
NAME_NOT_IDENTIFIED: Final = ("which pecoma does not identify: no agent of the guideline, "
                              "and nothing marks it as an anticancer drug")


def _administered(records: list[tuple[str, dict[str, Any]]], r: Reader
                  ) -> tuple[dict[str, list[dt.date] | None], set[str]]:
    """The days of the administrations given (``completed``, on one day by the day read
    for) of each drug, for whether a course of them is given now
    (:func:`pecoma.fhir.medications.now_given`): by record, the days of the drug's
    other administrations given for the latest of them (the first of those of one day),
    ``None`` for the others (the latest stands for the course); and the latest ones of a
    drug the record says stopped since (:func:`pecoma.fhir.medications.stopped_after`:
    a dose past due is then no dose delayed)."""
    by_drug: dict[tuple[Agent, frozenset[str]], list[tuple[dt.date, str]]] = {}
    for where, med in records:
        agent = _agent(med, r) if med.get("resourceType") == "MedicationAdministration" \
            else None
        day = meds.started_on(med, r.on)
        if agent is None or day is None or med.get("status") != "completed" or (
                r.on is not None and day > r.on):
            continue
        drugs = meds.drugs_of(med, r.resolve) if agent in CATCH_ALL else frozenset()
        by_drug.setdefault((agent, drugs), []).append((day, where))
    out: dict[str, list[dt.date] | None] = {}
    stopped: set[str] = set()
    for (agent, drugs), doses in by_drug.items():
        latest = max(doses, key=lambda x: x[0])
        for _day, where in doses:
            out[where] = None
        out[latest[1]] = [day for day, where in doses if where != latest[1]]
        if any(meds.stopped_after(med, latest[0]) for _w, med in records
               if _agent(med, r) is agent and (
                   agent not in CATCH_ALL or meds.drugs_of(med, r.resolve) == drugs)):
            stopped.add(latest[1])
    return out, stopped


def read_medications(records: list[tuple[str, dict[str, Any]]], r: Reader) -> None:
    own: list[tuple[str, dict[str, Any], Agent]] = []
    given: list[tuple[str, dict[str, Any], Agent]] = []
    undated: set[str] = set()  # begun before the diagnosis: read without their start
    courses, stopped = _administered(records, r)
    for where, med in records:
        agent = _agent(med, r)
        why = meds.unreadable_medication(med, r.resolve) if agent is None else None
        if agent is None and why is None:
            # a medication pecoma reads but that is no PEComa agent; one whose name holds
            # a drug pecoma cannot identify, nothing marking it as an anticancer drug, is
            # listed as not read by that name
            unknown = meds.unidentified_names(med, r.resolve)
            if unknown:
                r.why[where] = (
                    f"its name holds {', '.join(repr(w) for w in unknown)}, "
                    f"{NAME_NOT_IDENTIFIED} (no mCODE cancer-related profile, no reason "
                    "naming a cancer, no investigational code or anticancer name stem)")
            continue
        # its dates decide whether it is a line, planned or given now: a dosage timing
        # that cannot be read is refused, never dropped (the R4B validator lets a null or
        # a number through as an event, and validates only the records a fact comes from)
        state = meds.given(med, r.on)
        # a date that cannot be read, or a period ending before it starts, is refused only
        # in a record that is read (one entered in error or not given decides nothing by
        # its dates, and is not checked)
        checked = ([] if state in (meds.Given.error, meds.Given.not_given)
                   else [*meds.unread_timing(med), *meds.backwards_periods(med)])
        for path, value, rule in checked:
            r.issue(f"{where}.{path}", value, rule)
            r.refused_elements.add(f"{where}.{path}")
        for path in meds.absent_dose_days(med):
            r.notes.append(f"{where}.{path}: a dose day said absent (null, with an "
                           "extension such as a data-absent-reason): unknown, not read; "
                           "the course's dates are read from its other dates, or stay "
                           "unknown, and its last dose day is unknown (not read as ended "
                           "by the days listed)")
        if agent is None:
            r.why[where] = f"medication not identified: {why}"
            if state in meds.NOT_A_LINE:
                continue  # not given, whatever it is
            r.unidentified.append(f"{where}: {why}")
            r.notes.append(f"{where}: {why}; if it is a systemic agent, its line is "
                           "missing")
            continue
        beside = meds.agents_beside(med, agent, r.resolve)
        blinded = meds.blinded_arm(med, r.resolve)
        if beside or blinded:
            # two treatments named in one record (everolimus with doxorubicin): which
            # line it was cannot be told; a blinded arm or a placebo beside the agent
            # ("Sirolimus or placebo"): whether the agent was given is not known. Either
            # way the lines given are not fully known, never a line of the agent
            names = ", ".join(a.value for a in (agent, *beside))
            why = (f"names {names} together: which line it was is not known" if beside
                   else f"{blinded}: whether {agent.value} was given or a placebo is not "
                   "known")
            r.why[where] = f"medication not identified: {why}"
            if state not in meds.NOT_A_LINE:
                r.unidentified.append(f"{where}: {why}")
                r.notes.append(f"{where}: {why}; no line is read from it")
            continue
        # applied where it acts (a topical sirolimus gel for facial angiofibromas): no
        # line of systemic treatment; an order of it is checked against the allergy list
        # (Planned.topical), but is no order in place of a systemic one
        acts = meds.where_it_acts(med, r.resolve)
        local = acts.topical
        topical = local is not None
        if state is not meds.Given.error:
            _status_reason(where, med, agent, state, r, local)
        forbidden = _do_not_perform(where, med, agent, r) if meds.do_not_perform(med) \
            else None
        start = meds.first_day(med)
        # the drugs of an agent standing for many (paclitaxel: other chemotherapy), for
        # the allergy check of an order in place
        drugs = meds.drugs_of(med, r.resolve) if agent in CATCH_ALL else frozenset()
        # given for a condition that is no cancer (methotrexate for rheumatoid arthritis):
        # no line of PEComa treatment. A treatment the guideline's advice turns on stays
        # one: an mTOR inhibitor (the PEComa may have grown on it: sirolimus after a
        # transplant) and an anthracycline-based regimen (never given but for a cancer: a
        # reason coded otherwise is more likely a wrong code than a line to forget, and
        # forgetting it would offer S14's anthracycline again). Planned, it stays an order
        # in place, checked against the allergy list.
        holder = _reason_holder(med, r)
        reason = _reason_not_cancer(holder, r)
        kept = agent.is_mtor_inhibitor or agent.is_anthracycline_based
        other_reason = None if kept else reason
        # beside another present primary cancer: which cancer it was given for
        other_cancer, in_doubt = (_cancer_of_course(holder, r) if reason is None
                                  else (None, False))
        if state is meds.Given.maybe_started:
            # not a line, nor none: whether it was given is unknown, and the lines
            # already given with it (history_doubt)
            why, doubt, note = _maybe_started(med, agent, start, r.on)
            r.why[where] = why
            if start is not None and meds.given(med) is not meds.Given.maybe_started:
                # dated on or across a later day: an order of it is in place
                r.planned.append(Planned(where, agent, f"from {start.written}, perhaps "
                                         "not started yet", drugs, topical=topical))
            if other_reason is None and other_cancer is None and not topical:
                r.unknown_starts.append(f"{where}: {doubt}")
                r.notes.append(f"{where}: {note}, so it is not read as a line given, and "
                               "the lines already given are not fully known")
            continue
        if state in meds.NOT_A_LINE:
            later = (state is meds.Given.planned and start is not None and r.on is not None
                     and start.earliest > r.on and meds.given(med) is not state)
            r.why[where] = (f"{agent.value} planned: its first day, {start.written}, is "
                            f"after {r.on}" if later and start is not None else
                            f"{agent.value} not given: {forbidden}" if forbidden else
                            f"{agent.value} not given: a do-not-perform order (status "
                            f"'{med.get('status')}')" if med.get("doNotPerform") is True
                            else f"{agent.value} not given: a {med.get('intent')} stopped "
                            "before it started (status 'stopped', its reason says so)"
                            if state is meds.Given.not_given
                            and med.get("status") == "stopped"
                            else f"{agent.value} {state.value.replace('_', ' ')} (status "
                            f"'{med.get('status')}')")
            if state is meds.Given.planned:
                r.planned.append(Planned(where, agent, _planned_how(med, start, later),
                                         drugs, topical=topical))
            continue
        now = meds.now_given(med, r.on, courses.get(where, ()), where in stopped)
        if now is not None:
            held = now.held
            since = f" since {start.written}" if start is not None else ""
            r.running.append(Planned(where, agent, now.how, drugs, held=held,
                                     topical=topical, unsure=now.unsure))
            if held and not topical:
                r.notes.append(f"{where}: {agent.value.replace('_', ' ')} on hold (status "
                               f"'on-hold'{since}): read as a line given and not ended; "
                               "the order may be resumed at any time")
            if now.ask and not topical:
                # handed over or given on a day the record does not give, or a dose due
                # not recorded: it may be taken now (unknown is not absent)
                r.notes.append(f"{where}: {agent.value.replace('_', ' ')} {now.how}: read "
                               "as a line given that may be taken now (the safer "
                               f"reading); {now.ask}")
        elif (not topical and r.on is not None and med.get("resourceType")
              == "MedicationDispense" and (
                  run_out := meds.supply_run_out(med, r.on)) is not None):
            # handed over on a day the record does not give, but prepared so long ago
            # that even handed over late its supply has run out: over, and said so
            r.notes.append(
                f"{where}: {agent.value.replace('_', ' ')} dispensed (prepared "
                f"{med.get('whenPrepared')}), handed over on a day the record does not "
                f"give: read as not taken now, since handed over even "
                f"{meds.HANDOVER_MARGIN.days} days after it was prepared its supply "
                f"would have run out by {run_out}; if it is taken now, record the day it "
                "was handed over")
        if local is not None:
            name = ", ".join(sorted(meds.drugs_of(med, r.resolve))) or agent.value.replace(
                "_", " ")
            r.why[where] = f"a topical {name} product, not a systemic treatment line"
            r.notes.append(f"{where}: {name} applied where it acts ({local}): a topical "
                           "product, not read as a line of systemic treatment"
                           + (" (no mTOR inhibitor is taken as given by it)"
                              if agent.is_mtor_inhibitor else "")
                           + "; if it was given as a systemic treatment, correct the record")
            continue
        if acts.doubt is not None:
            # a passing mention of a cream, or a topical product beside a word saying
            # systemic: the line is kept, the safer reading (a line given and forgotten
            # would offer the first-line mTOR inhibitor again with no question)
            r.notes.append(f"{where}: {agent.value.replace('_', ' ')}: {acts.doubt}: read "
                           "as a line of systemic treatment (the safer reading); if it was "
                           "a topical product only, correct the record")
        if other_reason is not None:
            name = ", ".join(sorted(drugs)) or agent.value.replace("_", " ")
            r.why[where] = (f"{name} given for a condition that is not a cancer "
                            f"({other_reason}): not a line of PEComa treatment")
            r.notes.append(f"{where}: {name} given for a condition that is not a cancer "
                           f"({other_reason}): not read as a line of PEComa treatment; if "
                           "it was given for the PEComa, correct the case")
            continue
        # a drug given for diseases that are no cancer too (hydroxyurea for sickle cell
        # disease), nothing saying it was given for a cancer: neither a line of the
        # PEComa's (no chemotherapy is claimed as given first for it) nor nothing (it may
        # have been given for the PEComa): what it was given for is asked, and the lines
        # already given are not fully known
        purpose = meds.other_uses(med, r.resolve)
        if purpose is not None:
            name = " and ".join(sorted(drugs))
            r.why[where] = f"not read as a line of PEComa treatment: {purpose}"
            r.purposes_unknown.append(f"{where} ({name}): what was it given for, the PEComa "
                                      f"or another disease? ({purpose})")
            r.notes.append(f"{where}: {purpose}: not read as a line of PEComa treatment, "
                           "and the lines already given are not fully known; if it was "
                           "given for the PEComa, give its reason (reasonCode or "
                           "reasonReference: the PEComa Condition) or record the line")
            continue
        if reason is not None:  # an mTOR inhibitor or an anthracycline-based regimen
            r.notes.append(f"{where}: {agent.value} given for a condition that is not a "
                           f"cancer ({reason}): read as a line all the "
                           "same (the PEComa may have grown on it); if it did not, correct "
                           "the case")
        if (other_cancer is not None or in_doubt) and _beside_another_cancer(
                where, agent, ", ".join(sorted(drugs)) or agent.value.replace("_", " "),
                start, other_cancer, r):
            continue
        # the day of diagnosis, when its Condition says it (the day the Condition was
        # entered may be later than the treatment: no bound)
        diagnosed = (None if "diagnosis.date" in r.entered_dates
                     else day_of(r.data.get("diagnosis", {}).get("date")))
        if start is not None and diagnosed is not None and start.latest < diagnosed:
            # begun before the PEComa was diagnosed: for the tumour under an earlier
            # diagnosis (S25), or for another condition (sirolimus after a transplant, for
            # TSC or LAM) on which the disease grew: a line given all the same, its start
            # left out (the case counts lines from the diagnosis)
            undated.add(where)
            r.notes.append(f"{where}: {agent.value} from {start.written}, before the "
                           f"PEComa's diagnosis ({diagnosed.isoformat()}): read as a line "
                           "given, its start not recorded; if it was given for another "
                           "condition and the PEComa did not grow on it, correct the case")
        if start is not None and start.day is None:
            r.notes.append(f"{where}: {agent.value} from {start.written} (a partial date): "
                           "the day its line started is not known")
        if agent is Agent.other:
            r.notes.append(f"{where}: read as a line of another systemic agent, one the "
                           "guideline does not name")
        if state is meds.Given.unknown and extension(med, c.EXT.THERAPY_SETTING) is None:
            r.notes.append(f"{where}: status '{med.get('status')}' does not say whether "
                           f"{agent.value} was given; read as given")
        if extension(med, c.EXT.THERAPY_SETTING) is not None:
            own.append((where, med, agent))
        else:
            given.append((where, med, agent))
    therapies = [_own_line(where, med, agent, r) for where, med, agent in own]
    for (where, _m, _a), line in zip(own, therapies, strict=True):
        if where in undated:
            line.pop("started_on", None)
    paths = [where for where, _m, _a in own]
    for line, wheres in _lines(given, r, undated):
        therapies.append(line)
        paths.extend(wheres)
    r.used.update(paths)
    if therapies:
        r.put("systemic.therapies", therapies, ", ".join(paths))


#: Margins after which the resection left no gross tumour (what may be left is
#: microscopic at most), as the engine reads them.
_NO_GROSS_LEFT: Final = (Margin.R0.value, Margin.R1.value, Margin.uncertain.value)


def settle_line_settings(r: Reader) -> None:
    """The setting of the lines an EHR recorded without one (the project's extension
    ``therapy-setting``), once the disease status is read: a line begun on or after the
    resection of a primary read as localized is adjuvant, said in a note (the record holds
    no relapse it could have been given for; the case format reads a line without its
    setting as one for advanced disease, which such a record contradicts when the
    resection left no gross tumour, and the case was refused), unless the resection left
    gross tumour (R2: the line treated the disease left, the case format's reading kept).
    Whether it did is read as the engine reads it (``gross_tumour_left``: the margin of a
    completing resection when one is recorded, else the primary's; R2 yes, R0, R1 or
    uncertain no, not recorded unknown): with the margin not recorded it may have, so the
    note says the margin is not recorded and what the setting would be with gross tumour
    left, and the report asks the margin. The case format has no setting to leave asked: the line is
    kept adjuvant, the reading the likelier margin and the case's coherence support
    (advanced would be refused once R0 or R1 is recorded) and the one that also asks when
    the adjuvant treatment ended. Any other line keeps the case format's reading."""
    stage, surgery = r.data.get("stage", {}), r.data.get("surgery", {})
    completion = surgery.get("completion") or {}
    day = completion.get("date") or surgery.get("date")
    if (stage.get("status") != DiseaseStatus.localized.value
            or surgery.get("status") != SurgeryStatus.performed.value or day is None):
        return
    # the margin that decides it: a completing resection's when one is recorded
    completed = isinstance(surgery.get("completion"), dict)
    margin = (completion if completed else surgery).get("margin")
    if margin == Margin.R2.value:
        return
    field = "surgery.completion.margin" if completed else "surgery.margin"
    unrecorded = ("" if margin in _NO_GROSS_LEFT else
                  f"; {field} is not recorded (unknown): this holds only if the "
                  "resection left no gross tumour (R0 or R1); if it left gross tumour "
                  "(R2), the line treated the disease left and its setting is 'advanced' "
                  "(record the margin)")
    for i, line in enumerate(r.data.get("systemic", {}).get("therapies", [])):
        start = line.get("started_on")
        if "setting" in line or start is None or start < day:
            continue
        line["setting"] = TherapySetting.adjuvant.value
        r.notes.append(f"systemic.therapies[{i}].setting: {line['agent']} from {start}, "
                       f"begun after the resection of {day}, the record holding no "
                       f"relapse, is read as adjuvant{unrecorded}; if it was given for a "
                       "relapse, the record lacks it (record the recurrence or the "
                       "metastases)")


def _status_reason(where: str, med: Mapping[str, Any], agent: Agent, state: meds.Given,
                   r: Reader, local: str | None = None) -> None:
    """What a medication record's ``statusReason`` says of its drug
    (:func:`pecoma.fhir.medications.status_reason`), whatever its status: not tolerated
    (stopped for pneumonitis), an intolerance of the drug, read with the allergy list
    (I15); a reason pecoma cannot read, a question for the team, the line read as given
    and, for an mTOR inhibitor, no 'not contraindicated' kept (the safer reading). A
    reason plainly other (progression, a course completed) says nothing of tolerance.

    ``local``: what says the record is of a topical product
    (:func:`pecoma.fhir.medications.not_systemic`), no line. Its intolerance is still an
    intolerance of the drug (the safer reading, as an allergy entry naming the drug is,
    whatever the product): the note says it was recorded on a topical product, for the
    team to correct the case if it was a reaction of the skin to that product only."""
    reason = meds.status_reason(med, r.resolve)
    if reason is None:
        return
    name = agent.value.replace("_", " ")
    said = (f"status '{med.get('status')}'"
            + (", a do-not-perform order" if meds.do_not_perform(med) else "")
            + f", {reason.said_in} {show_value(reason.shown, 120)}")
    if reason.progression is meds.Progression.unclear and local is None and (
            state not in (*meds.NOT_A_LINE, meds.Given.maybe_started)):
        # a progression doubted, asked or coded as a worsening: no 'progressed' read
        missed = meds.not_taken_said(med)
        r.notes.append(f"{where}: {name} {said}: pecoma cannot tell whether this says the "
                       f"disease progressed on {name}"
                       + (f" (it says {name} was not taken as prescribed: '{missed}', so a "
                          "progression it records is not shown on the drug)"
                          if missed is not None else "")
                       + "; not read as progressed; check it, and if it did, record it")
    if reason.kind is meds.StopReason.other:
        return
    line = ("a topical product, no line given" if local is not None
            else "whether it was given is unknown, no line read"
            if state is meds.Given.maybe_started
            else "the line stays a line given" if state not in meds.NOT_A_LINE
            else "no line given")
    if reason.kind is meds.StopReason.intolerance:
        r.not_tolerated.append(NotTolerated(where, agent, meds.drugs_of(med, r.resolve),
                                            reason.shown))
        r.notes.append(f"{where}: {name} {said}: read as an intolerance of {name} "
                       f"({line}); if it was tolerated, correct the case"
                       + ("; recorded on a topical product: if it was only a local "
                          "reaction to that product, not an intolerance of the drug, "
                          "correct the case too" if local is not None else ""))
        return
    mtor = agent.is_mtor_inhibitor
    # a possible intolerance: what it would rule out is checked on a draft order (the
    # CDS services warn that the draft could not be checked against it)
    r.unclear_stops.append(NotTolerated(where, agent, meds.drugs_of(med, r.resolve),
                                        _stop_shown(med, reason.shown)))
    r.notes.append(f"{where}: {name} {said}: pecoma cannot tell whether this says {name} "
                   f"was not tolerated ({line}); check it"
                   + (": an intolerance of it rules out every mTOR inhibitor unless another "
                      "one is shown tolerated (I15), so whether mTOR inhibitors are "
                      "contraindicated is asked" if mtor else ""))
    if mtor:
        _no_not_kept("systemic.mtor_inhibitor_contraindicated", where,
                     f"gives a reason to check for stopping {name}", r)


def _maybe_started(med: Mapping[str, Any], agent: Agent, start: meds.FirstDay | None,
                   on: dt.date | None) -> tuple[str, str, str]:
    """Why a medication record may or may not have been given by ``on``
    (:attr:`pecoma.fhir.medications.Given.maybe_started`), as its reason for not being
    read, as the doubt on the lines given, and as a note: a plan stopped that does not
    show it was carried out; an administration given on a later day; a first day that
    is a partial date spanning ``on``."""
    name = agent.value
    if meds.given(med) is meds.Given.maybe_started:
        said = (f"{name} {med.get('intent')} stopped"
                + (f" (its dosage from {start.written})" if start is not None else ""))
        return (f"{said}: whether it was ever carried out is unknown",
                f"{said}, which may never have started",
                f"{said}: nothing shows it was carried out (no dose recorded before the "
                "stop, or a reason saying it may never have started), so whether "
                f"{name} was given is unknown")
    written = start.written if start is not None else "?"
    if (med.get("resourceType") == "MedicationAdministration" and start is not None
            and on is not None and start.earliest > on):
        return (f"{name} given on {written}, after {on}",
                f"{name} given on {written}, after {on}",
                f"{name} given (status '{med.get('status')}') on {written}, after {on}: "
                f"whether it had been given by {on} is unknown")
    return (f"{name} may not have started: its first day, {written}, may be after {on}",
            f"{name} from {written}, which may be before or after {on}",
            f"{name} starts in {written} (a partial date): whether it had started by "
            f"{on} is unknown")


def _stop_shown(med: Mapping[str, Any], shown: str) -> str:
    """A reason as a stop pecoma cannot judge is named on a warning: an order not to give
    the drug says so ("do-not-perform order: Contraindicated: interstitial lung
    disease")."""
    return f"{FORBIDDEN}{shown}" if meds.do_not_perform(med) else shown


def _no_not_kept(path: str, where: str, why: str, r: Reader) -> None:
    """A 'no' read for the contraindication ``path`` is not kept while ``where`` ``why``
    (gives a reason to check): it is set aside, and stays unknown (asked)."""
    systemic = r.data.get("systemic", {})
    key = path.removeprefix("systemic.")
    if systemic.get(key) != "no":
        return
    del systemic[key]
    del r.sources[path]
    r.set_aside[path] = f"a 'no', not kept while {where} {why}"
    r.notes.append(f"{path}: a 'no' is not kept while {where} {why}; it stays unknown")


def _do_not_perform(where: str, med: Mapping[str, Any], agent: Agent, r: Reader) -> str:
    """An order not to give the drug, in force (:func:`pecoma.fhir.medications.do_not_perform`):
    a recorded fact against the drug, never a plain 'not given'. Its reason (its
    ``reasonCode``, ``statusReason``, mCODE termination reason) is read by the one rule
    (:func:`_status_reason`): an intolerance rules the drug out as there. Any other
    reason, or none: whether the drug is contraindicated is asked, never taken as no
    (the safer reading): the contraindication of its class (an mTOR inhibitor, an
    anthracycline) is found but not read and a 'no' read for it not kept, and the order
    is a stop pecoma cannot judge, so a draft or an order of the drug gets a warning.
    Returns the order in words, as the record's reason for not reading it as a line."""
    reason = meds.status_reason(med, r.resolve)
    name = agent.value.replace("_", " ")
    unread = meds.reasons_not_read(med, r.resolve)
    none = ("a reason referenced that pecoma could not read (reasonReference "
            + ", ".join(show_value(x, 80) for x in unread) + ")" if unread
            else "no reason given")
    said = (f"a do-not-perform order (status '{med.get('status')}', "
            + (f"{reason.said_in} {show_value(reason.shown, 120)}" if reason is not None
               else none) + ")")
    if reason is not None and reason.kind is meds.StopReason.intolerance:
        return said  # read as an intolerance of the drug (_status_reason)
    if reason is None or reason.kind is meds.StopReason.other:
        r.unclear_stops.append(NotTolerated(
            where, agent, meds.drugs_of(med, r.resolve),
            _stop_shown(med, reason.shown if reason is not None else none)))
    paths = [path for path, held in (
        ("systemic.mtor_inhibitor_contraindicated", agent.is_mtor_inhibitor),
        ("systemic.anthracycline_contraindicated", agent.is_anthracycline_based)) if held]
    for path in paths:
        _no_not_kept(path, where, f"is {said} of {name}", r)
        r.unreadable.setdefault(path, f"{where}: {said} of {name}: whether {name} is "
                                "contraindicated is asked")
    r.notes.append(f"{where}: {said} of {name}: read as a recorded fact against {name}, "
                   "not as a line given; pecoma cannot tell from its reason that it is an "
                   "intolerance, so whether " + name + " is contraindicated "
                   + ("is asked (" + ", ".join(paths) + " found but not read)" if paths
                      else "is to be checked")
                   + "; if it is, record the intolerance or the contraindication")
    if reason is not None and reason.progression is not None:
        # the reason speaks of a line of it given and the disease progressing on it, but
        # no such line may be in the record: the lines given are not fully known
        r.unknown_starts.append(f"{where}: {said} speaks of the disease having progressed "
                                f"on {name}, but it is no line of {name}")
        r.notes.append(f"{where}: {said} speaks of the disease having progressed on "
                       f"{name}: if {name} was given, record its line and whether the "
                       "disease progressed on it; meanwhile the lines already given are "
                       "not fully known")
    return said


def _planned_how(med: Mapping[str, Any], start: meds.FirstDay | None, later: bool) -> str:
    """How a planned medication record says it is planned, in a few words."""
    intent = med.get("intent")
    if later and start is not None:
        return f"to start {start.written}"
    if med.get("resourceType") == "MedicationRequest" and isinstance(intent, str) and (
            intent not in ("order", "original-order", "reflex-order", "filler-order",
                           "instance-order")):
        return f"intent '{intent}'"
    return f"status '{med.get('status')}'"


def _own_line(where: str, med: Mapping[str, Any], agent: Agent, r: Reader) -> dict[str, Any]:
    """A line as the project's writer records it (its extensions say setting and result)."""
    t: dict[str, Any] = {"agent": agent.value}
    setting = enum_extension(med, c.EXT.THERAPY_SETTING, [s.value for s in TherapySetting],
                        where, r)
    if setting is not None:
        t["setting"] = setting
    line = extension(med, c.EXT.THERAPY_LINE)
    if line is not None:
        t["line"] = line.get("valuePositiveInt", line.get("valueInteger"))
    day = meds.started_on(med, r.on)
    if day is not None:
        t["started_on"] = day.isoformat()
    ended = _ended_on(med, r)
    if ended is not None:
        t["ended_on"] = ended.isoformat()
    response = enum_extension(med, c.EXT.BEST_RESPONSE, [x.value for x in Response], where, r)
    if response is not None:
        t["best_response"] = response
    progressed = enum_extension(med, c.EXT.PROGRESSED, ["yes", "no", "unknown"], where, r)
    if progressed is not None:
        t["progressed"] = progressed
    _progressed_by_reason(t, [(where, med)], r,
                          [] if progressed is None else [(where, progressed)])
    return t


def _ended_on(med: Mapping[str, Any], r: Reader) -> dt.date | None:
    """The day a line recorded as over ended: its ``effectivePeriod.end`` (a full day) on
    a record whose status says it is over (completed, stopped), not after the day the
    record is read for. An end on a record still active or of unknown status is a
    planned end, not read: a line is never taken as ended on it."""
    if med.get("status") not in ("completed", "stopped"):
        return None
    period = med.get("effectivePeriod")
    day = meds.day_of(period.get("end")) if isinstance(period, Mapping) else None
    if day is None or (r.on is not None and day > r.on):
        return None
    return day


def _line_ended_on(records: Sequence[Mapping[str, Any]], r: Reader) -> dt.date | None:
    """The day a line gathered from an EHR's records ended: when every record of it is a
    MedicationStatement over on a day (:func:`_ended_on`), the latest of those days. A
    line with any other record (an order, an administration, a dispense: each says a dose
    was asked for or given, not that the course stopped) or with a statement not over is
    given no end: whether it is still given is then not recorded, never taken as ended."""
    if not records or any(m.get("resourceType") != "MedicationStatement" for m in records):
        return None
    ends = [_ended_on(m, r) for m in records]
    if any(day is None for day in ends):
        return None
    return max(day for day in ends if day is not None)


def _progressed_by_reason(line: dict[str, Any], records: Sequence[tuple[str, Mapping[str, Any]]],
                          r: Reader, extensions: Sequence[tuple[str, str]] = ()) -> None:
    """A line's ``progressed`` from the ``statusReason`` of its records: one saying
    clearly that the disease progressed on the drug ("Disease progression",
    :attr:`pecoma.fhir.medications.Progression.clear`) reads ``progressed`` yes, quoted in
    a note. ``extensions``: what the project's extension ``progressed`` says on the
    line's records (``where``, value), read first (:func:`_progressed`); one saying yes
    agrees; one saying otherwise (no, unknown, or records saying different things) leaves
    the line unknown, as two extensions that disagree do: the note names each, the team
    records which holds (the engine asks meanwhile). A doubtful reason is a note only
    (:func:`_status_reason`)."""
    for where, med in records:
        reason = meds.status_reason(med, r.resolve)
        if reason is None or reason.progression is not meds.Progression.clear:
            continue
        name = str(line["agent"]).replace("_", " ")
        said = f"{where}: {reason.said_in} {show_value(reason.shown, 120)}"
        if line.get("progressed", "yes") != "yes":
            line["progressed"] = "unknown"
            given_ = ", ".join(f"{w}: {v}" for w, v in extensions) or "unknown"
            by = ("the extension progressed says otherwise (" + given_ + ")"
                  if len({v for _w, v in extensions}) <= 1 else
                  "the extension progressed says different things on its records ("
                  + given_ + ")")
            r.notes.append(f"{said} says the disease progressed on {name}, but {by}: "
                           "read as unknown; record which holds")
            return
        if "progressed" not in line:
            line["progressed"] = "yes"
            r.notes.append(f"{said}: read as the disease having progressed on {name} "
                           "(progressed yes); if it did not, correct the case")
        return


#: Orders of two agents started this close are read as one combination regimen.
_SAME_REGIMEN_DAYS = 7
_PAIRS = {
    frozenset({Agent.doxorubicin, Agent.ifosfamide}): Agent.doxorubicin_ifosfamide,
    frozenset({Agent.epirubicin, Agent.ifosfamide}): Agent.epirubicin_ifosfamide,
}


def _lines(records: list[tuple[str, dict[str, Any], Agent]], r: Reader,
           undated: set[str]) -> list[tuple[dict[str, Any], list[str]]]:
    """One line per agent from an EHR's orders, administrations and statements (many
    records of one drug are one line, from the first day), with doxorubicin or epirubicin
    and ifosfamide started within a week (or gemcitabine and docetaxel) read as the
    combination. ``undated``: records whose start is not read (begun before the
    diagnosis)."""
    groups: dict[Agent, list[tuple[str, dt.date | None]]] = {}
    drugs: dict[Agent, frozenset[str]] = {}
    for where, med, agent in records:
        groups.setdefault(agent, []).append(
            (where, None if where in undated else meds.started_on(med, r.on)))
        # the drugs named as everywhere else (by name, or by an RxNorm code pecoma knows:
        # 72962 docetaxel with no display)
        drugs[agent] = drugs.get(agent, frozenset()) | meds.drugs_of(med, r.resolve)
    starts = {a: min((d for _w, d in v if d is not None), default=None)
              for a, v in groups.items()}
    # Gemcitabine and docetaxel are each 'other chemotherapy' alone; together a regimen.
    if {"gemcitabine", "docetaxel"} <= drugs.get(Agent.other_chemotherapy, frozenset()):
        groups[Agent.gemcitabine_docetaxel] = groups.pop(Agent.other_chemotherapy)
        starts[Agent.gemcitabine_docetaxel] = starts.pop(Agent.other_chemotherapy)
        r.notes.append("gemcitabine and docetaxel read as the gemcitabine-docetaxel regimen")
    for pair, combined in _PAIRS.items():
        a, b = sorted(pair)
        if a in groups and b in groups:
            da, db = starts[a], starts[b]
            if da is not None and db is not None and abs((da - db).days) <= _SAME_REGIMEN_DAYS:
                groups[combined] = groups.pop(a) + groups.pop(b)
                starts[combined] = min(da, db)
                starts.pop(a)
                starts.pop(b)
                r.notes.append(f"{a.value} and {b.value} started within "
                               f"{_SAME_REGIMEN_DAYS} days read as {combined.value}")
    out = []
    record_at = {where: med for where, med, _agent in records}
    for agent, recs in groups.items():
        line: dict[str, Any] = {"agent": agent.value}
        if starts[agent] is not None:
            line["started_on"] = starts[agent].isoformat()  # type: ignore[union-attr]
        if len(recs) > 1:
            r.notes.append(f"{agent.value}: {len(recs)} records read as one line")
        line_records = [(w, record_at[w]) for w, _d in recs]
        ended = _line_ended_on([med for _w, med in line_records], r)
        if ended is not None:
            line["ended_on"] = ended.isoformat()
        # the project's extensions first: a statusReason saying otherwise is then noted
        extensions = _progressed(line, line_records, r)
        _progressed_by_reason(line, line_records, r, extensions)
        out.append((line, [w for w, _d in recs]))
    out.sort(key=lambda lw: str(lw[0].get("started_on") or "9999"))
    return out


def _progressed(line: dict[str, Any], recs: Sequence[tuple[str, Mapping[str, Any]]],
                r: Reader) -> list[tuple[str, str]]:
    """What the project's extensions ``progressed`` and ``best-response`` on the records
    of a line an EHR recorded (no ``therapy-setting``) say: read as on a line the project
    wrote, never dropped. The records of one line saying different things leave it
    unknown, with a note naming each (the team says which holds). ``therapy-line`` is not
    read on such a line (its records are one line placed by its first day), with a
    note."""
    for key, url, allowed in (
            ("progressed", c.EXT.PROGRESSED, ["yes", "no", "unknown"]),
            ("best_response", c.EXT.BEST_RESPONSE, [x.value for x in Response])):
        said = [(where, v) for where, med in recs
                if (v := enum_extension(med, url, allowed, where, r)) is not None]
        if key == "progressed":
            progressed = said
        values = {v for _w, v in said}
        if len(values) == 1:
            line[key] = values.pop()
        elif values:
            line[key] = "unknown"
            r.notes.append(f"{line['agent']}: its records say different things of "
                           f"{url.rsplit('/', 1)[-1]} ("
                           + ", ".join(f"{w}: {v}" for w, v in said)
                           + "): read as unknown; record which holds")
    numbered = [where for where, med in recs if extension(med, c.EXT.THERAPY_LINE) is not None]
    if numbered:
        r.notes.append(f"{', '.join(numbered)}: the extension therapy-line is not read on a "
                       "line recorded without therapy-setting (its records are read as one "
                       f"line of {line['agent']}, placed by its first day)")
    return progressed


# ------------------------------------------------------------------------- allergies


def _class_ruled_out(listed: AllergyList, lines: Any) -> bool:
    """Whether the mTOR inhibitors the list names rule out every one, by the case format's
    one rule (:func:`pecoma.case.mtor_class_ruled_out`: the team's judgement on each
    entry, and the lines read); ``True`` when the lines read do not make lines of the
    case format (the safer reading; the case's checks then say why)."""
    try:
        therapies = [TherapyLine.model_validate(t) for t in lines]
    except (ValidationError, TypeError, ValueError):
        return True
    return mtor_class_ruled_out(listed.intolerances, therapies)


def _given_despite(named: list[tuple[str, Agent | str]], listed: AllergyList,
                   r: Reader) -> None:
    """A note for each mTOR inhibitor the record shows given although an intolerance
    rules every mTOR inhibitor out (the class, or one drug with no other shown tolerated,
    I15) and does not name it: a question for the team, the contraindication being kept
    (the safer reading); or, another one shown tolerated, the note that only the drug
    not tolerated is ruled out."""
    mtor = {a.value for a in Agent if a.is_mtor_inhibitor}
    names = {getattr(agent, "value", agent) for _w, agent in named}
    lines = r.data.get("systemic", {}).get("therapies", [])
    given = sorted({str(t.get("agent")) for t in lines if t.get("agent") in mtor} - names)
    if not given:
        return
    wheres = ", ".join(w for w, _a in named)
    if "class" in names:
        r.notes.append(f"{', '.join(given)} given although an intolerance of mTOR "
                       f"inhibitors is recorded ({wheres}): check the record")
        return
    # sirolimus and nab-sirolimus are one drug: either named rules out both (I15)
    twins = sorted({a.value for a in mtor_ruled_out(
        a for _w, a in named if isinstance(a, Agent))} - names)
    one = (f" (and {', '.join(t.replace('_', '-') for t in twins)}, the same drug: "
           "nab-sirolimus is sirolimus bound to albumin)" if twins else "")
    if not _class_ruled_out(listed, lines):
        # each recorded as of that drug alone, or another one shown tolerated
        tolerated = _tolerated_line(named, lines)
        shown = (f"the latest mTOR-inhibitor line, of {tolerated}, shows another one "
                 "tolerated (I15)" if tolerated is not None else
                 "the entries record the intolerance as of that drug alone "
                 "(intolerance-class-wide 'no', I15)")
        r.notes.append(f"{', '.join(sorted(names))} intolerance ({wheres}) rules out "
                       f"{', '.join(sorted(names))} only{one}: {shown}")
        return
    again = [g for g in given if g in twins]
    same = (f", {', '.join(again)} being the same drug as {', '.join(sorted(names))}"
            if again else "")
    r.notes.append(f"{', '.join(given)} given although {', '.join(sorted(names))} "
                   f"intolerance ({wheres}) is read as a contraindication of every mTOR "
                   f"inhibitor (recorded as of the class, or no later line shows another "
                   f"one tolerated{same} and the entry does not record it as of that drug "
                   f"alone: the safer reading, I15): check whether it holds for "
                   f"{', '.join(given)}")


def _tolerated_line(named: list[tuple[str, Agent | str]], lines: Any) -> str | None:
    """The agent of the line that shows another mTOR inhibitor tolerated beside the ones
    ``named`` as not tolerated, by the case format's one rule
    (:func:`pecoma.case.model.mtor_tolerated_line`); ``None`` when none does, or the
    lines read do not make lines of the case format (then the case's checks say why)."""
    try:
        therapies = [TherapyLine.model_validate(t) for t in lines]
    except (ValidationError, TypeError, ValueError):
        return None
    agents = [a for _w, a in named if isinstance(a, Agent)]
    found = mtor_tolerated_line(agents, therapies)
    return None if found is None else therapies[found].agent.value


def _intolerances(listed: AllergyList, r: Reader) -> dict[str, int]:
    """The drugs an allergy list names (``systemic.intolerances``, I15): an agent of the
    case format (an mTOR inhibitor included: whether it rules out every one is the case's
    rule, the medication history read beside it), or a single drug named inside another
    entry's words that no listed agent holds already; and a row ``other`` for each drug
    allergy entry whose substance cannot be read (:func:`_not_identified` says each).
    The rows stand in the order of the entries (a case written by the project's writer
    reads back row for row). Returns the index of each entry's row ``other``."""
    found: dict[Agent, str] = {}
    order: list[tuple[Agent | None, str]] = []  # (agent, where), or (None, where): 'other'
    for where, reading in listed.entries:
        if reading.left_aside is not None:
            continue
        named = sorted(reading.agents)
        covered = {d for a in named for d in a.drugs}
        named += [Agent(x) for x in sorted(reading.ingredients)
                  if x in _SINGLE_DRUGS and Agent(x) not in covered]
        for agent in named:
            if agent not in found:
                found[agent] = where
                order.append((agent, where))
        if reading.unidentified:
            order.append((None, where))
        _judgement_notes(where, reading, named, r)
    if not order:
        return {}
    rows: list[dict[str, Any]] = []
    others: dict[str, int] = {}
    for named_agent, where in order:
        if named_agent is None:
            others[where] = len(rows)
            rows.append({"agent": Agent.other.value})
            continue
        judged = listed.class_wide(named_agent)
        rows.append({"agent": named_agent.value} if judged is YesNo.unknown
                    else {"agent": named_agent.value, "class_wide": judged.value})
        if judged is YesNo.yes and any(j is YesNo.no
                                       for _w, j in listed.judgements(named_agent)):
            # entries judging it both ways: both judgements kept, so that the case reads
            # them as no judgement (the safer one meanwhile, the question asked, I15)
            rows.append({"agent": named_agent.value, "class_wide": YesNo.no.value})
    r.put("systemic.intolerances", rows, order[0][1])
    for agent, where in found.items():
        r.used.add(where)
        r.why.pop(where, None)
        if not agent.is_mtor_inhibitor:
            r.notes.append(f"{where}: intolerance of {agent.value.replace('_', ' ')} read; "
                           "every regimen holding it is ruled out (I15)"
                           + "".join(f"; {w}" for w in [_judgement_words(
                               _own_judgement(listed, where, agent), agent)] if w))
            _judgements_differ(listed, agent, r)
    _twins_differ(listed, r)
    return others


def _own_judgement(listed: AllergyList, where: str, agent: Agent) -> YesNo:
    """What the entry at ``where`` itself records of whether its intolerance of ``agent``
    is of the class (its own extension; the list's reading may differ)."""
    return next((judged for w, judged in listed.judgements(agent) if w == where),
                YesNo.unknown)


def _judgements_differ(listed: AllergyList, agent: Agent, r: Reader) -> None:
    """One note when the entries naming ``agent`` record different judgements whether
    its intolerance is of the class: each entry's own, and the list's reading
    (:meth:`pecoma.fhir.allergies.AllergyList.class_wide`: the safer one)."""
    said = listed.judgements(agent)
    if len({judged for _w, judged in said}) < 2:
        return
    judged = listed.class_wide(agent)
    each = ", ".join(f"{w} {judged_there.value!r}" if judged_there is not YesNo.unknown
                     else f"{w} not recorded" for w, judged_there in said)
    klass = "mTOR inhibitors" if agent.is_mtor_inhibitor else "anthracyclines"
    opposite = YesNo.no in {j for _w, j in said}
    then = (f"read as of the class meanwhile, every one of the {klass} ruled out, the "
            "judgements contradicting each other: the report asks the team to record one "
            "(I15)" if judged is YesNo.yes and opposite
            else f"read as of the class, every one of the {klass} ruled out (I15)"
            if judged is YesNo.yes else "whether it is of the class is unknown, and asked")
    r.notes.append(f"{agent.value.replace('_', ' ')}: the entries record different "
                   f"judgements whether the intolerance is of the class "
                   f"(intolerance-class-wide: {each}); the safer reading is taken: {then}")


def _drug_words(agent: Agent) -> str:
    """'nab-sirolimus', 'doxorubicin ifosfamide': an agent in a note."""
    return agent.value.replace("_", "-" if agent.is_mtor_inhibitor else " ")


def _twins_differ(listed: AllergyList, r: Reader) -> None:
    """One note for each pair of agents that are, or hold, the same drug of a class
    (sirolimus and nab-sirolimus; doxorubicin and a regimen holding it) and that the
    entries judge oppositely, one of the class, the other of that drug alone
    (:func:`pecoma.case.opposed_judgements`; entries of one agent are noted by
    :func:`_judgements_differ`): the safer reading, of the class, is taken meanwhile and
    the report asks the team to record one judgement (I15)."""
    read = listed.intolerances
    for i, j in opposed_judgements(read):
        yes, no = read[i].agent, read[j].agent
        if yes is no:
            continue
        klass = "mTOR inhibitors" if yes.is_mtor_inhibitor else "anthracyclines"
        where_yes = ", ".join(w for w, judged in listed.judgements(yes) if judged is YesNo.yes)
        where_no = ", ".join(w for w, judged in listed.judgements(no) if judged is YesNo.no)
        r.notes.append(
            f"{_drug_words(yes)} ({where_yes}, intolerance-class-wide 'yes') and "
            f"{_drug_words(no)} ({where_no}, intolerance-class-wide 'no') are the "
            "same drug judged both ways, of the class and of that drug alone: the "
            "judgements contradict each other; the safer reading is taken, as of the "
            f"class meanwhile, every one of the {klass} ruled out, and the report asks the "
            "team to record one judgement (I15)")


def _judgement_words(judged: YesNo, agent: Agent) -> str:
    """How the team's judgement whether an intolerance is of the class is said in a note
    ('' when it is not recorded: the agent has no class, or the entries do not say)."""
    klass = "mTOR inhibitors" if agent.is_mtor_inhibitor else "anthracyclines"
    if judged is YesNo.yes:
        return (f"recorded as of the class (intolerance-class-wide 'yes'): every one of the "
                f"{klass} is ruled out (I15)")
    if judged is YesNo.no:
        return (f"recorded as of that drug alone (intolerance-class-wide 'no'): the other "
                f"{klass} are not ruled out by it (I15)")
    return ""


def _judgement_notes(where: str, reading: AllergyReading, named: list[Agent],
                     r: Reader) -> None:
    """The notes for a judgement an entry records (extension intolerance-class-wide) that
    is not read: a code not understood, or a judgement on an entry naming no mTOR
    inhibitor or anthracycline, or naming the mTOR-inhibitor class itself."""
    if reading.class_wide_note is not None:
        r.notes.append(f"{where}: {reading.class_wide_note}")
    if reading.class_wide is YesNo.unknown:
        return
    if reading.mtor_named == "class":
        r.notes.append(f"{where}: names the mTOR-inhibitor class, so its extension "
                       "intolerance-class-wide says nothing more: every mTOR inhibitor is "
                       "ruled out")
    elif not any(a.is_mtor_inhibitor or a.is_anthracycline_based for a in named):
        r.notes.append(f"{where}: its extension intolerance-class-wide is not read: whether "
                       "an intolerance is of the class is recorded only for an mTOR "
                       "inhibitor or an anthracycline")


#: The case format's agents that are one drug (an allergy naming one inside a regimen).
_SINGLE_DRUGS: Final = frozenset(
    a.value for a in Agent
    if a.drugs == {a} and not a.is_mtor_inhibitor and a not in CATCH_ALL)


def read_allergies(allergies: list[tuple[str, dict[str, Any]]], r: Reader,
                   records: list[tuple[str, dict[str, Any]]] | None = None) -> str | None:
    """The mTOR-inhibitor contraindication an allergy list gives, each entry read by
    :func:`pecoma.fhir.allergies.read_allergy` (the reading the CDS services use), and
    each Condition among ``allergies`` naming an allergy or adverse reaction to a drug
    by :func:`pecoma.fhir.allergies.condition_intolerance`, and each AdverseEvent by
    :func:`pecoma.fhir.allergies.adverse_event_intolerance`.
    ``records``: the medication records, whose drugs and first days (and the orders
    running on the day read for) tell an AdverseEvent's drug given again after it.
    Returns why the list is not read in full because of entries that cannot be
    (:attr:`pecoma.fhir.allergies.AllergyList.not_read_reason`), or ``None``."""
    started = [*((_agent(med, r), meds.started_on(med, r.on)) for _w, med in records or []),
               *((x.agent, r.on) for x in r.running)]
    listed = read_allergy_list(allergies, r.entry_modifiers, r.not_tolerated, r.resolve,
                               lines_given((), started))
    for where, why in listed.not_read:
        r.why[where] = f"not read in full: {why}"
        r.notes.append(f"{where}: not read: {why}; the allergy list is not read in full")
    for where, doubt in listed.doubts:
        r.notes.append(f"{where}: {doubt}")
    _read_listed(listed, r)
    for where, reading in listed.entries:
        if where in r.used and not (reading.problem_list or reading.adverse_event):
            r.allergy_read[where] = _read_as(reading)
    return listed.not_read_reason


def _read_as(reading: AllergyReading) -> str:
    """What an allergy entry read gives, in words ("an intolerance of sirolimus and of
    'other'"): the drugs it names, the mTOR-inhibitor class, 'other' when it is not
    identified in full."""
    agents = reading.agents - CATCH_ALL
    held = {d.value for a in agents for d in a.drugs}
    named = sorted({*(a.value.replace("_", " ") for a in agents),
                    *(reading.ingredients | reading.drugs) - held})
    named += ["the mTOR-inhibitor class"] if reading.mtor_class else []
    named += ["'other'"] if reading.unidentified else []
    return "an intolerance of " + " and of ".join(named or ["'other'"])


def _read_listed(listed: AllergyList, r: Reader) -> None:
    """What the entries read say of the mTOR inhibitors (:func:`read_allergies`)."""
    for where, reading in listed.entries:
        if reading.not_read is not None:
            continue
        if reading.problem_list:
            named = sorted({*(a.value.replace("_", " ") for a in reading.agents),
                            *reading.ingredients, *reading.drugs,
                            *(("the mTOR-inhibitor class",) if reading.mtor_class else ())})
            r.notes.append(f"{where}: a problem-list entry naming an allergy or adverse "
                           "reaction to a drug, read as an allergy entry would be ("
                           + (f"an intolerance of {', '.join(named)}" if named else
                              "a drug not identified") + "): check the allergy list")
        elif reading.asked is not None:
            r.notes.append(f"{where}: an adverse event that happened, {reading.asked}: not "
                           "read as an intolerance of "
                           f"{', '.join(reading.not_identified)}, nor ruled out; ask whether "
                           "it is one (an intolerance of 'other' meanwhile: the advice "
                           "proposing it waits on the answer)")
        elif reading.adverse_event and not reading.left_aside:
            named = sorted({*(a.value.replace("_", " ") for a in reading.agents),
                            *reading.ingredients, *reading.drugs,
                            *(("the mTOR-inhibitor class",) if reading.mtor_class else ())})
            r.notes.append(f"{where}: an adverse event that happened, its suspected cause "
                           "read as an allergy entry would be ("
                           + (f"an intolerance of {', '.join(named)}" if named else
                              "a drug not identified") + "): check the allergy list")
        classes = list(dict.fromkeys(k for k, _m in reading.classes))
        if classes:
            r.notes.append(f"{where}: names a class of drugs ({', '.join(classes)}): each "
                           "drug pecoma knows in it is read as not tolerated")
        for group, drug in reading.unsure:
            r.notes.append(f"{where}: some allergy lists count {drug} among the {group}, "
                           f"which do not hold it by their ATC class: whether the entry "
                           f"means {drug} is not known, ask before ordering it")
        if reading.left_aside is not None:
            r.why[where] = reading.left_aside
        elif reading.other is not None and not (reading.rules_out_mtor
                                                or reading.unidentified):
            r.why[where] = f"to {reading.other}, no mTOR inhibitor"
    others = _intolerances(listed, r)
    named = list(listed.mtor)
    if named:
        # An allergy or intolerance to the mTOR-inhibitor class is a contraindication of
        # every one. One to an mTOR inhibitor is a row of systemic.intolerances: it rules
        # out every one unless the latest mTOR-inhibitor line shows another tolerated (the
        # case format's rule, I15). Either outweighs an observation that says otherwise
        # (the safer reading): an observation in the record is not known to be the team's
        # judgement, made with the intolerance in view, that it is of that drug alone, so
        # the case asks it (MISS-MTOR-INTOLERANCE).
        klass = [where for where, agent in named if agent == "class"]
        lines = r.data.get("systemic", {}).get("therapies", [])
        if klass:
            r.put("systemic.mtor_inhibitor_contraindicated", "yes", klass[0])
        elif _class_ruled_out(listed, lines) \
                and r.data.get("systemic", {}).get("mtor_inhibitor_contraindicated") == "no":
            del r.data["systemic"]["mtor_inhibitor_contraindicated"]
            del r.sources["systemic.mtor_inhibitor_contraindicated"]
            r.set_aside["systemic.mtor_inhibitor_contraindicated"] = (
                "a 'no', set aside beside "
                + ("allergies naming every mTOR inhibitor (I15)"
                   if mtor_each_ruled_out(listed.intolerances) else
                   "an mTOR-inhibitor intolerance that rules every one out (I15), the "
                   "allergy entry not recording it as of that drug alone"))
            r.notes.append("systemic.mtor_inhibitor_contraindicated: a 'no' is set aside "
                           + ("beside allergies naming every mTOR inhibitor (I15): none is "
                              "left to give, whatever each entry records of the class"
                              if mtor_each_ruled_out(listed.intolerances) else
                              "beside an mTOR-inhibitor intolerance that rules every one out "
                              "(I15): no line of another mTOR inhibitor read shows the class "
                              "tolerated, and the allergy entry does not record the "
                              "intolerance as of that drug alone (its extension "
                              "intolerance-class-wide 'no'); an observation is not known to "
                              "be that judgement; the report asks it"))
        for where, agent in named:
            r.used.add(where)
            if agent == "class":
                r.notes.append(f"{where}: intolerance of mTOR inhibitors read as an "
                               "mTOR-inhibitor contraindication")
            else:
                judged = (_judgement_words(_own_judgement(listed, where, agent), agent)
                          if isinstance(agent, Agent) else "")
                r.notes.append(f"{where}: intolerance of {getattr(agent, 'value', agent)} "
                               "read; " + (judged or "it rules out every mTOR inhibitor "
                                           "unless another one is shown tolerated (I15); "
                                           "whether it is of the class is not recorded (no "
                                           "extension intolerance-class-wide)"))
        for agent in dict.fromkeys(a for _w, a in named if isinstance(a, Agent)):
            _judgements_differ(listed, agent, r)
        _given_despite(named, listed, r)
    _not_identified(listed, others, r)


def _not_identified(listed: AllergyList, others: dict[str, int], r: Reader) -> None:
    """Each drug allergy entry whose substance cannot be read
    (:attr:`pecoma.fhir.allergies.AllergyList.unidentified`) may be to an mTOR inhibitor
    or an anthracycline: it has its row ``{"agent": "other"}`` of
    ``systemic.intolerances`` (``others``: its index; a drug the case format names no
    agent for: the case's rule names it and makes the advice proposing either
    provisional on which drug it is, I15), and a note naming the entry and its row; and,
    by the same entries, a 'no' to the mTOR-inhibitor contraindication is not kept (it
    stays unknown, and is asked): the record does not show it was judged with that
    allergy in view. The case format's own rows 'other'
    (:attr:`pecoma.fhir.allergies.AllergyReading.recorded_other`: its writer's entries,
    recorded with the case, whose 'no' the case format keeps beside them) do not drop it:
    the same facts read the same by either way in."""
    unreadable = [(w, reading) for w, reading in listed.entries if reading.unidentified]
    if not unreadable:
        return
    for where, reading in unreadable:
        r.used.add(where)
        r.why.pop(where, None)
        if reading.asked is not None:
            r.notes.append(f"{where}: read as an intolerance of 'other' (systemic."
                           f"intolerances[{others[where]}]) until asked; an mTOR-inhibitor "
                           "contraindication cannot be ruled out meanwhile (I15)")
            continue
        said = (f" ({', '.join(reading.not_identified)})" if reading.not_identified else "")
        r.notes.append(f"{where}: an allergy or intolerance that may be to a drug, of a "
                       f"substance pecoma cannot identify{said}: read as an intolerance of "
                       "'other' (systemic.intolerances"
                       f"[{others[where]}]), a drug the case format names no agent for; it may "
                       "be an mTOR inhibitor or an anthracycline: the advice proposing either "
                       "waits on which drug it is, and an mTOR-inhibitor contraindication "
                       "cannot be ruled out (I15)")
    if r.data.get("systemic", {}).get("mtor_inhibitor_contraindicated") == "no" and any(
            not reading.recorded_other for _w, reading in unreadable):
        del r.data["systemic"]["mtor_inhibitor_contraindicated"]
        del r.sources["systemic.mtor_inhibitor_contraindicated"]
        entries = ", ".join(w for w, reading in unreadable if not reading.recorded_other)
        r.set_aside["systemic.mtor_inhibitor_contraindicated"] = (
            f"a 'no', not kept beside an allergy or intolerance whose drug pecoma cannot "
            f"identify ({entries}): it may be an mTOR inhibitor (I15)")
        r.notes.append("systemic.mtor_inhibitor_contraindicated: a 'no' is not kept while an "
                       "allergy cannot be read; it stays unknown")
