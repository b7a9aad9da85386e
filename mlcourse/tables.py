"""The one table formatter: aligned text for the terminal, Markdown for TensorBoard and files.

Numbers are rounded alike (NumPy scalars as Python floats, ``digits`` significant digits); Markdown
cells are escaped, so a ``|`` in a cell stays in its cell; long text cells can wrap onto several
lines in the terminal. No TensorFlow here: the report card uses it too.
"""

import numbers
import textwrap

import numpy as np

__all__ = ["cell", "escape_markdown", "format_table", "plain"]


def plain(value):
    """NumPy scalars as Python numbers."""
    return value.item() if isinstance(value, np.generic) else value


def cell(value, digits=4):
    """One table cell as text: floats with ``digits`` significant digits (whole numbers when they
    are larger), ``None`` as empty, anything else as ``str``."""
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return "nan"
        if abs(value) >= 10**digits:
            return f"{value:.0f}"
        return f"{value:.{digits}g}"
    return str(value)


def escape_markdown(text):
    """Text safe inside a Markdown table cell: ``|`` escaped, line breaks as ``<br>``."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


def _is_number(value):
    value = plain(value)
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def format_table(rows, columns=None, digits=4, markdown=False, wrap=None):
    """A list of dicts as an aligned text table (numbers right-aligned), or as a Markdown table.

    ``wrap`` maps a column to a width: its cells wrap onto several lines (text tables only).
    """
    columns = list(columns or dict.fromkeys(key for row in rows for key in row))
    cells = [[cell(row.get(column), digits) for column in columns] for row in rows]
    if markdown:
        header = "| " + " | ".join(escape_markdown(c) for c in columns) + " |"
        lines = [header, "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(escape_markdown(c) for c in row) + " |" for row in cells]
        return "\n".join(lines)
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    numeric = [
        any(_is_number(row.get(c)) for row in rows)
        and all(_is_number(row.get(c)) or row.get(c) in ("", "-", None) for row in rows)
        for c in columns
    ]

    def line(items):
        aligned = zip(items, widths, numeric, strict=True)
        return "  ".join(t.rjust(w) if right else t.ljust(w) for t, w, right in aligned).rstrip()

    rule = ["-" * w for w in widths]
    if not wrap:
        return "\n".join([line(columns), line(rule)] + [line(row) for row in cells])
    limits = [wrap.get(c) for c in columns]
    widths = [min(w, limit) if limit else w for w, limit in zip(widths, limits, strict=True)]
    rule = ["-" * w for w in widths]
    lines = [line(columns), line(rule)]
    for row in cells:
        pieces = [
            textwrap.wrap(text, limit) or [""] if limit else [text]
            for text, limit in zip(row, limits, strict=True)
        ]
        if len(lines) > 2 and max(len(p) for p in pieces) > 1:
            lines.append("")  # a blank line between rows that span several lines
        for i in range(max(len(p) for p in pieces)):
            lines.append(line([p[i] if i < len(p) else "" for p in pieces]))
    return "\n".join(lines)
