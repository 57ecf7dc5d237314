"""Tables for the terminal that stay readable at any width.

A table is drawn where each of its words fits its column whole; narrower, its rows are
written as blocks: a short first line, then each longer cell on lines of its own, labelled
and wrapped between words. A table squeezed further folds its words by characters ("2026-0"
above "3-01", "upcomin" above "g"), which no one should have to read a date or a source
from.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

__all__ = ["Block", "TableOrBlocks", "blocks", "whole_word_width"]

#: A block: its first line, then (label, text) pairs, each written beneath on lines of its
#: own (an empty text is left out; an empty label leaves the text unlabelled).
Block = tuple[Text, Sequence[tuple[str, str | Text]]]


def whole_word_width(table: Table, console: Console, options: ConsoleOptions) -> int:
    """The narrowest width in which ``table`` is drawn with every word whole.

    A table too wide for its space narrows its widest wrapping columns first, down to the
    next widest, and so on; every word stays whole while no wrapping column is narrower
    than the longest word of them all. So the table needs its columns that never wrap at
    their full width, each wrapping column at its full width or at that longest word,
    whichever is less, and its borders."""
    pad_left, pad_right = table.padding[3], table.padding[1]
    ranges = []
    for column in table.columns:
        sizes = [Measurement.get(console, options, cell)
                 for cell in (column.header, *column.cells)]
        pad = pad_left + pad_right
        ranges.append((column.no_wrap, max(m.minimum for m in sizes) + pad,
                       max(m.maximum for m in sizes) + pad))
    longest = max((least for no_wrap, least, _ in ranges if not no_wrap), default=0)
    inner = sum(most if no_wrap else min(most, longest) for no_wrap, _, most in ranges)
    edges = 2 if table.box is not None and table.show_edge else 0
    rules = len(table.columns) - 1 if table.box is not None else 0
    return inner + edges + rules


def blocks(title: str | Text | None, entries: Iterable[Block]) -> Group:
    """Rows as blocks: the title, then for each row a blank line, its first line, and its
    labelled texts indented beneath, wrapped between words, never cut."""
    parts: list[RenderableType] = [title] if title else []
    for head, lines in entries:
        parts += [Text(""), head]
        for label, value in lines:
            if value:
                line = (Text(f"{label}: ", style="dim") if label else Text()).append(value)
                parts.append(Padding(line, (0, 0, 0, 2), expand=False))
    parts.append(Text(""))
    return Group(*parts)


class TableOrBlocks:
    """``table`` where the width is at least ``at_least`` and holds each of its words
    whole (unless ``whole_words`` is false: a table of words that are long by nature, such
    as digests, folds them), else ``narrow``: the same rows as :func:`blocks`. Decided
    when drawn, so inside a panel, in a terminal, a file or a pipe alike."""

    def __init__(self, table: Table, narrow: RenderableType, at_least: int = 0,
                 whole_words: bool = True) -> None:
        self.table = table
        self.narrow = narrow
        self.at_least = at_least
        self.whole_words = whole_words

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        wide = width >= self.at_least and (
            not self.whole_words or width >= whole_word_width(self.table, console, options))
        yield self.table if wide else self.narrow
