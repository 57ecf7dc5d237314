"""Small-cell suppression of the registry's shared figures, primary and complementary.

**Primary**: a count ``0 < v < min_cell`` is not shown; it reads "< min_cell" (JSON
``"<min_cell"``). Zero is shown.

**Complementary**: the counts of one figure are tied by sums (a total and its parts, such
as decided = accepted + declined + deferred). A suppressed part that is the only
suppressed part of a sum whose total is shown could be recovered by subtraction, and a
suppressed total whose parts are all shown by addition. So, until no sum has exactly one
unknown count:

- a sum whose total is shown and exactly one part suppressed: the smallest other non-zero
  part shown is suppressed too (ties: the first in the figure's order); when no other part
  is non-zero, the total is suppressed instead;
- a sum whose total is suppressed and no part suppressed: its smallest non-zero part is
  suppressed.

A count suppressed this way reads "suppressed" (it may be ``min_cell`` or more). A share
is shown only when its numerator and its denominator are both shown.

A figure may name counts to **keep** shown, because something else printed beside them
gives them away (a survival group's curve and confidence band reveal its n): a kept
count is never chosen as the complement while another choice is left (the total of its
sum, when no other part will do).

This protects each sum on its own and sums linked through a shared count (a count that is
a part of one sum and the total of another); it does not defend against bounds worked out
from several sums together (the method of statistical offices' auditing tools).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Cells", "Sum", "suppress"]

Sum = tuple[str, Sequence[str]]
"""``(total, parts)``: the keys of a count and of the counts it is made of."""


@dataclass(frozen=True, slots=True)
class Cells:
    """The counts of one figure, and which of them are suppressed."""

    counts: Mapping[str, int]
    primary: frozenset[str]
    complementary: frozenset[str]
    min_cell: int

    def shown(self, *keys: str) -> bool:
        return not any(k in self.primary or k in self.complementary for k in keys)

    def text(self, key: str) -> str:
        """The count as printed: "< min_cell", "suppressed" or the number."""
        if key in self.primary:
            return f"< {self.min_cell}"
        if key in self.complementary:
            return "suppressed"
        return str(self.counts[key])

    def json(self, key: str) -> int | str:
        """The count for JSON: ``"<min_cell"``, ``"suppressed"`` or the number."""
        if key in self.primary:
            return f"<{self.min_cell}"
        if key in self.complementary:
            return "suppressed"
        return self.counts[key]

    def share(self, numerator: str, denominator: str) -> float | None:
        """``numerator / denominator`` when both are shown and the denominator is not 0."""
        den = self.counts[denominator]
        if not self.shown(numerator, denominator) or den == 0:
            return None
        return self.counts[numerator] / den

    def ratio_text(self, numerator: str, denominator: str) -> str:
        """"a/b (x %)"; the share left out when a or b is suppressed, "n/a" when b is 0."""
        head = f"{self.text(numerator)}/{self.text(denominator)}"
        if not self.shown(numerator, denominator):
            return head
        share = self.share(numerator, denominator)
        return f"{head} ({'n/a' if share is None else f'{share:.1%}'})"


def suppress(counts: Mapping[str, int], sums: Iterable[Sum], min_cell: int,
             keep: Iterable[str] = ()) -> Cells:
    """The cells of ``counts`` with primary and complementary suppression (see the module
    docstring); ``sums`` tie the counts together, keys absent from ``counts`` are 0;
    ``keep``: counts not to choose as a complement while another choice is left."""
    order = {k: i for i, k in enumerate(counts)}
    kept = frozenset(keep)
    primary = frozenset(k for k, v in counts.items() if 0 < v < min_cell)
    hidden = set(primary)
    tied = [(t, [p for p in parts if p in counts]) for t, parts in sums if t in counts]

    def smallest(keys: Iterable[str]) -> str | None:
        candidates = [k for k in keys if k not in hidden and counts[k] > 0]
        free = [k for k in candidates if k not in kept]
        return min(free or candidates, key=lambda k: (counts[k], order[k]), default=None)

    changed = True
    while changed:
        changed = False
        for total, parts in tied:
            unknown = [p for p in parts if p in hidden]
            if total not in hidden and len(unknown) == 1:
                others = [p for p in parts if p != unknown[0]]
                extra = smallest(p for p in others if p not in kept)
                if extra is None and total in kept:
                    extra = smallest(others)
                hidden.add(total if extra is None else extra)
                changed = True
            elif total in hidden and not unknown:
                extra = smallest(parts)
                if extra is not None:
                    hidden.add(extra)
                    changed = True
    return Cells(dict(counts), primary, frozenset(hidden - primary), min_cell)
