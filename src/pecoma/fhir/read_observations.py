"""The FHIR reader's Observations: the project's coded observations (one handler per code),
mCODE tumour size, tumour markers, disease status, history of metastatic cancer, and
genomic variants with their implications.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from pecoma.case import ClearedBy, DiseaseStatus, Margin, NodeStatus, PrimarySite, RemissionBy
from pecoma.case.coherence import STAGING_BEFORE_DIAGNOSIS_MONTHS
from pecoma.dates import add_months, range_rule
from pecoma.errors import show_value
from pecoma.fhir import codes as c
from pecoma.fhir import genomics
from pecoma.fhir import mcode as m
from pecoma.fhir.medications import RepeatedLocalId, contained
from pecoma.fhir.read_conditions import (
    NO_DISTANT_SPREAD,
    SPECIMEN_REPORT_DAYS,
    about_conditions,
    of_the_pecoma,
    same_tumour,
)
from pecoma.fhir.reading import (
    NOT_A_PART,
    OF_ONE_TIME,
    Order,
    Reader,
    as_list,
    codings,
    condition_side,
    condition_sites,
    day_of,
    effective_time,
    enum_extension,
    extension,
    has_code,
    instant,
    known_later,
    live_condition,
    project_code,
    reference_of,
    refuse_backwards,
    site_of,
    stated_side,
    time_order,
)
from pecoma.fhir.references import parse_reference
from pecoma.numbers import number_text, parse_number

__all__ = [
    "NO_RESULT",
    "known_later",
    "live_observations",
    "observation_kind",
    "read_at_presentation",
    "read_history_conditions",
    "read_observations",
]

_IGNORED_OBS_STATUS = frozenset({"entered-in-error", "cancelled"})

#: The statuses of an Observation, or of a DiagnosticReport, that give no result (their
#: value sets share them): withdrawn, or ordered with nothing available yet; what a listing
#: of the resources not read says of each. A container so recorded gives none of the
#: results it holds contained either (pecoma.fhir.reader).
NO_RESULT: Final = {"entered-in-error": "entered in error", "cancelled": "cancelled",
                    "registered": "no result yet (status 'registered')"}


_YES = frozenset({(c.PECOMA_SYSTEM, "yes"), (c.SNOMED, "373066001"),
                  ("http://terminology.hl7.org/CodeSystem/v2-0136", "Y")})
_NO = frozenset({(c.PECOMA_SYSTEM, "no"), (c.SNOMED, "373067005"),
                 ("http://terminology.hl7.org/CodeSystem/v2-0136", "N")})
#: LOINC answers LA6576-8 Positive, LA11882-0 Detected (and their opposites LA6577-6
#: Negative, LA11883-8 Not detected); HL7 v3 ObservationInterpretation POS, DET (NEG, ND).
_INTERPRETATION: Final = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
_POS = frozenset({(c.PECOMA_SYSTEM, "positive"), (c.SNOMED, c.SNOMED_POSITIVE),
                  (c.PECOMA_SYSTEM, "present"), (c.SNOMED, c.SNOMED_PRESENT),
                  (c.LOINC, "LA6576-8"), (c.LOINC, "LA11882-0"),
                  (_INTERPRETATION, "POS"), (_INTERPRETATION, "DET")})
_NEG = frozenset({(c.PECOMA_SYSTEM, "negative"), (c.SNOMED, c.SNOMED_NEGATIVE),
                  (c.PECOMA_SYSTEM, "absent"), (c.SNOMED, c.SNOMED_ABSENT),
                  (c.LOINC, "LA6577-6"), (c.LOINC, "LA11883-8"),
                  (_INTERPRETATION, "NEG"), (_INTERPRETATION, "ND")})


def _absent_reason(obs: Mapping[str, Any]) -> str | None:
    dar = obs.get("dataAbsentReason")
    for system, code in codings(dar):
        if system == c.DATA_ABSENT:
            return code
    return "unknown" if dar is not None else None


#: Whole result texts read as a yes or a no when a result has no code (valueString, or a
#: CodeableConcept with text only): one word, nothing else, so that "not present" or
#: "present focally?" is never read as a plain answer.
_TEXT_YES: Final = frozenset({"yes", "present", "positive", "true"})
_TEXT_NO: Final = frozenset({"no", "absent", "negative", "false"})


#: Words of a result's text, display or interpretation that say yes, that say no, and
#: that say the result is not plain; and the words that turn a yes word around shortly
#: after them ("not present", "no necrosis seen").
_YES_WORDS: Final = frozenset({"positive", "present", "detected", "identified", "seen",
                               "yes", "true", "reactive"})
_NO_WORDS: Final = frozenset({"negative", "absent", "none", "nil", "false", "nonreactive"})
_UNPLAIN_WORDS: Final = frozenset({"equivocal", "indeterminate", "inconclusive", "uncertain",
                                   "unclear", "possible", "possibly", "suspicious",
                                   "suspected", "questionable", "borderline", "cannot"})
_TURNING_WORDS: Final = frozenset({"no", "not", "non", "none", "without", "never", "neither", "nor",
                                   "absence", "lack", "lacks", "lacking"})


def _words_say(text: str) -> set[bool | None]:
    """What a result's words plainly say: ``True`` for a yes word (present, positive,
    detected...) that no turning word among the three before turns around, ``False`` for
    a no word (absent, negative, none), a yes word turned around ("not present", "no
    necrosis seen") or words that begin or end by denying ("No necrosis", "Necrosis: no"),
    ``None`` for a word saying the result is not plain (equivocal, suspicious). Empty when
    the words say none of these ("Necrosis", "See report")."""
    words = re.findall(r"[a-z]+", text.lower())
    said: set[bool | None] = set()
    for i, word in enumerate(words):
        if word in _YES_WORDS:
            said.add(not _TURNING_WORDS.intersection(words[max(0, i - 3):i]))
        elif word in _NO_WORDS:
            said.add(False)
        elif word in _UNPLAIN_WORDS:
            said.add(None)
    if words and (words[0] in _TURNING_WORDS or words[-1] == "no"):
        said.add(False)
    return said


def _disagreement(obs: Mapping[str, Any], value: bool, answers: tuple[str, str]
                  ) -> str | None:
    """What of a result says other than ``value``, the answer read from its code, its
    boolean or its text, or ``None``: the value's text or a coding's display (a code
    2667000 'Absent' with the text "Present": the text is what the pathologist wrote), a
    valueString, or an interpretation, by its code (Negative beside POS) or its words.
    ``answers``: the words of the two answers ('present', 'absent'). Words that restate
    the answer ("Absent", "not present") are no disagreement."""
    concept = obs.get("valueCodeableConcept")
    parts: list[tuple[str, Any, set[bool | None]]] = []
    if isinstance(concept, dict):
        if isinstance(concept.get("text"), str):
            parts.append(("its text", concept["text"], _words_say(concept["text"])))
        for coding in as_list(concept.get("coding")):
            if isinstance(coding, dict) and isinstance(coding.get("display"), str):
                parts.append(("a coding's display", coding["display"],
                              _words_say(coding["display"])))
    if isinstance(obs.get("valueString"), str):
        parts.append(("its valueString", obs["valueString"], _words_say(obs["valueString"])))
    for concept in as_list(obs.get("interpretation")):
        found = set(codings(concept))
        coded: set[bool | None] = set()
        if found & (_YES | _POS):
            coded.add(True)
        if found & (_NO | _NEG):
            coded.add(False)
        if coded:
            parts.append(("its interpretation",
                          ", ".join(code for _system, code in sorted(found)), coded))
        words = m.concept_text(concept)
        if words:
            parts.append(("its interpretation", words, _words_say(words)))
    mine = answers[0] if value else answers[1]
    for what, shown, said in parts:
        if said - {value}:
            return (f"the result reads {mine}, but {what} {show_value(shown)} says "
                    "otherwise")
    return None


def _binary(obs: Mapping[str, Any], where: str, r: Reader, kind: str) -> bool | None:
    """True / False from valueBoolean, a coded yes/no, positive/negative, present/absent,
    or a result text that is one of those words alone. A result that says something else,
    or whose code and words (its text, a display, its interpretation) disagree
    (:func:`_disagreement`), leaves the fact unknown, with a note (the rest of the record
    is still read)."""
    value = _binary_value(obs, where, r, kind)
    if value is None:
        return None
    yes, _or, no = kind.split(" ")
    why = _disagreement(obs, value, (yes, no))
    if why is not None:
        r.why[where] = f"{why}, so {kind} cannot be told"
        r.notes.append(f"{where}: {r.why[where]}: the fact is unknown")
        return None
    return value


def _binary_value(obs: Mapping[str, Any], where: str, r: Reader, kind: str) -> bool | None:
    """:func:`_binary` before its code is checked against its words."""
    if isinstance(obs.get("valueBoolean"), bool):
        return bool(obs["valueBoolean"])
    concept = obs.get("valueCodeableConcept")
    if concept is not None or isinstance(obs.get("valueString"), str):
        found = set(codings(concept))
        said_yes, said_no = bool(found & (_YES | _POS)), bool(found & (_NO | _NEG))
        if said_yes and said_no:
            # the codings of one concept are one meaning in several code systems (FHIR
            # CodeableConcept): codes of both answers say nothing readable, whatever order
            r.why[where] = (f"the result is coded both ways ({show_value(sorted(found))}), "
                            f"so {kind} cannot be told")
            r.notes.append(f"{where}: {r.why[where]}: the fact is unknown")
            return None
        if said_yes:
            return True
        if said_no:
            return False
        text = (m.lower_words(concept) if concept is not None
                else str(obs["valueString"]).lower()).strip().rstrip(".")
        if not found and text in _TEXT_YES:
            return True
        if not found and text in _TEXT_NO:
            return False
        shown = show_value(sorted(found) if found else text or concept)
        r.why[where] = f"the result {shown} does not code or say {kind}"
        r.notes.append(f"{where}: {r.why[where]}: the fact is unknown")
        return None
    if not any(k.startswith("value") for k in obs):
        # a result given only as its interpretation (POS, NEG), read as a stain's is
        found = {x for concept in as_list(obs.get("interpretation")) for x in codings(concept)}
        said_yes, said_no = bool(found & (_YES | _POS)), bool(found & (_NO | _NEG))
        if said_yes != said_no:
            return said_yes
    given = _value_given(obs)
    if given is not None:
        # another value type (valueInteger 1, valueQuantity 30 %), an interpretation that
        # says neither answer: that fact unknown, the rest of the record read
        r.why[where] = f"the result is given as {given}, which does not say {kind}"
        r.notes.append(f"{where}: {r.why[where]}: the fact is unknown")
    elif _absent_reason(obs) is None:
        _no_value(r, where)
    return None


def _value_given(obs: Mapping[str, Any]) -> str | None:
    """The value a result gives, as the record writes it ("valueInteger 1", "valueString
    '9.5 cm'", an interpretation alone), for a note or an error; ``None`` when it gives
    none."""
    for key in sorted(obs):
        if key.startswith("value"):
            return f"{key} {show_value(obs[key], 80)}"
    said = [m.concept_text(x).replace("\n", "; ") or ", ".join(code for _s, code in codings(x))
            for x in as_list(obs.get("interpretation"))]
    said = [x for x in said if x]
    return f"interpretation {show_value('; '.join(said), 80)}" if said else None


#: Why a result that gives no value at all is not read (FHIR R4 Observation.value[x] is
#: 0..1; US Core asks for a value or a dataAbsentReason, a rule an EHR may break).
_NO_VALUE: Final = "the result gives no value (no value[x], no dataAbsentReason)"


def _gives_nothing(obs: Mapping[str, Any]) -> bool:
    """Whether a result gives no value, no interpretation and no dataAbsentReason."""
    return _value_given(obs) is None and _absent_reason(obs) is None


def _no_value(r: Reader, where: str) -> None:
    """A result that gives no value and no dataAbsentReason: the fact it would give is
    unknown, found but not read (its why here; listed by the caller or
    :func:`_read_result`), never a refusal of the record: the rest is read."""
    r.why[where] = _NO_VALUE
    r.notes.append(f"{where}: {_NO_VALUE}: the fact is unknown")


#: Units of a size and of an interval in the words a ``unit`` text may use, by UCUM code.
_SIZE_UNITS: Final = {"cm": "cm", "centimeter": "cm", "centimetre": "cm", "mm": "mm",
                      "millimeter": "mm", "millimetre": "mm", "[in_i]": "[in_i]",
                      "[in_us]": "[in_i]", "in": "[in_i]", "inch": "[in_i]",
                      "inche": "[in_i]", "m": "m", "meter": "m", "metre": "m"}
#: Lengths a size is converted from, to centimetres: the international inch (UCUM
#: ``[in_i]``, 2.54 cm; the US survey inch differs by two parts in a million) and the metre.
_TO_CM: Final = {"[in_i]": 2.54, "m": 100.0}
_TIME_UNITS: Final = {"mo": "mo", "month": "mo", "a": "a", "year": "a", "yr": "a"}


def _quantity(obs: Mapping[str, Any], where: str, r: Reader,
              units: Mapping[str, str] | None = None) -> tuple[float, str] | None:
    """The value and unit (the UCUM ``code``, else the ``unit`` text) of a quantity.
    ``units``: the units the fact may have, by the words naming them; a ``unit`` text and
    a ``code`` naming two different ones (8 "cm" coded "mm") leave the fact unknown, with
    a note: which one is meant cannot be told."""
    q = obs.get("valueQuantity")
    if isinstance(q, dict) and units is not None:
        said = [units.get(str(q.get(k)).strip().lower().rstrip("s."))
                for k in ("unit", "code") if isinstance(q.get(k), str)]
        if len(said) == 2 and None not in said and said[0] != said[1]:
            r.why[where] = (f"its unit text {show_value(q.get('unit'))} and its code "
                            f"{show_value(q.get('code'))} name different units: the fact "
                            "stays unknown")
            r.notes.append(f"{where}: {r.why[where]}")
            return None
    if isinstance(q, dict) and q.get("comparator") is not None:
        # '> 5 cm' is no size of 5 cm (nor a mitotic count '< 1' one of 1): not read
        shown = f"{q.get('comparator')} {q.get('value')} {q.get('code') or q.get('unit') or ''}"
        r.why[where] = (f"the value is given as {show_value(shown.strip())}, not an exact "
                        "value: the fact stays unknown")
        r.notes.append(f"{where}: {r.why[where]}")
        return None
    if isinstance(q, dict) and isinstance(q.get("value"), int | float):
        unit = q.get("code") or q.get("unit") or ""
        return float(q["value"]), str(unit)
    if isinstance(obs.get("valueInteger"), int):
        return float(obs["valueInteger"]), ""
    given = _value_given(obs)
    if given is not None:
        # another value type (valueString, valueRange), a quantity with no number: that
        # fact unknown, the rest of the record read
        r.why[where] = f"the result is given as {given}, not as a quantity pecoma reads"
        r.notes.append(f"{where}: {r.why[where]}: the fact is unknown")
    elif _absent_reason(obs) is None:
        _no_value(r, where)
    return None


# Observation handlers: project code -> function(reader, obs, where).
_Handler = Callable[[Reader, Mapping[str, Any], str], None]

#: The fact each Observation handler gives, to say which one a result whose value cannot
#: be read leaves unknown (:attr:`Reader.unreadable`).
_FACT_OF: dict[_Handler, str] = {}


def _gives(path: str, handler: _Handler) -> _Handler:
    _FACT_OF[handler] = path
    return handler


def _yes_no(path: str) -> _Handler:
    def handle(r: Reader, obs: Mapping[str, Any], where: str) -> None:
        value = _binary(obs, where, r, "yes or no")
        if value is not None:
            r.put(path, "yes" if value else "no", where)
    return _gives(path, handle)


def _feature(path: str) -> _Handler:
    def handle(r: Reader, obs: Mapping[str, Any], where: str) -> None:
        value = _binary(obs, where, r, "present or absent")
        if value is not None:
            r.put(path, "present" if value else "absent", where)
    return _gives(path, handle)


def _ihc(path: str) -> _Handler:
    def handle(r: Reader, obs: Mapping[str, Any], where: str) -> None:
        reason = _absent_reason(obs)
        if reason == "not-performed":
            r.put(path, "not_done", where)
            return
        value = _binary(obs, where, r, "positive or negative")
        if value is not None:
            r.put(path, "positive" if value else "negative", where)
    return _gives(path, handle)


def _nodes(r: Reader, obs: Mapping[str, Any], where: str) -> None:
    if _absent_reason(obs) == "not-performed":
        r.put("stage.lymph_nodes", NodeStatus.not_assessed.value, where)
        return
    value = _binary(obs, where, r, "positive or negative")
    if value is not None:
        r.put("stage.lymph_nodes", "positive" if value else "negative", where)


def _n_category(r: Reader, obs: Mapping[str, Any], where: str) -> None:
    """mCODE TNMRegionalNodesCategory: N1 to N3 are positive regional lymph nodes, N0
    negative, read as the nodal status is (the later result wins; results of one time
    that disagree leave it unknown). NX (the nodes cannot be assessed) is ``not_assessed``,
    as the project's own Observation's ``not-performed`` is, never negative, with a note; a
    value pecoma cannot read leaves the nodal status unknown, with a note."""
    if obs.get("valueCodeableConcept") is None:
        if _absent_reason(obs) == "not-performed":
            r.put("stage.lymph_nodes", NodeStatus.not_assessed.value, where)
        else:
            r.why[where] = "a TNM regional nodes category with no value"
        return
    concept = obs["valueCodeableConcept"]
    said = show_value(m.lower_words(concept) or ", ".join(
        code for _s, code in codings(concept) if code) or "(no value)", 60)
    value = m.n_category(concept)
    if value in ("positive", "negative"):
        r.put("stage.lymph_nodes", value, where)
        return
    if value == "NX":
        r.put("stage.lymph_nodes", NodeStatus.not_assessed.value, where)
        r.notes.append(f"{where}: the TNM regional nodes category {said} (NX: the regional "
                       "lymph nodes cannot be assessed) is read as nodes not assessed, never "
                       "as negative")
        return
    why = "a code or text pecoma cannot read, or codes and words that disagree"
    r.why[where] = f"a TNM regional nodes category {said} ({why})"
    r.notes.append(f"{where}: the TNM regional nodes category {said} is {why}: "
                   "stage.lymph_nodes is unknown (never taken as negative); establish the "
                   "nodal status")


def _coded(path: str, allowed: Iterable[str], element: str, required: bool = False
           ) -> _Handler:
    """A fact coded in pecoma's code system; ``required``: a fact the record cannot be
    read without (the disease status), whose contradictory codes refuse it, named."""
    values = {v.replace("_", "-"): v for v in allowed}

    def handle(r: Reader, obs: Mapping[str, Any], where: str) -> None:
        value = _project_value(r, obs, where, values, element, required)
        if value is not None:
            r.put(path, value, where)
    return _gives(path, handle)


def _project_value(r: Reader, obs: Mapping[str, Any], where: str, values: Mapping[str, str],
                   element: str, required: bool = False) -> str | None:
    """The case value a result coded in pecoma's code system gives (``values``: the
    case value of each code), or ``None``: absent, no value (found but not read), codes
    that disagree (unknown, or refused when ``required``), or a code not allowed
    (refused, naming the codes allowed)."""
    if _absent_reason(obs) is not None:
        return None
    if _gives_nothing(obs):
        _no_value(r, where)
        return None
    concept = obs.get("valueCodeableConcept")
    code = project_code(concept)
    own = sorted({k for system, k in codings(concept) if system == c.PECOMA_SYSTEM})
    if len(own) > 1:
        # two codes of one concept that mean different things (localized beside
        # metastatic): which is meant cannot be told, whatever their order
        if required:
            r.issue(f"{where}.valueCodeableConcept", ", ".join(own),
                    f"must hold one {element} code: the codings of one value are one "
                    "meaning, and these disagree, so which is meant cannot be told")
            return None
        r.why[where] = f"the value is coded as {', '.join(own)}, which disagree"
        r.notes.append(f"{where}: {r.why[where]}: the fact is unknown")
        return None
    if code is None or code not in values:
        r.issue(f"{where}.valueCodeableConcept",
                code or obs.get("valueCodeableConcept") or _value_given(obs) or "(missing)",
                f"must be a {element} code of {c.PECOMA_SYSTEM}: "
                f"{', '.join(sorted(values))}")
        return None
    return values[code]


#: A size written as text that is plainly one: a number and cm or mm, nothing else; the
#: number with a decimal point or a decimal comma ("9,5 cm"), read by the rule of
#: :func:`pecoma.numbers.parse_number` (a comma that may separate thousands, "1,500 mm",
#: is not plain).
_SIZE_IN_WORDS: Final = re.compile(r"\s*(\d+(?:[.,]\d+)?)\s*(cm|mm)\s*\.?\s*", re.IGNORECASE)


def _size(r: Reader, obs: Mapping[str, Any], where: str) -> None:
    size = _size_value(r, obs, where)
    if size is not None:
        r.put("tumour.size", size, where)
    elif where in r.why:
        r.value_not_read("tumour.size", where)


def _size_value(r: Reader, obs: Mapping[str, Any], where: str) -> dict[str, Any] | None:
    """A size (``{"value", "unit"}``, cm or mm) from a valueQuantity in cm or mm, one in
    inches or metres converted to cm (noted), or a valueString that is plainly a number
    and cm or mm ("9.5 cm"). Any other value leaves the size unknown, with a note quoting
    it ("9.5 x 6 cm", a range, a size with no unit or in another unit)."""
    text = obs.get("valueString")
    if isinstance(text, str) and "valueQuantity" not in obs:
        plain = _SIZE_IN_WORDS.fullmatch(text)
        number = parse_number(plain.group(1), decimal_comma=True) if plain else None
        if plain is None or number is None:
            r.why[where] = (f"the size is given as the text {show_value(text, 80)}, which is "
                            "not plainly a number and cm or mm")
            r.notes.append(f"{where}: {r.why[where]}: tumour.size is unknown")
            return None
        return {"value": float(number), "unit": plain.group(2).lower()}
    q = _quantity(obs, where, r, _SIZE_UNITS)
    if q is None:
        return None
    value, unit = q
    if unit in ("cm", "mm"):
        return {"value": value, "unit": unit}
    factor = _TO_CM.get(_SIZE_UNITS.get(unit.strip().lower().rstrip("s."), ""))
    if factor is not None:
        # in decimals, never rounded: 1.96850394 in is 5.0000000076 cm, larger than 5 cm
        # (S06), where rounded to six decimals it was 5 cm
        cm = float(Decimal(number_text(value)) * Decimal(number_text(factor)))
        r.notes.append(f"{where}: the size {number_text(value)} {unit} is read as "
                       f"{number_text(cm)} cm")
        return {"value": cm, "unit": "cm"}
    r.why[where] = (f"the size is given as {_value_given(obs)}, "
                    + (f"in {show_value(unit)}, not a length pecoma reads (cm, mm, inches, "
                       "metres)" if unit else "with no unit"))
    r.notes.append(f"{where}: {r.why[where]}: tumour.size is unknown")
    return None


#: A unit that says per 50 high-power fields: "mitoses per 50 HPF", "/50 HPF",
#: UCUM "{mitoses}/50.[HPF]", "per 50 high-power fields".
#: A unit that names the area counted in (anything but a plain count such as "{count}" or
#: "1", which the code of the observation, per 50 HPF, already says).
_NAMES_AN_AREA = re.compile(r"/|\bper\b|hpf|high[- ]?power|mm|field")
_PER_50_HPF = re.compile(
    r"(/|\bper)\s*50\s*\.?\s*(\[hpf\]|hpfs?\b|high[- ]?power[- ]?fields?\b)")


def _mitoses(r: Reader, obs: Mapping[str, Any], where: str) -> None:
    """A mitotic count per 50 high-power fields: read when the unit (text and UCUM code,
    each given) says so, when it is a plain count (``{count}``, ``1``: the observation's
    code says per 50 HPF) or when no unit is given (a bare number, as the case format's
    field is). A unit naming another area (per 10 HPF, per mm²) leaves it unknown: the
    area of a high-power field differs between microscopes, so no count is converted."""
    if "valueQuantity" not in obs and "valueInteger" not in obs and (
            "valueRatio" in obs or "valueString" in obs):
        count = _count_per_50_hpf(obs)
        if count is None:
            r.why[where] = (f"the mitotic count is given as {_value_given(obs)}, not plainly "
                            "a count per 50 high-power fields (not converted: field areas "
                            "differ between microscopes)")
            r.notes.append(f"{where}: {r.why[where]}: histology.mitoses_per_50_hpf is unknown")
        else:
            r.put("histology.mitoses_per_50_hpf", count, where)
        return
    q = _quantity(obs, where, r)
    if q is None:
        return
    quantity = obs.get("valueQuantity")
    units = [str(quantity[k]) for k in ("unit", "code")
             if isinstance(quantity, dict) and quantity.get(k) not in (None, "")]
    other = [u for u in units
             if _NAMES_AN_AREA.search(u.lower()) and not _PER_50_HPF.search(u.lower())]
    if other:
        r.why[where] = (f"the mitotic count's unit is {show_value(other[0])}, not per 50 "
                        "high-power fields (not converted: field areas differ between "
                        "microscopes)")
        r.notes.append(f"{where}: {r.why[where]}: histology.mitoses_per_50_hpf is unknown")
        return
    r.put("histology.mitoses_per_50_hpf", q[0], where)


#: A mitotic count written as text that is plainly one per 50 high-power fields: "3",
#: "3/50 HPF", "3 mitoses per 50 high-power fields".
_COUNT_IN_WORDS: Final = re.compile(
    r"\s*(\d+)\s*(?:mitos[ie]s|mitotic figures?)?\s*(?:(?:/|per)\s*50\s*"
    r"(?:hpfs?|high[- ]?power[- ]?fields?))?\s*\.?\s*", re.IGNORECASE)
_HPF: Final = re.compile(r"hpf|high[- ]?power", re.IGNORECASE)


def _count_per_50_hpf(obs: Mapping[str, Any]) -> float | None:
    """A mitotic count given as a valueRatio of a plain count to 50 high-power fields
    (numerator 3, denominator 50 "HPF") or as a valueString plainly saying one
    (:data:`_COUNT_IN_WORDS`); ``None`` for anything else (per 10 HPF, "<1", a range)."""
    text = obs.get("valueString")
    if isinstance(text, str):
        plain = _COUNT_IN_WORDS.fullmatch(text)
        return float(plain.group(1)) if plain else None
    ratio = obs.get("valueRatio")
    if not isinstance(ratio, dict):
        return None
    top, per = ratio.get("numerator"), ratio.get("denominator")
    if not (isinstance(top, dict) and isinstance(per, dict)) or any(
            q.get("comparator") is not None for q in (top, per)):
        return None
    count, fields = top.get("value"), per.get("value")
    top_unit = " ".join(str(top.get(k) or "") for k in ("unit", "code"))
    per_unit = " ".join(str(per.get(k) or "") for k in ("unit", "code"))
    if (isinstance(count, int | float) and not isinstance(count, bool) and count >= 0
            and fields == 50 and _HPF.search(per_unit)
            and not _NAMES_AN_AREA.search(top_unit.lower())):
        return float(count)
    return None


def _dfi(r: Reader, obs: Mapping[str, Any], where: str) -> None:
    q = _quantity(obs, where, r, _TIME_UNITS)
    if q is None:
        return
    value, unit = q
    if unit in ("a", "year", "years"):
        value *= 12
    elif unit not in ("mo", "month", "months"):
        r.issue(f"{where}.valueQuantity.code", unit or f"no unit ({_value_given(obs)})",
                "must be the UCUM unit 'mo' (months) or 'a' (years)")
        return
    r.put("stage.disease_free_interval_months", value, where)


def _treatment_end(r: Reader, obs: Mapping[str, Any], where: str) -> None:
    raw = obs.get("valueDateTime")
    day = day_of(raw)
    if day is None:
        if raw is None and _gives_nothing(obs):
            _no_value(r, where)
        elif _absent_reason(obs) is None:
            r.issue(f"{where}.valueDateTime",
                    raw if raw is not None else _value_given(obs) or "(missing)",
                    "must be a full date (YYYY-MM-DD)")
        return
    r.put("primary_treatment_end", day.isoformat(), where)


def _free_of_disease(r: Reader, obs: Mapping[str, Any], where: str) -> None:
    raw = obs.get("valueDateTime")
    day = day_of(raw)
    if day is None:
        if raw is None and _gives_nothing(obs):
            _no_value(r, where)
            r.value_not_read("free_of_disease", where)
        elif _absent_reason(obs) is None:
            r.issue(f"{where}.valueDateTime",
                    raw if raw is not None else _value_given(obs) or "(missing)",
                    "must be a full date (YYYY-MM-DD)")
        return
    value: dict[str, Any] = {"since": day.isoformat()}
    by = enum_extension(obs, c.EXT.REMISSION_BY, [x.value for x in RemissionBy], where, r)
    if by is not None:
        value["by"] = by
    r.put("free_of_disease", value, where)


_CLEARED_BY: Final = {v.value.replace("_", "-"): v.value for v in ClearedBy}


def _residue_cleared(r: Reader, obs: Mapping[str, Any], where: str) -> None:
    """Gross tumour left by the resection (R2) cleared without a further resection: how,
    as the coded value ('unknown': cleared, the means not recorded), and the day it was
    seen cleared, as the effective day. An effective time that is no whole day (a month)
    leaves the day not recorded, with a note: the interval is never counted from a day
    guessed (the stated one, else the end of treatment, is asked)."""
    by = _project_value(r, obs, where, _CLEARED_BY, "means of clearance")
    if by is None:
        return
    value = {"by": by}
    raw = obs.get("effectiveDateTime")
    day = day_of(raw)
    if day is not None:
        value["date"] = day.isoformat()
    elif raw is not None or any(k in obs for k in ("effectivePeriod", "effectiveInstant")):
        given = raw if raw is not None else "an effective time other than a day"
        r.notes.append(f"{where}: surgery.gross_residue_cleared: the day it was seen "
                       f"cleared ({show_value(given)}) is no whole day (YYYY-MM-DD): read "
                       "as cleared, that day not recorded")
    r.put("surgery.gross_residue_cleared", value, where)


_OBSERVATIONS: dict[str, _Handler] = {
    c.OBS_DISEASE_STATUS[0]: _coded(
        "stage.status", [s.value for s in DiseaseStatus], "disease-status", required=True),
    c.OBS_LYMPH_NODES[0]: _nodes,
    c.OBS_EXTRAPULMONARY[0]: _yes_no("stage.extrapulmonary_disease"),
    c.OBS_LOCAL_RECURRENCE[0]: _yes_no("stage.local_recurrence"),
    c.OBS_RESECTABLE[0]: _yes_no("stage.resectable"),
    c.OBS_EXCISION_FEASIBLE[0]: _yes_no("stage.complete_excision_feasible"),
    c.OBS_DFI[0]: _dfi,
    c.OBS_TREATMENT_END[0]: _treatment_end,
    c.OBS_ADJUVANT_RADIOTHERAPY[0]: _yes_no("surgery.adjuvant_radiotherapy"),
    c.OBS_MARGIN[0]: _coded(
        "surgery.margin", [m.value for m in Margin if m is not Margin.unknown], "margin"),
    c.OBS_MITOSES[0]: _mitoses,
    c.OBS_TUMOUR_SIZE[0]: _size,
    c.OBS_MTOR_AVAILABLE[0]: _yes_no("systemic.mtor_inhibitor_available"),
    c.OBS_MTOR_CONTRA[0]: _yes_no("systemic.mtor_inhibitor_contraindicated"),
    c.OBS_ANTHRACYCLINE_CONTRA[0]: _yes_no("systemic.anthracycline_contraindicated"),
    c.OBS_FREE_OF_DISEASE[0]: _free_of_disease,
    c.OBS_GROSS_RESIDUE_CLEARED[0]: _residue_cleared,
    c.OBS_FEATURES_BEFORE_SYSTEMIC[0]: _yes_no("tumour.features_before_systemic_therapy"),
    **{code: _feature(f"histology.{f}") for f, (code, _d) in c.HISTOLOGY.items()},
    **{code: _ihc(f"immunohistochemistry.{m}") for m, (code, _d) in c.IHC.items()},
}
_FACT_OF.update({_nodes: "stage.lymph_nodes", _n_category: "stage.lymph_nodes",
                 _mitoses: "histology.mitoses_per_50_hpf",
                 _dfi: "stage.disease_free_interval_months",
                 _treatment_end: "primary_treatment_end",
                 _residue_cleared: "surgery.gross_residue_cleared"})
#: The facts of handlers that say which when their result cannot be read themselves.
_COMPONENT_FACTS: Final[dict[_Handler, str]] = {_size: "tumour.size",
                                                _free_of_disease: "free_of_disease"}


#: The other dimensions of an mCODE TumorSize (LOINC 33729-5, 33732-9: additional
#: dimensions), beside its longest (33728-7).
_OTHER_DIMENSIONS: Final = ("33729-5", "33732-9")


def _tumour_size(r: Reader, obs: Mapping[str, Any], where: str) -> None:
    """mCODE TumorSize: the longest dimension in component 33728-7 (no value[x]), or a
    plain valueQuantity. The size is the largest dimension of the measurement (the
    longest, by definition): a value and a longest dimension that disagree, or two
    longest dimensions that do, or another dimension larger than the one labelled
    longest, give the larger, noted."""
    components = [x for x in as_list(obs.get("component")) if isinstance(x, dict)]
    longest = [(m.LOINC_LONGEST_DIMENSION, x) for x in components
               if m.has_loinc(x.get("code"), m.LOINC_LONGEST_DIMENSION)]
    others = [(code, x) for x in components for code in _OTHER_DIMENSIONS
              if m.has_loinc(x.get("code"), code)]
    mark = len(r.puts)
    if not longest and _gives_nothing(obs):
        _no_longest_dimension(r, where, others)
        return
    if "valueQuantity" not in obs and longest:
        _size(r, longest[0][1], f"{where}.component(33728-7)")
        if len(r.puts) == mark:  # no size read ('> 5 cm')
            return
        r.sources["tumour.size"] = where
        given = "the longest dimension"
        # a second longest dimension (two measurements written as one: the larger is taken)
        others = [*longest[1:], *others]
    else:
        _size(r, obs, where)
        if len(r.puts) == mark:  # this observation's value was not read
            return
        given = "the value"
        # a value and a longest dimension both given (mCODE forbids the first)
        others = longest
    for code, comp in others:
        value = r.data["tumour"]["size"]
        other = _size_value(r, comp, f"{where}.component({code})")
        if other is None:
            continue
        if code == m.LOINC_LONGEST_DIMENSION and _cm(other) != _cm(value):
            larger = max(value, other, key=_cm)
            r.put("tumour.size", larger, where)
            pair = ("a value ({}) and a longest dimension ({})" if given == "the value"
                    else "two longest dimensions ({} and {})")
            r.notes.append(f"{where}: "
                           + pair.format(f"{value['value']} {value['unit']}",
                                         f"{other['value']} {other['unit']}")
                           + f" that disagree: the larger, {larger['value']} "
                           f"{larger['unit']}, is taken")
        elif code != m.LOINC_LONGEST_DIMENSION and _cm(other) > _cm(value):
            r.put("tumour.size", other, where)
            r.notes.append(f"{where}: an additional dimension ({other['value']} "
                           f"{other['unit']}, component {code}) larger than {given} "
                           f"({value['value']} {value['unit']}): the dimensions disagree "
                           "with their labels; the largest, "
                           f"{other['value']} {other['unit']}, is taken as the size")


def _no_longest_dimension(r: Reader, where: str,
                          others: list[tuple[str, dict[str, Any]]]) -> None:
    """A TumorSize that gives neither a value nor its longest dimension (component
    33728-7), only other dimensions or nothing (FHIR R4 allows it): the size is unknown,
    found but not read, with a note naming the dimensions given. Another dimension is
    not the size: the longest is at least as large, and may be above 5 cm (S06) when it
    is not."""
    given = [f"{_dimension(comp)} (component {code})" for code, comp in others]
    r.why[where] = ("the tumour size gives no value and no longest dimension (component "
                    f"{m.LOINC_LONGEST_DIMENSION})"
                    + (f", only another dimension: {'; '.join(given)}, not the size"
                       if given else ""))
    r.notes.append(f"{where}: {r.why[where]}: tumour.size is unknown (the longest "
                   "dimension is what S06 reads)")
    r.value_not_read("tumour.size", where)


def _dimension(comp: Mapping[str, Any]) -> str:
    """A dimension as given ("4 cm"), or its value as the record writes it."""
    q = comp.get("valueQuantity")
    if isinstance(q, dict) and isinstance(q.get("value"), int | float) \
            and q.get("comparator") is None:
        unit = q.get("code") or q.get("unit") or ""
        return f"{number_text(q['value'])} {unit}".strip()
    return _value_given(comp) or "no value"


_SIZE_HANDLERS: Final = (_tumour_size, _size)
_NODE_HANDLERS: Final = (_nodes, _n_category)


def _other_lesion(r: Reader, obs: Mapping[str, Any]) -> str | None:
    """Why a tumour size is not the primary PEComa's (a metastasis, a benign lesion, a
    lesion of the other kidney), or ``None``. Its ``focus`` names a Condition that is
    neither the primary nor the same tumour recorded again (``read_conditions.same_tumour``:
    "Malignant neoplasm of uterus" beside a uterine PEComa), or something the record does
    not hold whose kind cannot be told (the safer reading: a size left unknown makes the
    risk indeterminate, never falsely low); or its ``bodySite``, or the ``location`` of
    the BodyStructure (an mCODE Tumor) its focus names, is another site than the
    primary's, or the other side (both sides stated), or, both read as 'other', a site
    sharing no code or body-part word with the PEComa's. No focus and no bodySite, or a
    focus on the primary Condition, a Specimen, a BodyStructure at its site: the
    primary's; but when the record holds another primary cancer (``Reader.other_cancers``)
    a size that names no lesion (no focus on the PEComa Condition, the same tumour or a
    BodyStructure located at its site or related to it, and no bodySite at the primary's
    site) may be that cancer's: not shown to be the PEComa's."""
    cond = r.primary
    if cond is None:
        return None
    primary = r.labels.get(id(cond), "the PEComa Condition")
    primary_site = r.data.get("tumour", {}).get("primary_site")
    named = False  # a focus naming the PEComa's lesion
    for ref in as_list(obs.get("focus")):
        target = reference_of(ref)
        if target is None:
            shown = show_value(ref.get("display") if isinstance(ref, dict) else ref, 60)
            return (f"its focus ({shown}) names no resource, so which lesion was measured "
                    f"cannot be told (not shown to be the PEComa, {primary})")
        found = _focused(r, obs, target)
        kind = (str(found.get("resourceType")) if found is not None
                else (parse_reference(target) or ("", "", ""))[1])
        if found is not None and kind == "BodyStructure":
            # an mCODE Tumor: measured where it is located, and of the Condition it names
            elsewhere = _other_site(r, found.get("location"),
                                    as_list(found.get("locationQualifier")))
            if elsewhere is not None:
                return (f"its focus ({show_value(target, 80)}) is a tumour whose location "
                        f"{elsewhere}")
            named = named or isinstance(found.get("location"), dict)
            related = extension(found, m.RELATED_CONDITION) or {}
            target = reference_of(related.get("valueReference")) or ""
            found = r.resolve(target) if target else None
            if found is None or found.get("resourceType") != "Condition":
                continue
            kind = "Condition"
        if found is cond:
            named = True
            continue
        if kind not in ("Condition", ""):
            continue  # the specimen, an imaging study: no other lesion named
        if found is None:
            return (f"its focus ({show_value(target, 80)}) is not in the record, so which "
                    f"lesion was measured cannot be told (not shown to be the PEComa, "
                    f"{primary})")
        if not same_tumour(found, primary_site):
            return (f"its focus ({show_value(target, 80)}) is another Condition than the "
                    f"PEComa ({primary}): a size of another lesion")
        side, own = condition_side(found, r), condition_side(cond, r)
        if side is not None and own is not None and side != own:
            return (f"its focus ({show_value(target, 80)}) is a tumour of the {side} side, "
                    f"the PEComa ({primary}) of the {own}: a size of another lesion")
        named = True  # the same tumour recorded again
    elsewhere = _other_site(r, obs.get("bodySite"), [], "its bodySite ")
    if elsewhere is not None or named or isinstance(obs.get("bodySite"), dict) \
            or not r.other_cancers:
        return elsewhere
    return (f"it names no lesion (no focus on the PEComa Condition, no bodySite) and the "
            f"record holds another primary cancer ({r.other_cancers[0]}) besides the PEComa "
            f"({primary}), so whose size it is cannot be told; tumour.size stays unknown "
            "unless another result gives it; give its focus (the PEComa Condition) or "
            "bodySite if it is the PEComa's")


def _other_site(r: Reader, concept: Any, qualifiers: list[Any], what: str = "") -> str | None:
    """Why a body site measured (a bodySite, a BodyStructure's location and its
    qualifiers) is not the PEComa's, or ``None``: another site than the primary's, or the
    other side when both state one, or, both read as 'other', a site sharing no code or
    body-part word with the PEComa's (:func:`_same_other_site`). None given: ``None``."""
    if not isinstance(concept, dict) or r.primary is None:
        return None
    site = site_of([concept], PrimarySite)
    primary_site = r.data.get("tumour", {}).get("primary_site")
    shown = show_value(m.lower_words(concept) or codings(concept), 60)
    if site != primary_site:
        return f"{what}({shown}) is another site ({site}) than the PEComa's ({primary_site})"
    side, own = stated_side([concept, *qualifiers]), condition_side(r.primary, r)
    if side is not None and own is not None and side != own:
        return f"{what}({shown}) is the {side} side, the PEComa's the {own}: another lesion"
    if site == PrimarySite.other.value and not _same_other_site(concept, r.primary, r):
        # two sites the guideline does not name (a thigh, an adrenal gland) are both
        # 'other': one that shares no code and no word of the body part with the PEComa's
        # is another lesion's (the safer reading: a size left out, never a falsely small one)
        return (f"{what}({shown}) names a site pecoma cannot match with the PEComa's "
                "(both 'other', no code or word of the body part in common)")
    return None


def _part_words(concept: Any) -> set[str]:
    words = re.findall(r"[a-z]+", m.lower_words(concept))
    return {w for w in words if w not in NOT_A_PART and len(w) > 2}


def _same_other_site(concept: Mapping[str, Any], primary: Mapping[str, Any],
                     r: Reader) -> bool:
    """Whether a body site read as 'other' is the PEComa's own 'other' site: it shares a
    code, or a word of the body part ("thigh"), with the PEComa Condition's bodySite or
    code (a side, an aspect or "structure" is no body part)."""
    own = [*condition_sites(primary, r), primary.get("code")]
    codes = set(codings(concept))
    words = _part_words(concept)
    return any(codes & set(codings(x)) or words & _part_words(x) for x in own)


def _focused(r: Reader, obs: Mapping[str, Any], target: str) -> Mapping[str, Any] | None:
    """What a focus reference names: a resource contained in the observation (``#id``),
    else one of the record. A local id two different contained resources carry names
    nothing pecoma can tell (the reader refuses such a record before: defence only)."""
    if target.startswith("#"):
        try:
            return contained(obs, target)
        except RepeatedLocalId:
            return None
    return r.resolve(target)


def _cm(size: Mapping[str, Any]) -> float:
    return float(size["value"]) / (10 if size["unit"] == "mm" else 1)


_MARKER_RESULT_WORDS = (("not performed", None), ("not done", None),
                        ("not detected", False), ("not present", False), ("not seen", False),
                        ("negative", False), ("absent", False),
                        ("positive", True), ("detected", True), ("present", True))
#: A text with a word that may turn a result word around (``mcode.NEGATION``: "no positive
#: staining", "not convincingly positive") is read only by a phrase above that says
#: "not …" itself, else it stays unknown ("focally positive" is positive).
_NOT_TISSUE_MARKER = ("serum", "plasma", "antibod", " ab ", "titer", "titre", "blood")


def _molecular_test(obs: Mapping[str, Any]) -> bool:
    """Whether a test's code or method names a test of a gene (FISH, a rearrangement,
    sequencing, PCR: ``mcode.MOLECULAR_TEST_WORDS``), not an immunostain of its protein."""
    return any(m.MOLECULAR_TEST_WORDS.search(m.lower_words(obs.get(k)))
               for k in ("code", "method"))


def _rearrangement(r: Reader, obs: Mapping[str, Any], where: str) -> str | None:
    """A molecular test named by a marker (``observation_kind`` 'molecular'), read for
    ``molecular.tfe3_fusion`` when it is a TFE3 rearrangement test (break-apart FISH, a
    fusion or translocation named, or a plain "TFE3 FISH": in PEComa practice the
    break-apart test) that says plainly positive or negative (or not performed):
    'present', 'absent', 'not_done'. Anything else is not read, with a note: a test of
    another gene, one also named an immunostain, a TFE3 test naming neither a
    rearrangement nor an in situ hybridisation (sequencing), or a FISH of its copy number
    (amplification), a result not plainly positive or negative. Never read as a stain."""
    words = f"{m.lower_words(obs.get('code'))} {m.lower_words(obs.get('method'))}"

    def unread(why: str) -> None:
        r.why[where] = why
        r.notes.append(f"{where}: {why}: neither an immunostain result nor "
                       "molecular.tfe3_fusion is read from it")

    if m.IMMUNOSTAIN_WORDS.search(words):
        unread("named both an immunostain and a molecular test: which it is cannot be told")
    elif "tfe3" not in m.genes(obs.get("code")):
        unread("a molecular test (in situ hybridisation, rearrangement, sequencing) of a "
               "gene whose result the case does not record")
    elif not (m.REARRANGEMENT_WORDS.search(words) or (
            m.IN_SITU_WORDS.search(words) and not m.COPY_NUMBER_WORDS.search(words))):
        unread("a molecular test of TFE3 that is no rearrangement test (names no break-apart, "
               "fusion or translocation, nor is a FISH of no copy number)")
    elif (absent := _absent_reason(obs)) is not None:
        if any(k.startswith("value") for k in obs):
            unread("it gives a result and a dataAbsentReason, which contradict each other")
        elif absent == "not-performed":
            return "not_done"
        else:
            unread(f"no result ({absent})")
    else:
        value = obs.get("valueCodeableConcept")
        found = set(codings(value))
        text = (m.lower_words(value) or str(obs.get("valueString") or "").lower()
                ).strip().rstrip(".")
        yes = bool(found & (_YES | _POS)) or (not found and text in _FUSION_YES)
        no = bool(found & (_NO | _NEG)) or (not found and text in _FUSION_NO)
        if isinstance(obs.get("valueBoolean"), bool):
            yes, no = bool(obs["valueBoolean"]), not obs["valueBoolean"]
        if yes != no:
            # a result whose code and words (text, display, interpretation) disagree
            why = _disagreement(obs, yes, ("positive", "negative"))
            if why is None:
                return "present" if yes else "absent"
            unread(why)
            return None
        unread(f"the result {show_value(sorted(found) if found else text or value)} does "
               "not say plainly positive or negative")
    return None


#: Whole result texts of a rearrangement test read when the result has no code.
_FUSION_YES: Final = _TEXT_YES | {"detected", "rearranged", "rearrangement detected"}
_FUSION_NO: Final = _TEXT_NO | {"not detected", "not rearranged", "no rearrangement",
                                "no rearrangement detected"}


def _panel(obs: Mapping[str, Any]) -> list[tuple[int, Mapping[str, Any], _Handler]]:
    """The components of a panel (a stain panel, a synoptic pathology report, LOINC
    60568-3) that give a fact of the case, each with the handler that reads it as a
    result of its own (:func:`_component_handler`). A panel's own value ("See
    components", "Malignant PEComa") changes nothing: FHIR R4 allows a value beside
    components, which are the results all the same. A stain with a value of its own
    (HMB-45 positive) is a result, read as such, not a panel."""
    if any(k.startswith("value") for k in obs) and m.ihc_marker(obs.get("code")) is not None:
        return []  # a stain's own result, read as such
    components = obs.get("component")
    return [(i, comp, handler)
            for i, comp in enumerate(components if isinstance(components, list) else [])
            if isinstance(comp, dict) and (handler := _component_handler(comp)) is not None]


def _component_handler(comp: Mapping[str, Any]) -> _Handler | None:
    """How a panel's component is read: a histology fact or a stain coded with the
    project's code (``pecoma#necrosis``, ``pecoma#mitoses-per-50-hpf``,
    ``pecoma#ihc-hmb45``) by that code's handler, a stain named by its LOINC code or its
    words as a TumorMarkerTest (:func:`_marker`); another fact coded with the project's
    code (a margin, a size, the nodes: read with the resection, from a result of its own)
    is found and not read (:func:`_not_from_a_component`). ``None``: nothing of the
    case."""
    code = project_code(comp.get("code"))
    handler = _OBSERVATIONS.get(code) if code is not None else None
    if handler is not None:
        if _FACT_OF.get(handler, "").startswith(("histology.", "immunohistochemistry.")):
            return handler
        return _not_from_a_component
    return _marker if m.ihc_marker(comp.get("code")) is not None else None


def _not_from_a_component(r: Reader, comp: Mapping[str, Any], where: str) -> None:
    """A fact coded with the project's code that pecoma reads only from a result of its
    own (a margin and a size with the resection, the nodes at presentation, the disease
    status with the rest of the record), given as a panel's component: found, not read,
    listed (never 'not found')."""
    handler = _OBSERVATIONS[str(project_code(comp.get("code")))]
    fact = _FACT_OF.get(handler) or _COMPONENT_FACTS.get(handler)
    r.why[where] = ("given as a component of a panel, not as a result of its own: pecoma "
                    "reads it only from an Observation of its own")
    r.notes.append(f"{where}: {fact or 'a fact of the case'} {r.why[where]}; record it so "
                   "to have it read")
    if fact is not None:
        r.value_not_read(fact, where)


def _stains(obs: Mapping[str, Any], handler: _Handler) -> bool:
    """Whether a result gives an immunostain (a marker, a stain coded with the project's
    code, a panel holding one): such a result may be another tumour's
    (:func:`_of_another_tumour`)."""
    def stain(h: _Handler) -> bool:
        return h is _marker or _FACT_OF.get(h, "").startswith("immunohistochemistry.")
    if handler is _marker:
        panel = _panel(obs)
        return not panel or any(stain(h) for _i, _c, h in panel)
    return stain(handler)


def _marker(r: Reader, obs: Mapping[str, Any], where: str) -> None:
    """A TumorMarkerTest (or any immune stain) of a marker the case records; a panel's
    components each as a result of its own (:func:`_panel`): a stain, a histology fact,
    one found and not read."""
    panel = _panel(obs)
    if panel:
        for i, comp, handler in panel:
            at = f"{where}.component[{i}]"
            mark = len(r.puts)
            handler(r, comp, at)
            if len(r.puts) == mark and at in r.why and handler in _FACT_OF:
                r.value_not_read(_FACT_OF[handler], at)  # as for a result of its own
        return
    marker = m.ihc_marker(obs.get("code"))
    if marker is None:
        return
    path = f"immunohistochemistry.{marker}"
    has_value = any(k.startswith("value") for k in obs)
    absent = _absent_reason(obs)

    def unknown(why: str) -> None:
        r.why[where] = f"{why}: the marker stays unknown"
        r.notes.append(f"{where}: {r.why[where]}")
        r.value_not_read(path, where)

    def read(positive: bool) -> None:
        # a result whose code and words (text, display, interpretation) disagree is unknown
        why = _disagreement(obs, positive, ("positive", "negative"))
        if why is not None:
            unknown(why)
        else:
            r.put(path, "positive" if positive else "negative", where)

    named = m.ihc_markers_named(obs.get("code"))
    if len(named) > 1 or "cocktail" in m.lower_words(obs.get("code")):
        # "Melanoma cocktail (HMB-45, Melan-A, tyrosinase)": a positive result does not
        # say which of its antibodies stained
        r.why[where] = "a stain of several markers at once (a cocktail), not of one marker"
        r.notes.append(f"{where}: {show_value(m.lower_words(obs.get('code')), 80)} stains "
                       "several markers at once: its result is not read as any one "
                       f"marker's ({', '.join(named or [marker])} not taken from it)")
        return
    if _molecular_test(obs):  # a panel's component naming a gene test
        unknown("a molecular test (in situ hybridisation, rearrangement, sequencing), not "
                "an immunostain")
        return

    if absent is not None and has_value:  # FHIR obs-6: one or the other, never both
        unknown("it gives a result and a dataAbsentReason, which contradict each other")
        return
    if absent == "not-performed":
        r.put(path, "not_done", where)
        return
    if isinstance(obs.get("valueBoolean"), bool):
        read(bool(obs["valueBoolean"]))
        return
    value = obs.get("valueCodeableConcept")
    found = set(codings(value))
    if not has_value:  # a result given only as its interpretation
        for concept in obs.get("interpretation") or []:
            found |= set(codings(concept))
    if found & (_YES | _POS) and found & (_NO | _NEG):
        unknown(f"the result codes {show_value(sorted(found))} say both positive and negative")
        return
    if found & (_YES | _POS):
        read(True)
        return
    if found & (_NO | _NEG):
        read(False)
        return
    text = m.lower_words(value) or str(obs.get("valueString") or "").lower()
    said = [(word, result) for word, result in _MARKER_RESULT_WORDS if word in text]
    results = {result for word, result in said if not any(
        other != word and word in other for other, _r in said)}  # "present" in "not present"
    if said:
        word, result = said[0]
        if not word.startswith("not ") and m.NEGATION.search(text):
            unknown(f"the result {show_value(text)} does not say positive or negative plainly")
        elif len(results) > 1:  # "negative in vessels, positive in tumour cells"
            unknown(f"the result {show_value(text)} says more than one result")
        elif result is None:
            r.put(path, "not_done", where)
        else:
            read(result)
        return
    given = _value_given(obs)
    if has_value or given is not None:
        # another value type, or an interpretation alone that says neither (A, abnormal)
        shown = (show_value(sorted(found) if found else text)
                 if has_value and (found or text) else f"given as {given}")
        unknown(f"the result {shown} does not code or say positive or negative")
    elif absent is None:
        unknown(_NO_VALUE)


_LOINC_KINDS = {
    c.LOINC_TUMOUR_SIZE: "handler",
    m.LOINC_HISTOLOGY_BEHAVIOR: "histology",
    m.LOINC_DISEASE_STATUS: "status",
    m.LOINC_GENOMIC_VARIANT: "variant",
    **{code: "marker" for code in m.IHC_LOINC},
}


#: Coded answers saying yes and no (SNOMED CT, LOINC answer lists).
_YES_CODES: Final = frozenset({"373066001", "LA33-6", "LA9633-4"})
_NO_CODES: Final = frozenset({"373067005", "LA32-8", "LA9634-2"})


def _history_said(obs: Mapping[str, Any]) -> bool | None:
    """What an mCODE HistoryOfMetastaticCancer says: a history stated (``True``: value
    true or yes, or no value at all, as the IG's own example has), denied (``False``:
    false, no, absent), or neither (another value, or a dataAbsentReason)."""
    if isinstance(obs.get("valueBoolean"), bool):
        return bool(obs["valueBoolean"])
    concept = obs.get("valueCodeableConcept")
    if isinstance(concept, dict):
        codes = {code for _system, code in codings(concept)}
        if codes & _YES_CODES:
            return True
        if codes & _NO_CODES:
            return False
        return None
    if "dataAbsentReason" in obs or any(k.startswith("value") for k in obs):
        return None
    return True


def _history_coded(resource: Mapping[str, Any]) -> bool:
    """Whether a resource is coded as a history of metastatic cancer (SNOMED CT 1287652008
    or the descendant the IG's examples use), or carries mCODE's profile of it."""
    return any(system == c.SNOMED and (code == m.SNOMED_HISTORY_OF_METASTATIC
                                       or code in m.SNOMED_HISTORY_OF_METASTATIC_TO)
               for system, code in codings(resource.get("code"))) or (
        m.HISTORY_PROFILE in m.profiles(resource))


#: What a history of metastatic cancer reads as, each way (:func:`_disagreement`).
_HISTORY_ANSWERS: Final = ("a history of metastatic cancer", "no history of metastatic cancer")


def _history_disagreement(resource: Mapping[str, Any], said: bool) -> str | None:
    """What of a history of metastatic cancer says other than ``said``, the answer read
    from its value (or, with no value, from its code: a history stated), or ``None``: its
    code's text or a display of it saying the other answer ("No history of metastatic
    cancer" beside a history stated) or naming a relative's history ("Family history of
    metastatic cancer": the code says the patient's own), and for an Observation its
    value's words or its interpretation (:func:`_disagreement`: a value coded No with the
    text "Yes"). The same rule as every result's code against its words (HAZ-189)."""
    concept = resource.get("code")
    parts: list[tuple[str, str]] = []
    if isinstance(concept, dict):
        if isinstance(concept.get("text"), str):
            parts.append(("its code's text", concept["text"]))
        parts += [("its code's display", coding["display"])
                  for coding in as_list(concept.get("coding"))
                  if isinstance(coding, dict) and isinstance(coding.get("display"), str)]
    mine = _HISTORY_ANSWERS[0] if said else _HISTORY_ANSWERS[1]
    for what, shown in parts:
        if "family" in re.findall(r"[a-z]+", shown.lower()):
            return (f"it is coded as the patient's own history, but {what} "
                    f"{show_value(shown)} names a family history")
        if _words_say(shown) - {said}:
            return f"it reads {mine}, but {what} {show_value(shown)} says otherwise"
    if resource.get("resourceType") != "Observation":
        return None
    return _disagreement(resource, said, _HISTORY_ANSWERS)


def _history(where: str, resource: Mapping[str, Any], said: bool | None, r: Reader) -> None:
    """What a history of metastatic cancer gives (``said``: stated, denied, or neither),
    once checked against its own words (:func:`_history_disagreement`): a code and words
    that disagree leave it unknown, with a note, and the disease is then never taken as
    localized from a denial of metastatic history."""
    why = None if said is None else _history_disagreement(resource, said)
    if why is not None:
        r.why[where] = (f"{why}, so whether there is a history of metastatic cancer cannot "
                        "be told")
        r.notes.append(f"{where}: {r.why[where]}: the fact is unknown; the disease is not "
                       "taken as localized from a denial of metastatic history")
        r.history_unread = r.history_unread or where
    elif said is False:
        r.no_metastatic_history = where
        r.used.add(where)
    elif said is True:
        r.why[where] = "a history of metastatic cancer without site or date"
        r.metastatic_history = where
    else:
        r.why[where] = ("a history of metastatic cancer neither stated nor denied "
                        "(a value pecoma cannot read, or none given for a reason)")


def read_history_conditions(conditions: list[tuple[str, dict[str, Any]]], r: Reader) -> None:
    """A Condition coded as a history of metastatic cancer (SNOMED CT 1287652008, or
    carrying mCODE's HistoryOfMetastaticCancer profile, which mCODE gives an Observation)
    states that history, as the Observation with no value does, once checked against its
    own words ("No history of metastatic cancer" as its text: unknown, noted). One refuted
    or entered in error says nothing; the PEComa and its metastases are read as such."""
    for where, cond in conditions:
        if (not live_condition(cond) or cond is r.primary or not _history_coded(cond)
                or any(cond is x for _w, x in r.metastasis_conditions)):
            continue
        r.notes.append(f"{where}: a Condition coded as a history of metastatic cancer "
                       "(mCODE records it as an Observation, HistoryOfMetastaticCancer): read "
                       "as one")
        _history(where, cond, True, r)


def observation_kind(obs: Mapping[str, Any]) -> str | None:
    """What the reader takes from an Observation: 'handler', 'histology', 'status',
    'variant', 'history', 'implication', 'marker', 'molecular' (a gene test named by a
    marker: a TFE3 break-apart FISH), 'margin', or ``None`` (not read).
    Called once per Observation: an EHR sends them by the thousand."""
    concept = obs.get("code")
    for system, code in codings(concept):
        if system == c.PECOMA_SYSTEM and code in _OBSERVATIONS:
            return "handler"
        if system == c.LOINC and code in _LOINC_KINDS:
            return _LOINC_KINDS[code]
        if (system, code) in m.M_CATEGORY_CODES or (system, code) in m.STAGE_GROUP_CODES:
            return "staging"
        if (system, code) in m.N_CATEGORY_CODES:
            return "handler"
        if system == c.SNOMED and (code == m.SNOMED_HISTORY_OF_METASTATIC
                                   or code in m.SNOMED_HISTORY_OF_METASTATIC_TO):
            return "history"
    if m.HISTORY_PROFILE in m.profiles(obs):
        return "history"
    if "derivedFrom" in obs and genomics.implication_of(obs):
        return "implication"
    if _panel(obs):
        return "marker"
    words = m.lower_words(concept)
    if not words:
        return None
    if "history of" in words and "metasta" in words and "family" not in words:
        return "history"
    if m.first_match(words, m.IHC_NAMES) is not None and not any(
            w in f" {words} " for w in _NOT_TISSUE_MARKER):
        return "molecular" if _molecular_test(obs) else "marker"
    if "margin" in words:
        return "margin"
    return None


def _observation_handler(obs: Mapping[str, Any]) -> _Handler | None:
    concept = obs.get("code")
    code = project_code(concept)
    if code is not None and code in _OBSERVATIONS:
        return _OBSERVATIONS[code]
    if has_code(concept, c.LOINC, c.LOINC_TUMOUR_SIZE):
        return _tumour_size
    if set(codings(concept)) & m.N_CATEGORY_CODES:
        return _n_category
    return None


#: Among results of one effective time issued together, a correction is the later, and a
#: final result is later than a preliminary one or one whose status is ``unknown`` (R4
#: observation-status: the system that sent it does not know which status applies, so
#: it may be preliminary).
_STATUS_RANK = {"preliminary": 0, "unknown": 0, "amended": 2, "corrected": 2,
                "appended": 2}



def _order(obs: Mapping[str, Any]) -> Order:
    """Where a result stands in time: its effective time (with no ``effective[x]``, when
    it was issued: the time it was made available, the latest its result can be of), when
    it was issued, then its status (a correction after the final result)."""
    raw = obs.get("issued")
    issued = raw if isinstance(raw, str) else ""
    return time_order(effective_time(obs) or issued, instant(issued),
                      _STATUS_RANK.get(str(obs.get("status")), 1))


def live_observations(
    observations: list[tuple[str, dict[str, Any]]], r: Reader,
) -> list[tuple[str, dict[str, Any]]]:
    """The observations that are results: not entered in error nor cancelled, and not
    ``registered`` (ordered, no result yet: listed as not read), in time order. The
    ``effectivePeriod`` of a result of a kind the reader reads (:func:`observation_kind`)
    that ends before it starts is refused (:func:`pecoma.fhir.reading.refuse_backwards`):
    when the result holds decides which result is the later and where it stands against
    a day (the resection, the day metastases resolved)."""
    live = []
    for where, obs in observations:
        status = str(obs.get("status"))
        if status in NO_RESULT:
            r.why[where] = NO_RESULT[status]
        else:
            live.append((where, obs))
            if r.kinds.get(id(obs)) is not None:
                refuse_backwards(obs.get("effectivePeriod"), where, "effectivePeriod",
                                 "when the result holds is read from it", r)
    # Later observations win: sort by effective time, issued, then status (stable on
    # bundle order, which decides nothing: results of one time that disagree are unknown).
    orders = r.orders
    for _where, obs in live:
        orders[id(obs)] = _order(obs)
    live.sort(key=lambda wo: orders[id(wo[1])])
    return live


def read_observations(observations: list[tuple[str, dict[str, Any]]], r: Reader) -> None:
    variants: list[tuple[str, dict[str, Any]]] = []
    tests: list[tuple[str, dict[str, Any]]] = []  # molecular tests named by a marker
    implications: dict[int, str] = {}  # a variant (by identity) -> its significance
    given: dict[int, list[tuple[Order, str, str]]] = {}  # -> the latest significances
    disputed: dict[int, str] = {}  # a variant -> why its significance is unknown
    implied: list[tuple[str, list[Mapping[str, Any]]]] = []  # implication -> its variants
    unresolved: list[str] = []  # significances of variants the record does not hold
    written: dict[tuple[tuple[str, str], ...], set[str]] = {}  # code -> facts it gave
    latest: dict[str, list[tuple[Order, str, Any]]] = {}  # fact -> results of its time
    for where, obs in observations:
        kind = r.kinds.get(id(obs))
        if kind is None or kind in ("histology", "margin"):
            continue
        if kind in ("handler", "marker"):
            handler = _observation_handler(obs) if kind == "handler" else _marker
            if handler in _SIZE_HANDLERS or handler in _NODE_HANDLERS:
                continue  # read once the resection is known (read_at_presentation)
            if handler is not None and not (
                    _stains(obs, handler)
                    and _of_another_tumour(r, obs, where, "an immunostain", _STAINED_ELSEWHERE,
                                           "the marker")):
                _read_result(r, obs, where, handler, latest, written)
                _status_in_time(r, obs, where)
        elif kind == "status":
            _disease_status(r, obs, where)
        elif kind == "staging":
            _staging(r, obs, where)
        elif kind == "history":
            _history(where, obs, _history_said(obs), r)
        elif kind == "variant":
            # a germline variant is the patient's own, in every tumour
            if genomics.is_germline(obs) or not _of_another_tumour(
                    r, obs, where, "a gene variant result", _SEQUENCED_ELSEWHERE,
                    "the molecular fact it gives"):
                variants.append((where, obs))
        elif kind == "molecular":
            if not _of_another_tumour(r, obs, where, "a TFE3 rearrangement test",
                                      _SEQUENCED_ELSEWHERE, "molecular.tfe3_fusion"):
                tests.append((where, obs))
        elif kind == "implication":
            implied.append((where, _implication(r, obs, where, _Significances(
                implications, given, disputed), unresolved)))
    reading = genomics.read_variants(variants, implications, unresolved, disputed)
    for where, obs in tests:
        fusion = _rearrangement(r, obs, where)
        if fusion is not None:
            reading.put("tfe3_fusion", fusion, where)
            r.used.add(where)
            r.notes.append(f"{where}: a TFE3 rearrangement test, not an immunostain: read "
                           f"for molecular.tfe3_fusion ({fusion})")
    for name, value in reading.facts.items():
        r.put(f"molecular.{name}", value, reading.sources[name])
    r.used.update(w for w, _o in variants if w in reading.read)
    for where, _obs in variants:
        if where not in r.used:
            r.why[where] = reading.unread.get(
                where, "a variant of a gene other than TSC1, TSC2 or TFE3")
    r.notes.extend(reading.notes)
    for where, named in implied:
        _implication_read(r, where, named)


@dataclass
class _Significances:
    """The clinical significances the implications give each variant (by the identity of
    its resource), read in time order: the one kept (``kept``), the latest time's
    (``given``: each with its time, where and significance), and the variants whose
    significances of one time disagree (``disputed``: why it is unknown)."""

    kept: dict[int, str]
    given: dict[int, list[tuple[Order, str, str]]]
    disputed: dict[int, str]


def _implication(r: Reader, obs: Mapping[str, Any], where: str, sig: _Significances,
                 unresolved: list[str]) -> list[Mapping[str, Any]]:
    """The significance an Observation derived from a variant gives (a genomics-reporting
    DiagnosticImplication), put on each variant of the record its ``derivedFrom`` names,
    found by the one rule for references (:mod:`pecoma.fhir.references`: relative, an
    entry's fullUrl or ``urn:uuid``, absolute on the record's server, versioned); one
    naming no variant of the record is said (``unresolved``). Returns the variants named
    (whether the implication is read is told once they are: :func:`_implication_read`).

    Results are read in time order, by the rule for every result: a later significance of
    one variant replaces an earlier one that differs, with a note naming the one set
    aside; two of one time (:func:`known_later`) that differ leave the significance
    unknown, with a note naming both."""
    named: list[Mapping[str, Any]] = []
    order = r.orders.get(id(obs)) or _order(obs)
    for ref, significance in genomics.implication_of(obs):
        variant = r.resolve(ref)
        if variant is None or r.kinds.get(id(variant)) != "variant":
            unresolved.append(f"{where} derivedFrom {show_value(ref, 100)}")
            continue
        named.append(variant)
        key, label = id(variant), r.labels.get(id(variant), show_value(ref, 100))
        held = sig.given.get(key, [])
        same_time = [x for x in held if not known_later(x[0], order)]
        set_aside = [(w, v) for o, w, v in held if known_later(o, order) and v != significance]
        sig.given[key] = [*same_time, (order, where, significance)]
        rivals = [(w, v) for _o, w, v in same_time if v != significance]
        if rivals:
            other, said = rivals[-1]
            sig.kept.pop(key, None)
            sig.disputed[key] = f"{where} says {_words(significance)}, {other} {_words(said)}"
            r.notes.append(f"{label}: its clinical significance is given differently by "
                           f"{where} ({_words(significance)}) and {other} ({_words(said)}), "
                           f"and neither is the later result ({OF_ONE_TIME}): its "
                           "significance is unknown")
            continue
        sig.disputed.pop(key, None)  # (one of one time with it would have disagreed)
        sig.kept[key] = significance
        for other, said in set_aside:
            r.notes.append(f"{label}: the clinical significance {where} gives "
                           f"({_words(significance)}), the later result, is kept; the earlier "
                           f"{other} ({_words(said)}) is set aside")
    return named


def _words(significance: str) -> str:
    return significance.replace("_", " ")


def _implication_read(r: Reader, where: str, named: list[Mapping[str, Any]]) -> None:
    """An implication is read when a variant it names is read; otherwise it is listed as
    not read, with why: it names no variant of the record, or only variants not read
    (entered in error, of another tumour, ...: the variant's own reason)."""
    labels = [r.labels.get(id(v), "a variant") for v in named]
    if any(label in r.used for label in labels):
        r.used.add(where)
    elif not named:
        r.why[where] = ("a clinical significance of a variant the record does not hold (its "
                        "derivedFrom names no genomic variant among the resources read)")
    else:
        why = "; ".join(f"{label}: {_variant_not_read(r, v, label)}"
                        for v, label in zip(named, labels, strict=True))
        r.why[where] = f"a clinical significance of a variant not read ({why})"


def _variant_not_read(r: Reader, variant: Mapping[str, Any], label: str) -> str:
    status = variant.get("status")
    if status in _IGNORED_OBS_STATUS:
        return f"status '{status}'"
    return r.why.get(label, "not read")


def _read_result(r: Reader, obs: Mapping[str, Any], where: str, handler: _Handler,
                 latest: dict[str, list[tuple[Order, str, Any]]],
                 written: dict[tuple[tuple[str, str], ...], set[str]]) -> None:
    """One result read by its handler, in time order: the later result wins, results of
    one time that disagree leave the fact unknown, and a later absent one makes it
    unknown again."""
    mark = len(r.puts)
    handler(r, obs, where)
    if where not in r.why:  # else not read, and why
        r.used.add(where)
    gave = sorted(set(r.puts[mark:]))
    if not gave and where in r.why and handler in _FACT_OF:
        r.value_not_read(_FACT_OF[handler], where)
    if gave:
        _of_one_time(r, obs, where, gave, latest)
        _preliminary(r, obs, where, gave)
    _later_absent(r, obs, where, gave, written)


def read_at_presentation(observations: list[tuple[str, dict[str, Any]]], r: Reader) -> None:
    """The primary PEComa's size (S06) and the nodal status at presentation (S11), read
    once the resection of the primary is known.

    The size: the latest size of the primary (:func:`_other_lesion`) measured on or before
    its resection, or on its specimen (:func:`_after_resection`). A size set aside is no
    later result of the primary's size: the one an earlier result gave stands, and with
    none the size stays unknown (asked).

    The nodes: the later result wins, as for any fact, except that a pathological
    regional nodes category (pN) outranks a clinical one (cN) whatever their times, and
    only a later pathological one replaces it; a clinical category dated after the
    resection of the primary is set aside, noted (:func:`_not_nodes_at_presentation`)."""
    latest: dict[str, list[tuple[Order, str, Any]]] = {}
    written: dict[tuple[tuple[str, str], ...], set[str]] = {}
    pathological: str | None = None  # the pathological category read
    clinical: set[str] = set()  # the clinical categories read
    for where, obs in observations:
        if r.kinds.get(id(obs)) != "handler":
            continue
        handler = _observation_handler(obs)
        if handler in _NODE_HANDLERS:
            if handler is _n_category and _about_another_disease(r, obs, where):
                continue  # another cancer's staging: no later result of the PEComa's nodes
            other = _other_primary_beside(r, obs) if handler is _n_category else None
            if other is not None:
                # whose staging it is cannot be told: no result of the PEComa's nodes
                r.why[where] = ("a TNM regional nodes category naming no Condition, beside "
                                f"another primary cancer ({other}): not taken as the "
                                "PEComa's")
                r.notes.append(f"{where}: not read as stage.lymph_nodes: it names no "
                               "Condition (no focus) and the record holds another primary "
                               f"cancer ({other}) besides the PEComa, so whose nodes it "
                               "states cannot be told; give its focus (the Condition it is "
                               "about), or record the PEComa's nodal status")
                continue
            aside = _not_nodes_at_presentation(r, obs, pathological)
            if aside is not None:
                r.why[where] = ("a clinical regional nodes category: not the nodal status "
                                "at presentation")
                r.notes.append(f"{where}: not read as stage.lymph_nodes: {aside}")
                continue
            kind = _n_kind(obs)
            if kind == "pathological":
                # a pathological category outranks a clinical one of any time
                pathological = where
                latest["stage.lymph_nodes"] = [x for x in latest.get("stage.lymph_nodes", [])
                                               if x[1] not in clinical]
            elif kind == "clinical":
                clinical.add(where)
            _read_result(r, obs, where, handler, latest, written)
            continue
        if handler is None or handler not in _SIZE_HANDLERS:
            continue
        other = _other_lesion(r, obs)
        if other is not None:
            r.why[where] = "a size of another lesion than the PEComa, or not shown to be its"
            r.notes.append(f"{where}: not read as tumour.size: {other}")
            continue
        after = _after_resection(r, obs)
        if after is not None:
            r.why[where] = "a size measured after the resection of the primary: not its size"
            r.notes.append(f"{where}: not read as tumour.size: {after}")
            continue
        _read_result(r, obs, where, handler, latest, written)


#: The codes of a pathological (pN) and of a clinical (cN) regional nodes category
#: (LOINC 21900-6, 21906-3; SNOMED CT "pN category", "cN category").
_PATHOLOGICAL_N: Final = frozenset({(c.LOINC, "21900-6"), (c.SNOMED, "371494008")})
_CLINICAL_N: Final = frozenset({(c.LOINC, "21906-3"), (c.SNOMED, "399534004")})


def _n_kind(obs: Mapping[str, Any]) -> str | None:
    """'pathological' or 'clinical' for a regional nodes category that says which (by its
    code), else ``None`` (the project's own nodal Observation, an N category of no kind)."""
    found = set(codings(obs.get("code")))
    if found & _PATHOLOGICAL_N and not found & _CLINICAL_N:
        return "pathological"
    if found & _CLINICAL_N and not found & _PATHOLOGICAL_N:
        return "clinical"
    return None


def _not_nodes_at_presentation(r: Reader, obs: Mapping[str, Any],
                               pathological: str | None) -> str | None:
    """Why a clinical regional nodes category is not the nodal status at presentation
    (S11), or ``None``: a pathological category was read (the nodes examined in the
    specimen, which a clinical category does not un-say), or it is dated after the
    resection of the primary (what was seen then, after the nodes were removed, not at
    presentation). A category dated only to the month or year counts from its first day;
    an undated one is read."""
    if _n_kind(obs) != "clinical":
        return None
    if pathological is not None:
        return (f"a clinical category beside the pathological one of {pathological}, which "
                "outranks it for the nodal status at presentation")
    measured = _first_day(obs)
    days = r.resection_days
    if days and measured is not None and measured > days[0]:
        return (f"a clinical category of {measured.isoformat()}, after "
                f"{_resection_named(r, days[0])}: what was seen then, not "
                "the nodal status at presentation")
    return None


def _resection_named(r: Reader, day: dt.date, which: str = "the resection of the primary"
                     ) -> str:
    """A resection as results are placed against it: ``which`` and its day, or, for one
    given as the patient's age, the first day it may be and what gives it (a result
    after that day may be after the operation)."""
    aged = r.resection_ages.get(day)
    if aged is None:
        return f"{which} ({day.isoformat()})"
    return f"the first day {which} may be ({day.isoformat()}: {aged})"


#: Methods of a tumour size that measure a lesion in the body (imaging, examination),
#: not a resected specimen: SNOMED CT 363679005 imaging, 363680008 radiographic imaging,
#: 77477000 CT, 113091000 MRI, 16310003 ultrasound, 82918005 PET, 5880005 physical
#: examination, or such words in the method.
_IN_THE_BODY_METHODS: Final = frozenset({
    "363679005", "363680008", "77477000", "113091000", "16310003", "82918005", "5880005"})
_IN_THE_BODY_WORDS: Final = re.compile(
    r"\b(?:imaging|tomograph\w*|magnetic resonance|mri|ct|ultraso\w*|sonograph\w*|pet"
    r"|radiograph\w*|x-?ray|scan|physical exam\w*|palpation)\b")


def _after_resection(r: Reader, obs: Mapping[str, Any]) -> str | None:
    """Why a size of the primary's site is not the primary's size for having been
    measured after the primary was removed, or ``None``. The primary's size (S06) is its
    size as resected or before treatment; after the day of the first resection of the
    primary recorded as done, a size is of what was seen then (a recurrence, residual
    disease, another lesion), bar the resected specimen's, reported up to
    ``SPECIMEN_REPORT_DAYS`` after the operation: not measured by imaging or examination
    (its method), and before any later resection (whose specimen it may be). No
    resection done, or none dated: the tumour is in place, and the latest size is its
    size. A size dated only to the month or year counts from the period's first day; an
    undated one is read."""
    days = r.resection_days
    measured = _first_day(obs)
    if not days or measured is None or measured <= days[0]:
        return None
    resected = _resection_named(r, days[0])
    seen = ("it may be a recurrence, residual disease or another lesion; the primary's "
            "size is its size as resected or before treatment")
    method = obs.get("method")
    if any(system == c.SNOMED and code in _IN_THE_BODY_METHODS
           for system, code in codings(method)) or _IN_THE_BODY_WORDS.search(
               m.lower_words(method)):
        return (f"measured in the body ({show_value(m.lower_words(method), 60)}) on "
                f"{measured.isoformat()}, after {resected}: {seen}")
    later = [d for d in days[1:] if d <= measured]
    if later:
        return (f"measured on {measured.isoformat()}, after {resected} and after "
                f"{_resection_named(r, later[-1], 'a later resection')}, whose specimen it "
                f"may be: {seen}")
    if measured > days[0] + dt.timedelta(days=SPECIMEN_REPORT_DAYS):
        maybe = (", so it may be as long after the operation" if days[0] in r.resection_ages
                 else "")
        return (f"measured on {measured.isoformat()}, more than {SPECIMEN_REPORT_DAYS} "
                f"days after {resected}{maybe} (no report of its specimen): {seen}")
    return None


def _first_day(obs: Mapping[str, Any]) -> dt.date | None:
    """The first day an observation's result may be of: its effective day, or the
    first day of the month or year it is dated to; ``None`` when undated."""
    period = obs.get("effectivePeriod")
    raw = next((x for x in (obs.get("effectiveDateTime"), obs.get("effectiveInstant"),
                            period.get("start") if isinstance(period, dict) else None)
                if isinstance(x, str)), None)
    if raw is None:
        return None
    if len(raw) < 10 and re.fullmatch(r"\d{4}(-\d{2})?", raw):
        raw = f"{raw}-01-01"[:10]
    return day_of(raw)


def _at(r: Reader, path: str) -> Any:
    node: Any = r.data
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _forget(r: Reader, path: str) -> None:
    """The fact at ``path`` unknown again."""
    node: Any = r.data
    *parents, leaf = path.split(".")
    for part in parents:
        node = node.get(part, {}) if isinstance(node, dict) else {}
    if isinstance(node, dict):
        node.pop(leaf, None)
    r.sources.pop(path, None)


def _of_one_time(r: Reader, obs: Mapping[str, Any], where: str, gave: list[str],
                 latest: dict[str, list[tuple[Order, str, Any]]]) -> None:
    """A fact two results of one time give differently (:func:`known_later`: the same
    effective time, or a date alone holding the other's, and neither issued later nor a
    correction of the other) is unknown: the order of the bundle's entries says nothing
    about which is right. ``gave``: the facts ``obs`` gave."""
    order = r.orders.get(id(obs)) or _order(obs)
    for path in gave:
        value = _at(r, path)
        same_time = [x for x in latest.get(path, []) if not known_later(x[0], order)]
        rivals = [(w, v) for _o, w, v in same_time if v != value]
        latest[path] = [*same_time, (order, where, value)]
        if rivals:
            _forget(r, path)
            other, said = rivals[-1]
            r.notes.append(f"{path}: {where} ({show_value(value)}) and {other} "
                           f"({show_value(said)}) disagree and neither is the later result, "
                           f"so {path} is unknown ({OF_ONE_TIME})")


def _preliminary(r: Reader, obs: Mapping[str, Any], where: str, gave: list[str]) -> None:
    """A note when a fact was taken from a preliminary result (it may still change), or
    from one whose status is ``unknown`` (R4 observation-status: the system that sent it
    does not know which of the statuses applies, so it may be preliminary, final, or
    cancelled or entered in error, which are not read): read as a preliminary result is
    (a final result of its time outranks it), said, and what to check. It is read rather
    than left out: a result with a value whose status its system does not track is far
    more often the result itself than a withdrawn one, and leaving every such fact
    unknown would ask again what the record answers; the note names the doubt."""
    if obs.get("status") == "preliminary":
        r.notes.append(f"{where}: {', '.join(gave)} read from a preliminary result (status "
                       "'preliminary'): it may still change; check the final report")
    elif obs.get("status") == "unknown":
        r.notes.append(f"{where}: {', '.join(gave)} read from a result whose status is "
                       "'unknown' (the system that sent it does not know which status "
                       "applies: the result may be preliminary or final, or may have been "
                       "cancelled or entered in error): read as a preliminary result is, "
                       "it may still change or not stand at all; check in the final report "
                       "that it stands")


def _later_absent(r: Reader, obs: Mapping[str, Any], where: str, gave: list[str],
                  written: dict[tuple[tuple[str, str], ...], set[str]]) -> None:
    """Observations come in time order and the later one wins: one whose result is absent
    (an amended result withdrawn: ``dataAbsentReason``), or that the reader could not take
    as a value (``> 5 cm``, "no positive staining", a count per 10 HPF: its why is noted),
    makes the facts an earlier one of the same code gave unknown again, rather than
    leaving the earlier value standing."""
    if gave:
        # (a fact two results of one time disagree on is unknown already: not written)
        written[_code_key(obs)] = {p for p in gave if p in r.sources}
        return
    reason = _absent_reason(obs)
    if reason is None:
        declined = [why for at, why in r.why.items() if at == where or at.startswith(where + ".")]
        if declined:
            reason = f"not read as a value: {declined[0]}"
    code = _code_key(obs)
    if reason is None or reason == "not-performed" or not written.get(code):
        return
    for path in sorted(written.pop(code)):
        _forget(r, path)
        r.notes.append(f"{where}: the latest result is absent ({reason}): {path} is unknown, "
                       "not the earlier value")


def _code_key(obs: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """An observation's code, as a key (its codings, else its words)."""
    return tuple(sorted(codings(obs.get("code")))) or (("text", m.lower_words(obs.get("code"))),)


def _about_another_disease(r: Reader, obs: Mapping[str, Any], where: str) -> bool:
    """Whether a disease status or a staging result is about another disease than the
    PEComa (said in ``r.why``): its focus (or related condition) is another Condition
    (a breast cancer's own M1), or, naming none, it is dated more than
    ``STAGING_BEFORE_DIAGNOSIS_MONTHS`` before the PEComa's diagnosis."""
    for cond in about_conditions(obs, r):
        if not of_the_pecoma(cond, r):
            named = r.labels.get(id(cond)) or show_value(m.lower_words(cond.get("code")), 60)
            r.why[where] = f"it is about {named}, not the PEComa"
            return True
    diagnosed = day_of(r.data.get("diagnosis", {}).get("date"))
    day = day_of(obs.get("effectiveDateTime"))
    # a diagnosis dated outside the dates pecoma accepts (0001-01-01, an EHR's placeholder
    # for an unknown day) is refused, named, when the case is built: no month is counted
    # back from it here (six months before 0001-01-01 is no date)
    # a diagnosis date that is only the day the Condition was entered (its recordedDate,
    # no onset) is the latest the diagnosis can be, not its day: nothing is set aside by it
    if (not obs.get("focus") and diagnosed is not None and day is not None
            and "diagnosis.date" not in r.entered_dates
            and range_rule(diagnosed) is None
            and day < add_months(diagnosed, -STAGING_BEFORE_DIAGNOSIS_MONTHS)):
        r.why[where] = (f"dated {day.isoformat()}, more than "
                        f"{STAGING_BEFORE_DIAGNOSIS_MONTHS} months before the PEComa's "
                        "diagnosis, and naming no Condition: not about the PEComa")
        return True
    return False


def _other_primary_beside(r: Reader, obs: Mapping[str, Any]) -> str | None:
    """Where the record's other primary cancer is, when a result names no Condition it is
    about (no ``focus`` nor related condition resolving to one) while the record holds
    another present primary cancer besides the PEComa (``Reader.other_cancers``, the
    cancers that make a metastasis naming no primary refused): whose result it is cannot
    be told, so it is not taken as the PEComa's. ``None`` otherwise (no other primary, or
    a result naming the Condition it is about)."""
    if not r.other_cancers or about_conditions(obs, r):
        return None
    return r.other_cancers[0]


#: Why an immunostain naming no tumour may be another cancer's: each marker the case
#: records is also stained in other cancers' work-up.
_STAINED_ELSEWHERE: Final = (
    "HMB-45, Melan-A and MITF also mark melanoma; SMA, desmin and h-caldesmon many "
    "tumours and the myoepithelial cells of a breast biopsy; TFE3 and cathepsin K renal "
    "cell carcinomas")
#: Why a gene result naming no tumour may be another cancer's.
_SEQUENCED_ELSEWHERE: Final = (
    "tumour sequencing finds TSC1 and TSC2 variants in other cancers (bladder, liver, "
    "kidney, breast) and a TFE3 rearrangement in renal cell carcinoma; a variant stated "
    "germline is the patient's and is read")


def _of_another_tumour(r: Reader, obs: Mapping[str, Any], where: str, what: str,
                       elsewhere: str, fact: str) -> bool:
    """Whether an immunostain or a gene result, facts the case records of the PEComa
    itself, may be another tumour's, and so is not read (said in ``r.why``): its focus (or
    related condition) is another Condition than the PEComa's (a breast cancer, a
    fibroid), or, beside another present primary cancer (:func:`_other_primary_beside`),
    it names no Condition (no focus; a Specimen or the Patient names none): whose tumour
    was stained or sequenced cannot be told (``elsewhere`` says why), and a result taken
    from another tumour would complete the panel S24 asks for (or give the molecular
    context) for a PEComa never so tested. ``fact`` stays unknown unless another result
    gives it, asked by the engine, with a note saying what to record."""
    for cond in about_conditions(obs, r):
        if not of_the_pecoma(cond, r):
            named = r.labels.get(id(cond)) or show_value(m.lower_words(cond.get("code")), 60)
            r.why[where] = f"{what} about {named}, not the PEComa"
            return True
    other = _other_primary_beside(r, obs)
    if other is None:
        return False
    r.why[where] = (f"{what} naming no Condition, beside another primary cancer "
                    f"({other}): not taken as the PEComa's")
    r.notes.append(f"{where}: not read as the PEComa's: {what} naming no Condition (no "
                   f"focus), and the record holds another primary cancer ({other}) "
                   f"besides the PEComa, so whose tumour it is of cannot be told "
                   f"({elsewhere}); {fact} stays unknown unless another result gives it; "
                   "give its focus (the PEComa Condition) if it is the PEComa's")
    return True


def _not_attributed(r: Reader, obs: Mapping[str, Any], where: str, other: str, what: str,
                   said: str, spread: bool) -> None:
    """A staging or disease-status result naming no Condition beside another primary
    cancer (:func:`_other_primary_beside`): not read as the PEComa's. One stating distant
    spread (``spread``: M1, stage IV, "distant metastasis present", or a staging value
    pecoma cannot read) is not taken as none either: whether the PEComa has spread is
    unknown, the disease is never localized beside it, and with no other status the record
    is refused, naming it and the question (``Reader.spread_unattributed``)."""
    r.why[where] = (f"a {what} naming no Condition, beside another primary cancer "
                    f"({other}): not taken as the PEComa's")
    if not spread or (obs.get("valueCodeableConcept") is None
                      and obs.get("dataAbsentReason") is not None):
        return
    r.spread_unattributed = r.spread_unattributed or where
    r.spread_unattributed_days.append((day_of(obs.get("effectiveDateTime")), where))
    r.notes.append(f"{where}: the {what} {show_value(said, 60)} names no Condition (no "
                   f"focus) and the record holds another primary cancer ({other}) besides "
                   "the PEComa: whose spread it states cannot be told, so it is not taken "
                   "as the PEComa's, nor as none; whether the PEComa has distant metastases "
                   "is unknown and the disease is not taken as localized beside it, unless "
                   "the PEComa's own staging, dated no earlier, says M0; give the result's "
                   "focus (the Condition it is about), or record the PEComa's metastases, "
                   "its disease status or its own distant metastases category")


def _disease_status(r: Reader, obs: Mapping[str, Any], where: str) -> None:
    """mCODE CancerDiseaseStatus: evidence of the trend, listed; never a stage by itself,
    except 'distant metastasis present', which makes the disease metastatic. One naming
    no Condition beside another primary cancer is not the PEComa's
    (:func:`_not_attributed`)."""
    if _about_another_disease(r, obs, where):
        return
    concept = obs.get("valueCodeableConcept")
    other = _other_primary_beside(r, obs)
    if other is not None:
        spread = (c.SNOMED, m.SNOMED_DISTANT_METASTASIS_PRESENT) in codings(concept)
        _not_attributed(r, obs, where, other, "cancer disease status",
                       m.lower_words(concept) or "(no value)", spread)
        return
    said = None
    # Observations come in time order: the latest statement decides; a distant metastasis
    # stated before it stays a history of metastatic cancer (a remission after it is no
    # localized disease)
    earlier = r.distant_metastasis_stated
    r.distant_metastasis_stated = None
    for system, code in codings(concept):
        if system == c.SNOMED and code in m.DISEASE_STATUS_TREND:
            said = m.DISEASE_STATUS_TREND[code]
            if code == m.SNOMED_DISTANT_METASTASIS_PRESENT:
                r.distant_metastasis_stated = where
    if earlier is not None and r.distant_metastasis_stated is None \
            and r.metastatic_history is None:
        r.metastatic_history = earlier
    said = said or m.lower_words(concept) or "(no value)"
    _spread_in_time(r, obs, where, r.distant_metastasis_stated is not None,
                    f"cancer disease status '{said}'")
    _evidence(r, obs, where, f"cancer disease status '{said}'")


def _spread_in_time(r: Reader, obs: Mapping[str, Any], where: str, present: bool,
                    said: str) -> None:
    """A statement of distant spread (a disease status, an M category of M1: ``present``
    whether it says distant metastases are present) read in time order, by the rule for
    every result (:func:`known_later`): the later decides (as the caller has read it),
    and two of one time that differ, one saying distant metastases are present and the
    other not, leave it undecided, whatever their order in the bundle: the metastases
    are neither taken as present now nor as gone (a history of metastatic cancer: the
    disease is never localized, and its status is asked unless the metastases recorded
    give it), noted with both."""
    order = r.orders.get(id(obs)) or _order(obs)
    same_time = [x for x in r.spread_statements if not known_later(x[0], order)]
    rivals = [x for x in same_time if x[3] != present]
    r.spread_statements = [*same_time, (order, where, said, present)]
    r.spread_all.append((order, where, said, present))
    if not rivals:
        r.spread_disputed = None
        return
    _o, other, other_said, _p = rivals[-1]
    r.distant_metastasis_stated = None
    r.metastatic_history = r.metastatic_history or (where if present else other)
    r.spread_disputed = (f"{where} ({said}) and {other} ({other_said}) differ on whether "
                         "distant metastases are present, and neither is the later result "
                         f"({OF_ONE_TIME})")
    r.notes.append(f"{r.spread_disputed}: distant metastases are taken neither as present "
                   "now nor as gone (a history of metastatic cancer: the disease is not "
                   "taken as localized); record the disease status, or the metastases "
                   "present now")


def _status_in_time(r: Reader, obs: Mapping[str, Any], where: str) -> None:
    """The project's own disease status, once read (``where`` gave ``stage.status``),
    weighed in time order with the statements of distant spread (:func:`_spread_in_time`)
    when it says the disease has not spread distantly ('localized', 'locally advanced,
    unresectable'): a later M1 or "distant metastasis present" outweighs it, and one of
    its time that differs leaves the status undecided
    (:func:`pecoma.fhir.read_conditions.derive_status`)."""
    value = r.data.get("stage", {}).get("status")
    if r.sources.get("stage.status") != where or value not in NO_DISTANT_SPREAD:
        return
    r.status_orders[where] = r.orders.get(id(obs)) or _order(obs)
    _spread_in_time(r, obs, where, False, f"disease status '{value.replace('_', '-')}'")


def _evidence(r: Reader, obs: Mapping[str, Any], where: str, text: str) -> None:
    """A result listed as evidence of the disease's course, by its day (or its period's
    days: a status over a period is shown with both ends, never as undated)."""
    day = day_of(obs.get("effectiveDateTime")) or day_of(obs.get("effectiveInstant"))
    period = obs.get("effectivePeriod")
    ends = ([day_of(period.get(k)) for k in ("start", "end")]
            if day is None and isinstance(period, dict) else [None, None])
    if day is not None:
        key = when = day.isoformat()
    elif ends[0] is not None or ends[1] is not None:
        first, last = (x.isoformat() if x else "" for x in ends)
        key = first or last
        when = (f"{first} to {last}" if first and last
                else f"from {first}" if first else f"until {last}")
    else:
        key = when = "undated"
    r.evidence.append((key, f"{when}: {text} ({where})"))
    r.used.add(where)


def _staging(r: Reader, obs: Mapping[str, Any], where: str) -> None:
    """mCODE TNM staging. An M category of M1 states distant metastases, as a
    CancerDiseaseStatus 'distant metastasis present' does (in time order with it). A stage
    group IV says the disease reached beyond the primary (distant metastases, or involved
    nodes: stage IV of soft-tissue sarcoma includes N1), so a denial of metastatic history
    no longer makes it localized. Other stage groups are not read; a regional nodes
    category is the nodal status (:func:`_n_category`), a T category is not read. One
    naming no Condition beside another primary cancer is not the PEComa's
    (:func:`_not_attributed`)."""
    if _about_another_disease(r, obs, where):
        return
    concept = m.staging_value(obs)
    said = m.staging_value_shown(obs)
    other = _other_primary_beside(r, obs)
    if set(codings(obs.get("code"))) & m.M_CATEGORY_CODES:
        category = m.m_category(concept)
        if other is not None:
            _not_attributed(r, obs, where, other, "TNM distant metastases category", said,
                           category != "M0")
        elif category == "M1":
            r.distant_metastasis_stated = where
            _spread_in_time(r, obs, where, True, f"TNM distant metastases category '{said}'")
            _evidence(r, obs, where, f"TNM distant metastases category '{said}'")
        elif category == "M0":
            r.why[where] = (f"a TNM distant metastases category ({show_value(said, 60)}) "
                            "that states no distant metastasis: not a disease status")
            if about_conditions(obs, r):  # the PEComa's (another's returned above)
                r.pecoma_m0.append((day_of(obs.get("effectiveDateTime")), where))
        else:
            _staging_unread(r, obs, where, "TNM distant metastases category", said,
                            "whether distant metastases are present")
        return
    group = m.stage_group(concept)
    if other is not None:
        _not_attributed(r, obs, where, other, "stage group", said, group != "below IV")
    elif group == "IV":
        r.stage_iv = r.stage_iv or where
        r.stage_iv_all.append((r.orders.get(id(obs)) or _order(obs), where))
        _evidence(r, obs, where, f"stage group '{said}'")
    elif group == "below IV":
        r.why[where] = (f"a stage group ({show_value(said, 60)}) below IV: not a disease "
                        "status")
    else:
        _staging_unread(r, obs, where, "stage group", said, "whether it is stage IV")


def _staging_unread(r: Reader, obs: Mapping[str, Any], where: str, what: str, said: str,
                    unknown: str) -> None:
    """A staging value pecoma cannot read (a code it does not know, or codes and words that
    disagree): unknown, never taken as M0 or as a stage below IV; a denial of metastatic
    history then no longer makes the disease localized (``r.staging_unread``)."""
    if obs.get("dataAbsentReason") is not None and m.staging_value(obs) is None:
        r.why[where] = f"a {what} with no value (dataAbsentReason): not a disease status"
        return
    r.staging_unread = r.staging_unread or where
    r.staging_unread_all.append(where)
    r.why[where] = (f"a {what} pecoma cannot read ({show_value(said, 60)}): "
                    f"{unknown} is unknown")
    r.notes.append(f"{where}: the {what} {show_value(said, 60)} is a code or text pecoma "
                   f"does not know: {unknown} is unknown (never taken as none); the disease "
                   "is not taken as localized from a denial of metastatic history beside "
                   "it; check the staging and record the disease status")
