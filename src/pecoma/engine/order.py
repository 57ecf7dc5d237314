"""The order of the recommendations: that of the decision at hand.

Local treatment whose criteria are met comes first (resection, re-excision, removal of
metastatic foci, lung metastasectomy), then adjuvant considerations, then systemic
treatment, then local treatment that is still undecided or whose criteria are not met
(with the postoperative consideration that waits on whether surgery can remove the
disease), then referral. Within a step the rules' own order is kept. The section each record
belongs to stays on the item, so a renderer can still group by section.

The board's top actions (:func:`board_order`) follow the same order with one exception:
the systemic treatment of advanced disease (S12-S15) comes before the postoperative
considerations (S10, S11). An mTOR inhibitor is the treatment of choice and takes
priority over conventional chemotherapy (S12, S13), while S11 only asks to consider
postoperative chemotherapy or radiotherapy: a board reading the top actions must meet the
first line before a consideration that names chemotherapy, and the short list must not
lose the first line to it. Local treatment whose criteria are met keeps the lead (S16,
S17), and nothing else moves. The full list keeps the decision order.
"""

from __future__ import annotations

from collections.abc import Sequence

from pecoma.engine.collect import DIAGNOSIS_CONDITIONS
from pecoma.engine.model import Item

__all__ = ["board_order", "decision_order"]

LOCAL = frozenset(
    {
        "REC-RESECTION",
        "REC-RESECTION-DONE",
        "REC-RERESECTION",
        "REC-RERESECTION-GROSS",
        "REC-RERESECTION-OPTION",
        "REC-REFER-SURGERY",
        "REC-AGGRESSIVE-SURGERY",
        "REC-LUNG-METASTASECTOMY",
    }
)
LOCAL_UNDECIDED = frozenset({"REC-LUNG-METASTASECTOMY-PENDING", "REC-LUNG-METASTASECTOMY-NOT-MET"})
#: Missing facts that make every treatment conditional alike (they do not make local
#: treatment any less the first step): the diagnosis on tissue, and whether an operation
#: after the metastases were found left the patient free of disease (I21: surgery and
#: systemic treatment wait on it together), and whether a suspected metastasis is
#: confirmed.
_SHARED_CONDITIONS = DIAGNOSIS_CONDITIONS | {"MISS-FREE-AFTER-OPERATION",
                                             "MISS-SUSPECTED-METASTASIS"}
#: Postoperative considerations: S11, S10 after a local recurrence (I23), and S10 beside
#: S11 for the primary of disease that is not localized (I27).
_POSTOPERATIVE = frozenset({"REC-ADJ-NODES-METS", "REC-ADJ-NODES-METS-AFTER-RERESECTION",
                            "REC-ADJ-RADIOTHERAPY-RECURRENCE", "REC-ADJ-RADIOTHERAPY",
                            "REC-ADJ-RADIOTHERAPY-AFTER-RERESECTION"})
_STEP_OF_SECTION = {"risk": 1, "localized": 1, "adjuvant": 1, "advanced": 2}


def _step(item: Item) -> int:
    if item.id in LOCAL:
        own = [c for c in item.conditional_on if c not in _SHARED_CONDITIONS]
        return 3 if own and item.id == "REC-AGGRESSIVE-SURGERY" else 0
    if item.id in _POSTOPERATIVE and "MISS-RESECTABLE" in item.conditional_on:
        # postoperative after an operation still undecided: with it, after the systemic
        # sequence that governs while surgery cannot remove the disease
        return 3
    if item.id in LOCAL_UNDECIDED:
        return 3
    return _STEP_OF_SECTION.get(item.section, 4)


def decision_order(items: Sequence[Item]) -> tuple[Item, ...]:
    """``items`` in decision order (a stable sort: ties keep the rules' order)."""
    return tuple(sorted(items, key=_step))


def _board_step(item: Item) -> tuple[int, int]:
    step = _step(item)
    if step == 1 and item.section == "adjuvant":
        return (2, 1)  # a postoperative consideration: after the systemic treatment
    return (step, 0)


def board_order(items: Sequence[Item]) -> tuple[Item, ...]:
    """``items`` in the order of the board's top actions: the decision order, except that
    the systemic treatment of advanced disease comes before the postoperative
    considerations (S12, S13 over S10, S11; see the module's docstring). A stable sort:
    ties keep the rules' order."""
    return tuple(sorted(items, key=_board_step))
