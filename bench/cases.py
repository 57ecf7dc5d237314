"""Seeded generator of realistic, valid case dicts for benchmarks (no hypothesis: fast)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

SITES = ["uterus", "broad_ligament", "other_gynecologic", "kidney", "liver", "retroperitoneum",
         "lung", "gastrointestinal", "bladder", "soft_tissue", "other"]
FEATURE = ["present", "absent", "unknown"]
IHC = ["positive", "negative", "not_done", "unknown"]
YESNO = ["yes", "no", "unknown"]


def generate(n: int, seed: int = 20261128) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    base = dt.date(2012, 1, 1)
    for _ in range(n):
        diagnosed = base + dt.timedelta(days=rng.randint(0, 5000))
        operated = diagnosed + dt.timedelta(days=rng.randint(0, 90))
        status = rng.choices(
            ["localized", "metastatic", "recurrent", "locally_advanced_unresectable"],
            weights=[70, 15, 10, 5])[0]
        case: dict[str, Any] = {
            "diagnosis": {"method": rng.choice(["histology_with_ihc", "histology_with_ihc",
                                                "histology_without_ihc", "imaging_only"]),
                          "date": diagnosed.isoformat(),
                          "prior_diagnosis": rng.choice(["none", "none", "leiomyosarcoma",
                                                         "unknown"])},
            "tumour": {"primary_site": rng.choice(SITES),
                       "size": {"value": round(rng.uniform(0.5, 25), 1), "unit": "cm"}},
            "histology": {
                "necrosis": rng.choice(FEATURE),
                "infiltrative_growth": rng.choice(FEATURE),
                "high_nuclear_grade_and_cellularity": rng.choice(FEATURE),
                "vascular_invasion": rng.choice(FEATURE),
                "nuclear_pleomorphism_or_giant_cells": rng.choice(FEATURE),
                "mitoses_per_50_hpf": rng.randint(0, 20),
            },
            "immunohistochemistry": {m: rng.choice(IHC) for m in
                                     ("hmb45", "melan_a", "mitf", "sma", "desmin", "tfe3")},
            "stage": {"status": status, "lymph_nodes": rng.choice(["negative", "positive",
                                                                   "unknown"])},
            "surgery": {"status": "performed", "date": operated.isoformat(),
                        "margin": rng.choice(["R0", "R0", "R1", "R2", "uncertain", "unknown"])},
            "systemic": {"mtor_inhibitor_available": rng.choice(YESNO),
                         "mtor_inhibitor_contraindicated": rng.choice(YESNO)},
        }
        if case["diagnosis"]["method"] == "imaging_only":
            case["surgery"]["margin"] = "unknown"  # a margin is read on histology
        if status == "locally_advanced_unresectable":
            case["surgery"] = {"status": "not_performed"}
            case["stage"]["resectable"] = "no"
        elif status != "localized":
            case["stage"]["resectable"] = rng.choice(YESNO)
            case["stage"]["complete_excision_feasible"] = rng.choice(YESNO)
            if case["stage"]["resectable"] == "yes" and \
                    case["stage"]["complete_excision_feasible"] == "no":
                # metastatic foci that cannot all go make the disease unresectable
                case["stage"]["complete_excision_feasible"] = "unknown"
            found = operated + dt.timedelta(days=rng.randint(1, 2500))
            case["stage"]["metastases"] = [
                {"site": rng.choice(["lung", "lung", "liver", "bone"]),
                 "detected_on": min(found, dt.date(2026, 11, 1)).isoformat()}
            ]
            if rng.random() < 0.3:
                case["systemic"]["therapies"] = [
                    {"agent": rng.choice(["sirolimus", "everolimus", "doxorubicin"]),
                     "line": 1, "progressed": rng.choice(["yes", "no", "unknown"])}]
        if rng.random() < 0.1:
            case["tumour"].pop("size")
        out.append(case)
    return out
