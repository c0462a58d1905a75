"""Charts as inline SVG: bars to scale, accessible text, no style attributes, escaping."""

from __future__ import annotations

import re

from switchyard.ui import charts


def test_stacked_bars_scale_to_the_tallest_and_say_what_they_show() -> None:
    chart = charts.stacked_bars(
        "c1",
        "Events <per hour>",
        ["10:00", "11:00"],
        [
            charts.Series("track", [2, 4], charts.BLUE),
            charts.Series("page", [0, 4], charts.GREEN),
        ],
    )
    svg = str(chart.svg)
    assert 'role="img"' in svg and 'aria-labelledby="c1-title c1-desc"' in svg
    assert '<title id="c1-title">Events &lt;per hour&gt;</title>' in svg
    assert "Totals: track 6, page 4." in svg
    assert "style=" not in svg
    bar = r'height="([\d.]+)" fill="#[0-9a-f]+" class="chart-bar"'
    heights = [float(h) for h in re.findall(bar, svg)]
    assert len(heights) == 3  # the zero value draws no bar
    tallest = 180 - 26 - 22
    assert sorted(heights) == [tallest * 2 / 8, tallest * 4 / 8, tallest * 4 / 8]
    assert "<title>11:00: 4 page</title>" in svg
    assert chart.rows == [("10:00", [2, 0], 2), ("11:00", [4, 4], 8)]
    assert chart.total == 10


def test_an_empty_chart_draws_axes_only() -> None:
    chart = charts.stacked_bars("c2", "Nothing", ["a", "b"], [charts.Series("x", [0, 0], "#000")])
    assert "chart-bar" not in str(chart.svg)
    assert "Totals: x 0." in str(chart.svg)
