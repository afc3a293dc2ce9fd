"""PNG charts of a digest, drawn with matplotlib's Agg backend (headless, no display).

Labels are in the community's language. Chinese needs a font with Han characters, which
matplotlib's own DejaVu Sans lacks: a CJK font installed on the machine is found by family
name (the project installs WenQuanYi Micro Hei; `.ci/run`, Dockerfile) and used after DejaVu
Sans, glyph by glyph. Without one the labels fall back to English, with one warning.

matplotlib is imported when a chart is drawn, so Hearth starts as fast without it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from bot.i18n import N_, Translator

__all__ = [
    "CJK_FAMILIES",
    "ChartLabels",
    "activity_chart",
    "chart_labels",
    "cjk_font",
    "digest_chart",
    "digest_figure",
    "heatmap_chart",
]

logger = logging.getLogger(__name__)

Series = Sequence[tuple[str, int, int]]
Matrix = Sequence[Sequence[int]]

_WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
#: Fonts with Simplified Chinese, best first, as fontconfig and matplotlib name them.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
)
#: How their files are named, to find one installed after matplotlib cached its font list.
_CJK_FILES = ("notosanscjk", "notosanssc", "sourcehansans", "wqy", "droidsansfallback", "uming")
_LATIN = "DejaVu Sans"


@dataclass(frozen=True, slots=True)
class ChartLabels:
    """Every word a digest chart shows, in one language."""

    activity_title: str
    messages: str
    active_members: str
    heatmap_title: str
    hour: str
    weekdays: tuple[str, ...]

    def texts(self) -> tuple[str, ...]:
        """All of them, to check what a font must be able to show."""
        return (
            self.activity_title,
            self.messages,
            self.active_members,
            self.heatmap_title,
            self.hour,
            *self.weekdays,
        )


def _english(message: str) -> str:
    return message


def chart_labels(tr: Translator, series: Series) -> ChartLabels:
    """The labels of a chart of `series` (its first and last days name the range)."""
    first, last = (series[0][0], series[-1][0]) if series else ("", "")
    return ChartLabels(
        activity_title=tr(N_("Messages and active members, {first} – {last}")).format(
            first=first, last=last
        ),
        messages=tr(N_("messages")),
        active_members=tr(N_("active members")),
        heatmap_title=tr(N_("Messages by weekday and hour")),
        hour=tr(N_("hour (local time)")),
        weekdays=tuple(tr(day) for day in _WEEKDAYS),
    )


def _needs_cjk(labels: ChartLabels) -> bool:
    return any(ord(char) >= 0x2E80 for text in labels.texts() for char in text)


@cache
def cjk_font() -> str | None:
    """The family name of an installed font that can show Chinese, or None (warned once)."""
    from matplotlib import font_manager

    def known() -> str | None:
        names = {font.name for font in font_manager.fontManager.ttflist}
        return next((family for family in CJK_FAMILIES if family in names), None)

    found = known()
    if found is None:  # perhaps installed after matplotlib cached its list of fonts
        for path in font_manager.findSystemFonts():
            if any(hint in Path(path).name.lower() for hint in _CJK_FILES):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    logger.debug("font %s could not be read", path)
        found = known()
    if found is None:
        logger.warning(
            "no font for Chinese is installed, so digest charts are labelled in English; "
            "install one (Debian: apt-get install fonts-wqy-microhei or fonts-noto-cjk)"
        )
    return found


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@contextmanager
def _styled(tr: Translator, series: Series) -> Iterator[tuple[Any, ChartLabels]]:
    """pyplot with a font for the labels (and the labels to use); figures are made inside."""
    plt = _pyplot()
    labels = chart_labels(tr, series)
    families = [_LATIN]
    if _needs_cjk(labels):
        cjk = cjk_font()
        if cjk is None:
            labels = chart_labels(_english, series)
        else:
            families.append(cjk)  # DejaVu Sans for Latin, the CJK font for the rest
    with plt.rc_context({"font.family": families}):
        yield plt, labels


def _draw_activity(axes: Any, series: Series, labels: ChartLabels) -> None:
    days = [day[5:] for day, _, _ in series]
    bars = axes.bar(
        days, [messages for _, messages, _ in series], color="#8fb3d9", label=labels.messages
    )
    axes.set_ylabel(labels.messages)
    axes.tick_params(axis="x", labelrotation=90, labelsize=7)
    active = axes.twinx()
    (line,) = active.plot(
        days,
        [members for _, _, members in series],
        color="#d9822b",
        marker=".",
        label=labels.active_members,
    )
    active.set_ylabel(labels.active_members)
    active.set_ylim(bottom=0)
    axes.legend(handles=[bars, line], loc="upper left", fontsize=8)
    axes.set_title(labels.activity_title)


def _draw_heatmap(figure: Any, axes: Any, matrix: Matrix, labels: ChartLabels) -> None:
    image = axes.imshow(matrix, aspect="auto", cmap="YlOrRd", interpolation="nearest")
    axes.set_yticks(range(7), labels.weekdays)
    axes.set_xticks(range(0, 24, 3), [f"{hour:02d}" for hour in range(0, 24, 3)])
    axes.set_xlabel(labels.hour)
    axes.set_title(labels.heatmap_title)
    figure.colorbar(image, ax=axes, label=labels.messages)


def _save(plt: Any, figure: Any, path: Path) -> Path:
    try:
        figure.savefig(path, format="png", dpi=100)
    finally:
        plt.close(figure)
    return path


def activity_chart(series: Series, path: Path, tr: Translator = _english) -> Path:
    """Messages (bars) and active members (line) per local day; returns `path`."""
    with _styled(tr, series) as (plt, labels):
        figure, axes = plt.subplots(figsize=(9, 4), layout="constrained")
        _draw_activity(axes, series, labels)
        return _save(plt, figure, path)


def heatmap_chart(matrix: Matrix, path: Path, tr: Translator = _english) -> Path:
    """Messages by weekday (rows, Monday first) and local hour (columns); returns `path`."""
    with _styled(tr, ()) as (plt, labels):
        figure, axes = plt.subplots(figsize=(9, 3.5), layout="constrained")
        _draw_heatmap(figure, axes, matrix, labels)
        return _save(plt, figure, path)


@contextmanager
def digest_figure(series: Series, matrix: Matrix, tr: Translator = _english) -> Iterator[Any]:
    """Both charts in one matplotlib figure, labelled through `tr`; closed on leaving. Draw or
    save it inside the block: the font settings apply there."""
    with _styled(tr, series) as (plt, labels):
        figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7.5), layout="constrained")
        try:
            _draw_activity(top, series, labels)
            _draw_heatmap(figure, bottom, matrix, labels)
            yield figure
        finally:
            plt.close(figure)


def digest_chart(series: Series, matrix: Matrix, path: Path, tr: Translator = _english) -> Path:
    """Both charts in one image (platforms attach one image to a message); returns `path`."""
    with digest_figure(series, matrix, tr) as figure:
        figure.savefig(path, format="png", dpi=100)
    return path
