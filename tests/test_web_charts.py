"""The dashboard's SVG charts (`web.charts`): well-formed XML with a title and the labels
the caller passed, every text escaped (a hostile label stays text), no script or style,
empty series and cohorts drawn without failing."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from web.charts import bar_chart, heatmap, line_chart

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<img src=x onerror=alert(1)>"
Chart = Callable[..., str]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on anything that is not well-formed XML
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return [node.text or "" for node in root.iter(f"{SVG}text")]


def inert(root: ET.Element) -> None:
    """Only SVG elements, no script, no event handler or style attribute anywhere."""
    for node in root.iter():
        assert node.tag.startswith(SVG), node.tag
        assert node.tag != f"{SVG}script"
        assert not any(name.startswith("on") or name == "style" for name in node.attrib)


@pytest.mark.parametrize("chart", [bar_chart, line_chart])
def test_daily_series_have_title_axes_and_labels(chart: Chart) -> None:
    labels = [f"01-{day:02d}" for day in range(1, 31)]
    values = [day * 3 for day in range(30)]
    svg = chart("Messages per day", labels, values, x_label="Day", y_label="Messages")
    root = parse(svg)
    inert(root)
    assert root.find(f"{SVG}title").text == "Messages per day"  # type: ignore[union-attr]
    shown = texts(root)
    assert {"Day", "Messages", "0", "87"} <= set(shown)  # axis names and the scale
    assert "01-01" in shown
    assert "01-28" in shown
    assert "01-02" not in shown
    tips = [node.text for node in root.iter(f"{SVG}title")][1:]
    assert tips[0] == "01-01: 0"
    assert tips[-1] == "01-30: 87"
    assert len(tips) == 30


@pytest.mark.parametrize("chart", [bar_chart, line_chart])
def test_hostile_labels_come_out_as_text(chart: Chart) -> None:
    svg = chart(HOSTILE, [HOSTILE, "b"], [1, 2], x_label=HOSTILE, y_label=HOSTILE, every=1)
    assert "<img" not in svg
    assert "&lt;img src=x onerror=alert(1)&gt;" in svg
    root = parse(svg)
    inert(root)
    assert root.find(f"{SVG}title").text == HOSTILE  # type: ignore[union-attr]
    assert texts(root).count(HOSTILE) == 3  # the first day's label and both axis names
    assert root.get("aria-label") == HOSTILE


def test_quotes_cannot_leave_an_attribute() -> None:
    svg = bar_chart('x" onload="alert(1)', ["a"], [1])
    root = parse(svg)
    inert(root)
    assert root.get("aria-label") == 'x" onload="alert(1)'


@pytest.mark.parametrize("chart", [bar_chart, line_chart])
def test_empty_and_zero_series(chart: Chart) -> None:
    root = parse(chart("Nothing yet", [], [], empty="No messages in this period"))
    inert(root)
    assert "No messages in this period" in texts(root)
    zeros = parse(chart("Quiet", ["a", "b"], [0, 0]))
    assert "0" in texts(zeros)  # a scale, no division by zero


def test_mismatched_series_are_refused() -> None:
    with pytest.raises(ValueError, match="one label per value"):
        bar_chart("t", ["a"], [1, 2])


def test_retention_heatmap_writes_shares_and_leaves_future_weeks_blank() -> None:
    svg = heatmap(
        "Retention by join week",
        ["2026-01-05", "2026-01-12", HOSTILE],
        ["+1", "+2"],
        [[0.5, 0.25], [1.0, None], []],
        percent=True,
    )
    root = parse(svg)
    inert(root)
    shown = texts(root)
    assert {"50%", "25%", "100%", "+1", "+2", "2026-01-05", HOSTILE} <= set(shown)
    assert len(list(root.iter(f"{SVG}rect"))) == 3  # the None cell and the empty row: blank
    tips = [node.text for node in root.iter(f"{SVG}title")]
    assert "2026-01-05 · +2: 25%" in tips


def test_hour_weekday_heatmap_and_empty_grid() -> None:
    cells = [[hour * (day + 1) for hour in range(24)] for day in range(7)]
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    root = parse(heatmap("By weekday and hour", days, [f"{h:02d}" for h in range(24)], cells))
    inert(root)
    rects = list(root.iter(f"{SVG}rect"))
    assert len(rects) == 7 * 24
    opacities = [float(r.get("fill-opacity", "0")) for r in rects]
    assert max(opacities) == 1.0
    assert min(opacities) == 0.03
    empty = parse(heatmap("Retention", [], ["+1"], [], empty="No members joined"))
    assert "No members joined" in texts(empty)
    with pytest.raises(ValueError, match="one row of cells"):
        heatmap("t", ["a"], ["x"], [[1, 2]])
