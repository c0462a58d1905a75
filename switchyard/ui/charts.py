"""Charts drawn on the server as inline SVG: no chart library, no CDN, no script.

The Content-Security-Policy allows no ``style=`` attributes, so colours are SVG
presentation attributes (``fill=``). Every chart carries its own accessible text:
``role="img"`` with a <title> and <desc>, a <title> per bar (the tooltip), and the
numbers as a table for _chart.html to show under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

# Bootstrap's palette, so charts match the badges around them.
GREEN = "#198754"
RED = "#dc3545"
GREY = "#6c757d"
BLUE = "#0d6efd"
ORANGE = "#fd7e14"
PURPLE = "#6f42c1"
TEAL = "#20c997"
YELLOW = "#ffc107"
PALETTE = (BLUE, GREEN, ORANGE, PURPLE, TEAL, YELLOW, RED, GREY)

WIDTH, HEIGHT = 640, 180
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 26, 22


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]
    color: str


@dataclass(frozen=True)
class Chart:
    chart_id: str
    title: str
    labels: Sequence[str]
    series: Sequence[Series]
    svg: SafeString = field(default_factory=lambda: mark_safe(""))

    @property
    def rows(self) -> list[tuple[str, list[int], int]]:
        """(label, each series' value, total) per bar: the data table."""
        out = []
        for i, label in enumerate(self.labels):
            values = [s.values[i] for s in self.series]
            out.append((label, values, sum(values)))
        return out

    @property
    def total(self) -> int:
        return sum(sum(s.values) for s in self.series)


def stacked_bars(
    chart_id: str, title: str, labels: Sequence[str], series: Sequence[Series]
) -> Chart:
    """One bar per label, each series stacked in order from the bottom."""
    chart = Chart(chart_id, title, list(labels), list(series))
    return Chart(chart_id, title, chart.labels, chart.series, svg=_draw(chart))


def _draw(chart: Chart) -> SafeString:
    n = max(len(chart.labels), 1)
    top = max((total for _, _, total in chart.rows), default=0)
    scale_top = max(top, 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / n
    bar_w = max(step * 0.8, 1.0)
    bars = []
    for i, (label, values, _total) in enumerate(chart.rows):
        x = LEFT + i * step + (step - bar_w) / 2
        y_base = float(TOP + plot_h)
        for s, value in zip(chart.series, values, strict=True):
            if not value:
                continue
            h = plot_h * value / scale_top
            y_base -= h
            bars.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" class="chart-bar">'
                    "<title>{}: {} {}</title></rect>",
                    f"{x:.1f}",
                    f"{y_base:.1f}",
                    f"{bar_w:.1f}",
                    f"{h:.1f}",
                    s.color,
                    label,
                    value,
                    s.name,
                )
            )
    ticks = []
    if chart.labels:
        picks = sorted({0, len(chart.labels) // 2, len(chart.labels) - 1})
        for i in picks:
            anchor = "start" if i == 0 else "end" if i == len(chart.labels) - 1 else "middle"
            x = LEFT + i * step + (step / 2 if anchor == "middle" else 0 if i == 0 else step)
            ticks.append(
                format_html(
                    '<text x="{}" y="{}" font-size="11" fill="{}" text-anchor="{}">{}</text>',
                    f"{x:.1f}",
                    HEIGHT - 6,
                    GREY,
                    anchor,
                    chart.labels[i],
                )
            )
    legend = []
    x = LEFT
    for s in chart.series:
        legend.append(
            format_html(
                '<rect x="{}" y="6" width="10" height="10" fill="{}"></rect>'
                '<text x="{}" y="15" font-size="11" fill="currentColor">{}</text>',
                x,
                s.color,
                x + 14,
                s.name,
            )
        )
        x += 14 + 7 * len(s.name) + 16
    summary = ", ".join(f"{s.name} {sum(s.values)}" for s in chart.series)
    return format_html(
        '<svg class="chart" id="{id}" viewBox="0 0 {w} {h}" width="100%" role="img" '
        'aria-labelledby="{id}-title {id}-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">Totals: {summary}. '
        "The table below the chart lists every bar.</desc>{legend}"
        '<text x="{tx}" y="{ty}" font-size="11" fill="{grey}" text-anchor="end">{top}</text>'
        '<text x="{tx}" y="{by}" font-size="11" fill="{grey}" text-anchor="end">0</text>'
        '<line x1="{left}" y1="{by0}" x2="{right}" y2="{by0}" stroke="{grey}" '
        'stroke-width="1"></line>{bars}{ticks}</svg>',
        id=chart.chart_id,
        w=WIDTH,
        h=HEIGHT,
        title=chart.title,
        summary=summary or "no data",
        legend=format_html_join("", "{}", ((item,) for item in legend)),
        tx=LEFT - 6,
        ty=TOP + 9,
        by=TOP + plot_h,
        by0=f"{TOP + plot_h + 0.5:.1f}",
        left=LEFT,
        right=WIDTH - RIGHT,
        grey=GREY,
        top=top,
        bars=format_html_join("", "{}", ((b,) for b in bars)),
        ticks=format_html_join("", "{}", ((t,) for t in ticks)),
    )


def dot(color: str, label: str, *, size: int = 12) -> SafeString:
    """A status light: a filled circle that says what it means (role img + title)."""
    r = size / 2
    return format_html(
        '<svg class="status-dot" width="{s}" height="{s}" viewBox="0 0 {s} {s}" role="img" '
        'aria-label="{label}" xmlns="http://www.w3.org/2000/svg"><title>{label}</title>'
        '<circle cx="{r}" cy="{r}" r="{r}" fill="{color}"></circle></svg>',
        s=size,
        r=f"{r:g}",
        color=color,
        label=label,
    )
