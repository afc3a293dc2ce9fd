"""PNG charts of a digest, drawn with matplotlib's Agg backend (headless, no display).

matplotlib is imported when a chart is drawn, so Hearth starts as fast without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["activity_chart", "digest_chart", "heatmap_chart"]

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _draw_activity(axes: Any, series: Sequence[tuple[str, int, int]]) -> None:
    days = [day[5:] for day, _, _ in series]
    axes.bar(days, [messages for _, messages, _ in series], color="#8fb3d9", label="messages")
    axes.set_ylabel("messages")
    axes.tick_params(axis="x", labelrotation=90, labelsize=7)
    active = axes.twinx()
    active.plot(days, [members for _, _, members in series], color="#d9822b", marker=".")
    active.set_ylabel("active members")
    active.set_ylim(bottom=0)
    axes.set_title(f"Messages and active members, {series[0][0]} – {series[-1][0]}")


def _draw_heatmap(figure: Any, axes: Any, matrix: Sequence[Sequence[int]]) -> None:
    image = axes.imshow(matrix, aspect="auto", cmap="YlOrRd", interpolation="nearest")
    axes.set_yticks(range(7), _WEEKDAYS)
    axes.set_xticks(range(0, 24, 3), [f"{hour:02d}" for hour in range(0, 24, 3)])
    axes.set_xlabel("hour (local time)")
    axes.set_title("Messages by weekday and hour")
    figure.colorbar(image, ax=axes)


def activity_chart(series: Sequence[tuple[str, int, int]], path: Path) -> Path:
    """Messages (bars) and active members (line) per local day; returns `path`."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(9, 4), layout="constrained")
    _draw_activity(axes, series)
    figure.savefig(path, format="png", dpi=100)
    plt.close(figure)
    return path


def heatmap_chart(matrix: Sequence[Sequence[int]], path: Path) -> Path:
    """Messages by weekday (rows, Monday first) and local hour (columns); returns `path`."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(9, 3.5), layout="constrained")
    _draw_heatmap(figure, axes, matrix)
    figure.savefig(path, format="png", dpi=100)
    plt.close(figure)
    return path


def digest_chart(
    series: Sequence[tuple[str, int, int]], matrix: Sequence[Sequence[int]], path: Path
) -> Path:
    """Both charts in one image (platforms attach one image to a message); returns `path`."""
    plt = _pyplot()
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7.5), layout="constrained")
    _draw_activity(top, series)
    _draw_heatmap(figure, bottom, matrix)
    figure.savefig(path, format="png", dpi=100)
    plt.close(figure)
    return path
