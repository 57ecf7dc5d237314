"""The research exports at the edges of the relapse rule, and FHIR ids.

- Every resource id of the FHIR bulk export is a FHIR R4 id (at most 64 letters, digits,
  '-', '.'), unique, the same in every export, and the references follow it; the
  validation library accepts longer ids, so the length is checked here.
- A scan that found disease after a contact alive without disease gives a status
  'worsened' after the remission (the patient's latest status is not remission).
- Disease a scan finds in a patient never free of it (never resected, metastatic at
  presentation) is no recurrence: no OMOP 32529 episode, no FHIR 'worsened', as
  recurrence-free survival leaves such a patient out.
- A scan on the day of the resection counts as follow-up in the exports as in the
  worklist and recurrence-free survival (one boundary)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pecoma.case import parse_case
from pecoma.registry.fhir_bulk_resources import MCODE, build_bulk
from pecoma.registry.omop import pseudonym
from pecoma.registry.routine import RecordedRelapse, recorded_relapses, relapse_scans
from pecoma.store.repository import OutcomeView, ScanData
from test_registry_relapse_sources import resected_high_risk

from registry_support import variant

ON = dt.date(2024, 12, 1)
WORSENED, REMISSION = "271299001", "550991000124107"
# the FHIR R4 id datatype, as the specification writes it
R4_ID = re.compile(r"[A-Za-z0-9\-\.]{1,64}")


def contact(day: str, vital: str, k: int = 1) -> OutcomeView:
    return OutcomeView(k, "last_contact", dt.date.fromisoformat(day), vital, None, None,
                       dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "registrar")


def ct(day: str, finding: str = "metastasis") -> ScanData:
    return ScanData(dt.date.fromisoformat(day), "chest_ct", finding)


def every_feature_present() -> dict[str, Any]:
    """The resected high-risk case with every histological feature present: the writer
    then gives its longest local ids (histology-high-nuclear-grade-and-cellularity)."""
    case = resected_high_risk()
    case["histology"].update(infiltrative_growth="present",
                             high_nuclear_grade_and_cellularity="present",
                             vascular_invasion="present")
    return case


def export(rid: str, case: dict[str, Any], outcomes: list[OutcomeView],
           scans: list[ScanData], secret: bytes | None = None
           ) -> dict[str, list[dict[str, Any]]]:
    import orjson

    by_type, left_out = build_bulk([(rid, case, None)], {rid: outcomes}, ON, secret=secret,
                                   scans={rid: scans})
    assert left_out == {}
    return {k: [orjson.loads(line) for line in lines] for k, lines in by_type.items()}


def statuses(data: dict[str, list[dict[str, Any]]]) -> list[tuple[str, str]]:
    return sorted((o["effectiveDateTime"], o["valueCodeableConcept"]["coding"][0]["code"])
                  for o in data["Observation"]
                  if o.get("meta", {}).get("profile") == [MCODE["disease-status"]])


class TestFhirIds:
    # a registry id of 64 characters, one ('_') that FHIR does not allow: the plain
    # export's patient id is then the id with '-' and a digest, longer than 64 before
    # the fix, and every other id is the patient's id and more
    LONG = "R" * 60 + "_abc"

    def check(self, data: dict[str, list[dict[str, Any]]]) -> None:
        ids = [res["id"] for rs in data.values() for res in rs]
        bad = [i for i in ids if not R4_ID.fullmatch(i)]
        assert bad == []  # every id a FHIR R4 id: 64 characters at most
        assert len(ids) == len(set(ids))  # unique in the export
        # every reference names a resource of the export
        known = {f"{res['resourceType']}/{res['id']}" for rs in data.values() for res in rs}
        refs = [ref["reference"] for rs in data.values() for res in rs
                for key in ("subject", "focus")
                for ref in ([res[key]] if isinstance(res.get(key), dict) else res.get(key, []))]
        assert refs and set(refs) <= known

    def test_a_64_character_registry_id(self) -> None:
        """Plain: the histology observations (histology-high-nuclear-grade-and-
        cellularity, 77 characters after a 32-hex pseudonym, more after this id), the
        diagnosis a status focuses on and the statuses all stay within 64 characters,
        and a second export gives the same ids (stable)."""
        outcomes = [contact("2024-01-01", "alive_without_disease")]
        scans = [ct("2024-06-01")]
        data = export(self.LONG, every_feature_present(), outcomes, scans)
        self.check(data)
        again = export(self.LONG, every_feature_present(), outcomes, scans)
        assert [r["id"] for rs in data.values() for r in rs] == \
            [r["id"] for rs in again.values() for r in rs]
        # the statuses are there (one remission, one worsened) and focus on the diagnosis
        assert statuses(data) == [("2024-01-01", REMISSION), ("2024-06-01", WORSENED)]

    def test_pseudonymised(self) -> None:
        """A pseudonym is 32 hex digits: '-histology-high-nuclear-grade-and-cellularity'
        made 77 characters; shortened now, the pseudonym still leads it."""
        secret = b"network-secret-of-32-bytes-long!"
        data = export(self.LONG, every_feature_present(),
                      [contact("2024-01-01", "alive_without_disease")], [ct("2024-06-01")],
                      secret=secret)
        self.check(data)
        assert all(res["id"].startswith(pseudonym(self.LONG, secret))
                   for rs in data.values() for res in rs)

    def test_short_ids_are_kept_as_they_were(self) -> None:
        """An id within 64 characters is not touched: P-1-pecoma-diagnosis."""
        data = export("P-1", resected_high_risk(), [], [])
        assert {c["id"] for c in data["Condition"]} == {"P-1-pecoma-diagnosis"}


class TestScanAfterRemission:
    def test_latest_status_is_worsened(self) -> None:
        """Local recurrence on an MRI of 2024-01-01, a contact alive without disease on
        2024-03-01, a new local recurrence on an MRI of 2024-09-01: the statuses are
        worsened, remission, worsened; the latest (2024-09-01) says the disease is back,
        as the worklist (suspended at the scan) does. Before: no status for 2024-09-01, so
        the latest read 'in full remission'."""
        data = export("P-10", resected_high_risk(),
                      [contact("2024-03-01", "alive_without_disease")],
                      [ScanData(dt.date(2024, 1, 1), "mri_primary", "local_recurrence"),
                       ScanData(dt.date(2024, 9, 1), "mri_primary", "local_recurrence")])
        assert statuses(data) == [("2024-01-01", WORSENED), ("2024-03-01", REMISSION),
                                  ("2024-09-01", WORSENED)]

    def test_a_relapse_seen_again_adds_nothing(self) -> None:
        """Two CTs seeing one metastasis with nothing between: one worsened status (the
        second scan is that relapse seen again, OMOP's one episode)."""
        data = export("P-4", resected_high_risk(), [],
                      [ct("2024-02-01"), ct("2024-06-01")])
        assert statuses(data) == [("2024-02-01", WORSENED)]


class TestNeverFreeOfDisease:
    def test_never_resected(self) -> None:
        """Surgery not performed: the primary is in place; a metastasis a CT finds is
        progression of disease never removed, no recurrence (RFS leaves the patient out):
        no relapse, no 'worsened' from the scan."""
        case = variant(resected_high_risk(), surgery={"status": "not_performed"})
        assert relapse_scans(parse_case(case), [ct("2024-06-01")]) == []
        assert recorded_relapses(parse_case(case), [], [ct("2024-06-01")]) == ()
        assert statuses(export("P-7", case, [], [ct("2024-06-01")])) == []

    def metastatic_at_presentation(self, free: str | None = None) -> dict[str, Any]:
        """A lung metastasis detected 2023-01-05, before the resection of 2023-01-10."""
        stage = {"status": "metastatic", "lymph_nodes": "negative",
                 "metastases": [{"site": "lung", "detected_on": "2023-01-05"}]}
        case = variant(resected_high_risk(), stage=stage)
        if free is not None:
            case["free_of_disease"] = {"since": free, "by": "surgery"}
        return case

    def test_metastatic_at_presentation(self) -> None:
        """A CT of 2024-06-01 seeing a metastasis: the disease present at presentation,
        never cleared; no recurrence."""
        case = parse_case(self.metastatic_at_presentation())
        assert relapse_scans(case, [ct("2024-06-01")]) == []
        assert recorded_relapses(case, [], [ct("2024-06-01")]) == ()

    def test_metastatic_at_presentation_then_free_of_disease(self) -> None:
        """Free of disease since 2023-06-01 (the metastasis removed): a CT of 2024-06-01
        finding a metastasis is a recurrence after a disease-free stretch; one before
        that date (2023-03-01) is the presenting disease."""
        case = parse_case(self.metastatic_at_presentation(free="2023-06-01"))
        assert relapse_scans(case, [ct("2023-03-01"), ct("2024-06-01")]) == [ct("2024-06-01")]


class TestResectionDay:
    def test_a_scan_on_the_resection_day_counts(self) -> None:
        """Resected 2023-01-10; an MRI that day found a local recurrence. record-scan
        accepts a scan from the surgery on, the worklist suspends at it and RFS counts an
        event at day 0: the exports count it too (before: dropped), one boundary."""
        case = parse_case(resected_high_risk())
        mri = ScanData(dt.date(2023, 1, 10), "mri_primary", "local_recurrence")
        assert recorded_relapses(case, [], [mri]) == (RecordedRelapse(
            "local_recurrence", dt.date(2023, 1, 10), "scheduled_scan",
            scan_on=dt.date(2023, 1, 10)),)

    def test_a_scan_the_day_before_does_not(self) -> None:
        """2023-01-09: before the resection, disease at presentation."""
        case = parse_case(resected_high_risk())
        assert relapse_scans(case, [ct("2023-01-09")]) == []
