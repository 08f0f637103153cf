"""Geometry of the review's bar charts (drawn as SVG by ``_chart.html``).

Each group (a priority, a region) is one row: a pale bar for the value needed,
a middle one for the value allocated and a dark one for the value delivered,
drawn over each other (delivered ≤ allocated ≤ needed), all on one scale — the
largest need spans the bar area — so groups compare by size too. Positions
only: the figures come from :mod:`engine.review`, colours from ``batch.css``
(classes, no inline style: the CSP forbids them). Right to left pages get the
mirror image (bars grow leftwards from the labels on the right).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.review import Bar

WIDTH = 640
LABEL = 170  # the label column
VALUE = 110  # the figure column after the bars
GAP = 10
ROW = 30
BAR = 18


@dataclass(frozen=True)
class Rect:
    x: float
    width: float


@dataclass(frozen=True)
class ChartRow:
    label: str
    y: float  # top of the bar
    text_y: float  # baseline of the row's texts
    need: Rect
    allocated: Rect
    delivered: Rect
    percent: float  # delivered / needed, 0..100
    bar: Bar


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    label_x: float
    label_anchor: str
    value_x: float
    value_anchor: str
    rows: list[ChartRow]


def chart(bars: list[Bar], labels: list[str], rtl: bool = False) -> Chart:
    """The rows of a chart of ``bars`` named ``labels`` (already in the page's language)."""
    area = WIDTH - LABEL - VALUE - 2 * GAP
    scale = max((b.need for b in bars), default=0.0)
    rows = []
    for index, (bar, label) in enumerate(zip(bars, labels, strict=True)):
        y = index * ROW + (ROW - BAR) / 2

        def rect(value: float) -> Rect:
            width = area * value / scale if scale > 0 else 0.0
            start = LABEL + GAP
            # Mirrored: bars start at the label column's inner edge, on the right.
            x = WIDTH - start - width if rtl else start
            return Rect(round(x, 2), round(width, 2))

        rows.append(
            ChartRow(
                label=label,
                y=round(y, 2),
                text_y=round(index * ROW + ROW / 2 + 5, 2),
                need=rect(bar.need),
                allocated=rect(bar.allocated),
                delivered=rect(bar.delivered),
                percent=round(100 * bar.delivered_share, 1),
                bar=bar,
            )
        )
    # Texts are anchored at their start in the page's direction (the SVG carries
    # ``direction``): on the right edge for right to left pages.
    label_x = WIDTH - 4 if rtl else 4
    value_x = VALUE - 4 if rtl else WIDTH - VALUE + 4
    return Chart(WIDTH, max(ROW, ROW * len(rows)), label_x, "start", value_x, "start", rows)
