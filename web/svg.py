"""Small inline SVG charts for the dashboard: no script, no external file, every label
escaped (they may be member-made, such as channel names)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

__all__ = ["bars", "heatmap"]

_WIDTH, _HEIGHT, _PAD = 720, 180, 28


def bars(title: str, labels: Sequence[str], values: Sequence[int], *, every: int = 7) -> Markup:
    """A bar chart of `values` (one bar each), `title` for screen readers, every `every`-th
    label under its bar."""
    top = max(values, default=0) or 1
    width = (_WIDTH - 2 * _PAD) / max(len(values), 1)
    parts = [
        f'<svg viewBox="0 0 {_WIDTH} {_HEIGHT + 20}" role="img" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="{_PAD}" y="12" font-size="11" fill="#5b6670">{top:,}</text>',
        f'<line x1="{_PAD}" y1="{_HEIGHT}" x2="{_WIDTH - _PAD}" y2="{_HEIGHT}" stroke="#d8dde2"/>',
    ]
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = (_HEIGHT - _PAD) * value / top
        x = _PAD + index * width
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{_HEIGHT - height:.1f}" width="{max(width - 2, 1):.1f}" '
            f'height="{height:.1f}" fill="#c2571a"><title>{escape(label)}: {value:,}</title></rect>'
        )
        if index % every == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{_HEIGHT + 14}" font-size="10" fill="#5b6670">'
                f"{escape(label)}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def heatmap(
    title: str, rows: Sequence[str], columns: Sequence[str], cells: Sequence[Sequence[float]]
) -> Markup:
    """A grid of `cells` (row by row) shaded by value, rows and columns labelled."""
    top = max((value for row in cells for value in row), default=0) or 1
    size, left, head = 22, 70, 18
    width = left + size * len(columns) + 4
    height = head + size * len(rows) + 4
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for c, column in enumerate(columns):
        parts.append(
            f'<text x="{left + c * size + 3}" y="12" font-size="9" fill="#5b6670">'
            f"{escape(column)}</text>"
        )
    for r, (row, values) in enumerate(zip(rows, cells, strict=True)):
        y = head + r * size
        parts.append(f'<text x="0" y="{y + 15}" font-size="10" fill="#5b6670">{escape(row)}</text>')
        for c, value in enumerate(values):
            shade = 0.08 + 0.92 * value / top if value else 0.03
            parts.append(
                f'<rect x="{left + c * size}" y="{y}" width="{size - 2}" height="{size - 2}" '
                f'fill="#c2571a" fill-opacity="{shade:.2f}"><title>{escape(row)} '
                f"{escape(columns[c])}: {value:g}</title></rect>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))
