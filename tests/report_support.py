"""Cases shared by the tests of the report page and of the PDF."""

from __future__ import annotations

#: An R1 resection of a retroperitoneal PEComa of uncertain malignant potential (one
#: worrisome feature, infiltrative growth) whose nodal status is not recorded: nodal spread
#: would be evidence of malignancy (I9), so the critical S27 alert "Malignant tumour may
#: have been left behind" is the safer branch, provisional on the nodes.
R1_NODES_UNKNOWN: dict[str, object] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2025-01-06"},
    "tumour": {"primary_site": "retroperitoneum", "size": {"value": 30, "unit": "mm"}},
    "histology": {"necrosis": "absent", "infiltrative_growth": "present",
                  "high_nuclear_grade_and_cellularity": "absent", "vascular_invasion": "absent",
                  "nuclear_pleomorphism_or_giant_cells": "absent", "mitoses_per_50_hpf": 0},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "sma": "positive"},
    "stage": {"status": "localized", "lymph_nodes": "unknown"},
    "surgery": {"status": "performed", "date": "2025-01-10", "margin": "R1"},
    "systemic": {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "no"},
}
