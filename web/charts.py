"""Inline SVG charts for the dashboard: a daily series as a line or bars, and a heatmap
(retention cohorts; hour × weekday).

Pure functions of their data: no script, no external file, no ``style`` attribute (the
Content-Security-Policy allows none); only presentation attributes. Every text — the title,
axis and cell labels, all translated by the caller — is XML-escaped, since some are made by
members (a display name, a channel name). The result is `Markup`, so Jinja2 inserts it as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

__all__ = ["bar_chart", "heatmap", "line_chart"]

WIDTH, HEIGHT = 720, 200
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 34  # room for the axis labels
INK, GRID, FILL = "#5b6670", "#d8dde2", "#c2571a"


def _text(value: object) -> str:
    """Text content or attribute value, escaped for XML (quotes included)."""
    return escape(str(value), quote=True)


def _open(title: str, width: float, height: float) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" '
        f'role="img" aria-label="{_text(title)}">',
        f"<title>{_text(title)}</title>",
    ]


def _label(x: float, y: float, text: str, *, anchor: str = "start", size: int = 10) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{INK}" '
        f'text-anchor="{anchor}">{_text(text)}</text>'
    )


def _axes(
    parts: list[str], labels: Sequence[str], top: float, x_label: str, y_label: str, every: int
) -> float:
    """Draw the frame, the value scale (0 and `top`), every `every`-th label under the plot
    and the axis names; returns the width of one label's slot."""
    plot_w, base = WIDTH - LEFT - RIGHT, HEIGHT - BOTTOM
    slot = plot_w / max(len(labels), 1)
    parts.append(f'<path d="M{LEFT} {TOP}V{base}H{WIDTH - RIGHT}" fill="none" stroke="{GRID}"/>')
    parts.append(_label(LEFT - 4, TOP + 8, f"{top:,g}", anchor="end"))
    parts.append(_label(LEFT - 4, base, "0", anchor="end"))
    for index, label in enumerate(labels):
        if index % every == 0:
            parts.append(_label(LEFT + (index + 0.5) * slot, base + 13, label, anchor="middle"))
    if x_label:
        parts.append(_label(LEFT + plot_w / 2, HEIGHT - 4, x_label, anchor="middle"))
    if y_label:
        parts.append(
            f'<text transform="translate(11 {TOP + (base - TOP) / 2:.1f}) rotate(-90)" '
            f'font-size="10" fill="{INK}" text-anchor="middle">{_text(y_label)}</text>'
        )
    return slot


def _series(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    x_label: str,
    y_label: str,
    empty: str,
    every: int | None,
) -> tuple[list[str], float, float] | Markup:
    """The chart's start (or the whole chart, for an empty series)."""
    if len(labels) != len(values):
        raise ValueError("one label per value")
    parts = _open(title, WIDTH, HEIGHT)
    top = max(values, default=0) or 1
    step = every or max(1, -(-len(labels) // 10))  # at most about ten labels
    slot = _axes(parts, labels, top, x_label, y_label, step)
    if not values:
        parts.append(_label(WIDTH / 2, HEIGHT / 2, empty, anchor="middle", size=12))
        parts.append("</svg>")
        return Markup("".join(parts))
    return parts, slot, top


def _y(value: float, top: float) -> float:
    return HEIGHT - BOTTOM - (HEIGHT - BOTTOM - TOP) * value / top


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    x_label: str = "",
    y_label: str = "",
    empty: str = "",
    every: int | None = None,
) -> Markup:
    """One bar per value (e.g. per day), each with its label and value as a tooltip.

    Args:
        title: The chart's accessible name (``<title>``).
        labels: One per value (e.g. ``01-05``); every `every`-th is written under its bar
            (default: about ten in all).
        x_label, y_label: Axis names.
        empty: Written in the middle when there are no values.
    """
    start = _series(title, labels, values, x_label, y_label, empty, every)
    if isinstance(start, Markup):
        return start
    parts, slot, top = start
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = _y(value, top)
        parts.append(
            f'<rect x="{LEFT + index * slot + 1:.1f}" y="{y:.1f}" '
            f'width="{max(slot - 2, 1):.1f}" height="{HEIGHT - BOTTOM - y:.1f}" fill="{FILL}">'
            f"<title>{_text(label)}: {value:,g}</title></rect>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    x_label: str = "",
    y_label: str = "",
    empty: str = "",
    every: int | None = None,
) -> Markup:
    """A line through the values (e.g. one a day), a dot with a tooltip at each; arguments
    as `bar_chart`."""
    start = _series(title, labels, values, x_label, y_label, empty, every)
    if isinstance(start, Markup):
        return start
    parts, slot, top = start
    points = [(LEFT + (index + 0.5) * slot, _y(value, top)) for index, value in enumerate(values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    parts.append(f'<polyline points="{path}" fill="none" stroke="{FILL}" stroke-width="2"/>')
    for (x, y), label, value in zip(points, labels, values, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{FILL}">'
            f"<title>{_text(label)}: {value:,g}</title></circle>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def heatmap(
    title: str,
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Sequence[Sequence[float | None]],
    *,
    percent: bool = False,
    empty: str = "",
) -> Markup:
    """A grid shaded by value: one row per `rows` label, one column per `columns` label.

    A cell of None (a week that has not happened yet) stays blank; with `percent` values are
    shares (0..1) written in their cells as percentages, otherwise they only shade the cell
    and show in its tooltip.
    """
    if len(cells) != len(rows) or any(len(row) > len(columns) for row in cells):
        raise ValueError("one row of cells per row label, at most one cell per column")
    size, left, head = (34 if percent else 22), 80, 18
    width = left + size * len(columns) + 4
    height = head + size * max(len(rows), 1) + 4
    parts = _open(title, width, height)
    numbers = [value for row in cells for value in row if value is not None]
    top = 1.0 if percent else (max(numbers, default=0) or 1)
    for c, column in enumerate(columns):
        parts.append(_label(left + c * size + size / 2 - 1, 12, column, anchor="middle", size=9))
    if not rows:
        parts.append(_label(width / 2, head + size / 2 + 4, empty, anchor="middle", size=12))
    for r, (row, values) in enumerate(zip(rows, cells, strict=True)):
        y = head + r * size
        parts.append(_label(left - 6, y + size / 2 + 3, row, anchor="end"))
        for c, value in enumerate(values):
            if value is None:
                continue
            shade = 0.06 + 0.94 * value / top if value else 0.03
            shown = f"{value:.0%}" if percent else f"{value:,g}"
            parts.append(
                f'<rect x="{left + c * size}" y="{y}" width="{size - 2}" height="{size - 2}" '
                f'fill="{FILL}" fill-opacity="{min(shade, 1):.2f}">'
                f"<title>{_text(row)} · {_text(columns[c])}: {shown}</title></rect>"
            )
            if percent:
                ink = "#fff" if shade > 0.55 else INK
                parts.append(
                    f'<text x="{left + c * size + size / 2 - 1}" y="{y + size / 2 + 3}" '
                    f'font-size="9" fill="{ink}" text-anchor="middle">{shown}</text>'
                )
    parts.append("</svg>")
    return Markup("".join(parts))
