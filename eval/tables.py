"""Thesis-style markdown tables: cases as rows, one metric per column, the best value in bold.

As in the thesis tables, ties for best are all marked; arrows in the headers say which
direction is better (↓ lower, ↑ higher). Missing values (None, NaN) print as '—' and never
count as best.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Optional, Sequence

MISSING = "—"


@dataclasses.dataclass(frozen=True)
class Column:
    """A metric column: header text, which direction is best ('min', 'max' or None), number format."""

    header: str
    best: Optional[str] = None
    fmt: str = "{:.6g}"

    def __post_init__(self):
        if self.best not in (None, "min", "max"):
            raise ValueError(f"best must be 'min', 'max' or None, got {self.best!r}")

    @property
    def title(self) -> str:
        return self.header + {"min": " ↓", "max": " ↑", None: ""}[self.best]


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def format_value(value, fmt: str = "{:.6g}") -> str:
    """A cell's text: '—' when missing, integers as integers, other numbers with fmt, else str()."""
    if not _present(value):
        return MISSING
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    return fmt.format(value)


def best_rows(values: Sequence, best: Optional[str]) -> set[int]:
    """Rows holding the best present value of a column (all ties; none if best is None)."""
    present = [(i, v) for i, v in enumerate(values) if _present(v) and isinstance(v, (int, float))]
    if best is None or not present:
        return set()
    target = (min if best == "min" else max)(v for _, v in present)
    return {i for i, v in present if v == target}


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell (pipes escaped, no line breaks)."""
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(first_header: str, columns: Sequence[Column], rows: Sequence[tuple[str, Sequence]]) -> str:
    """A markdown table: one row per (name, values) with len(values) == len(columns), best in bold
    (when there are at least two rows)."""
    for name, values in rows:
        if len(values) != len(columns):
            raise ValueError(f"row {name!r} has {len(values)} values for {len(columns)} columns")
    # A single row has nothing to be best against: no marks.
    marked = [best_rows([values[c] for _, values in rows], col.best if len(rows) > 1 else None)
              for c, col in enumerate(columns)]
    lines = ["| " + " | ".join([first_header] + [c.title for c in columns]) + " |",
             "|" + "---|" * (len(columns) + 1)]
    for r, (name, values) in enumerate(rows):
        cells = []
        for c, (col, value) in enumerate(zip(columns, values)):
            text = _cell(format_value(value, col.fmt))
            cells.append(f"**{text}**" if r in marked[c] else text)
        lines.append("| " + " | ".join([_cell(name)] + cells) + " |")
    return "\n".join(lines)
