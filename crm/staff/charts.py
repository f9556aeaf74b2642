"""A bar chart drawn on the server as SVG: no script, readable without colour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

WIDTH = 720
HEIGHT = 220
TOP = 24
BOTTOM = 36
LEFT = 8
RIGHT = 8


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    day: date
    label: str  # shown under every seventh bar, and for the last one


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    baseline: float
    bars: list[Bar]
    peak: int
    total: int


def daily_bars(series: list[tuple[date, int]]) -> BarChart:
    peak = max((count for _day, count in series), default=0)
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(series), 1)
    bars = []
    for index, (day, count) in enumerate(series):
        height = (count / peak) * plot_height if peak else 0
        # Every seventh day, counted back from today so the last bar is always labelled.
        show_label = (len(series) - 1 - index) % 7 == 0
        bars.append(
            Bar(
                x=LEFT + index * slot + slot * 0.15,
                y=TOP + plot_height - height,
                width=slot * 0.7,
                height=height,
                count=count,
                day=day,
                label=day.strftime("%d %b") if show_label else "",
            )
        )
    return BarChart(
        width=WIDTH,
        height=HEIGHT,
        baseline=TOP + plot_height,
        bars=bars,
        peak=peak,
        total=sum(count for _day, count in series),
    )
