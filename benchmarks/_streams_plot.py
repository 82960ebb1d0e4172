"""The plot of ``benchmarks.streams``: hand-written SVG, two panels against the number of cameras.

Only the standard library: the plot is text, so it can be unit tested and
diffed without a plotting library.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

__all__ = ["COLOURS", "Series", "plot_svg"]

Series = Sequence[tuple[int, float, float]]
"""One mode's points: ``(cameras, mean analysed fps per camera, CPU % of the box)``."""

COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd")
"""Line colours, in the order of the series."""


def _polyline(points: Sequence[tuple[float, float]], colour: str) -> str:
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    marks = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in points)
    return f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>{marks}'


def _ticks(top: float) -> list[float]:
    """Round tick values from 0 to at least ``top``, at most seven of them."""
    step = next((s for s in (0.5, 1, 2, 5, 10, 20, 25, 50, 100, 200, 500) if top / s <= 6), top / 6)
    return [step * i for i in range(math.ceil(top / step - 1e-9) + 1)]


def plot_svg(
    series: Mapping[str, Series], target_fps: float, *, width: int = 640, height: int = 520
) -> str:
    """Return an SVG document: analysed fps per camera (target dashed) over CPU %, against K.

    Args:
        series: Points per named line (the name goes into the legend).
        target_fps: Drawn as a dashed line on the fps panel.
        width: Picture width in pixels.
        height: Picture height in pixels.
    """
    left, right, gap = 70, 20, 60
    panel = (height - 3 * gap // 2 - 40) // 2
    top_fps, top_cpu = 30, 30 + panel + gap
    everything = [p for points in series.values() for p in points]
    x_max = max((k for k, _, _ in everything), default=1) or 1
    fps_ticks = _ticks(max([target_fps * 1.2, *(f for _, f, _ in everything if math.isfinite(f))]))
    cpu_ticks = _ticks(max([100.0, *(c for _, _, c in everything if math.isfinite(c))]))
    ks = sorted({k for k, _, _ in everything})

    def sx(k: float) -> float:
        return left + (width - left - right) * k / x_max

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    for top, ticks, label, column in (
        (top_fps, fps_ticks, "mean analysed fps per camera", 1),
        (top_cpu, cpu_ticks, "CPU % of the box", 2),
    ):
        y_max = ticks[-1]

        def sy(v: float, top: int = top, y_max: float = y_max) -> float:
            return top + panel - panel * v / y_max

        out.append(
            f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{panel}" '
            'fill="none" stroke="#333"/>'
        )
        out.extend(
            f'<text x="{left - 6}" y="{sy(v) + 4:.1f}" text-anchor="end">{v:g}</text>'
            for v in ticks
        )
        out.append(
            f'<text transform="translate(16,{top + panel / 2:.0f}) rotate(-90)" '
            f'text-anchor="middle">{html.escape(label)}</text>'
        )
        out.extend(
            f'<text x="{sx(k):.1f}" y="{top + panel + 16}" text-anchor="middle">{k}</text>'
            for k in ks
        )
        for (_, points), colour in zip(series.items(), COLOURS, strict=False):
            xy = [(sx(p[0]), sy(p[column])) for p in sorted(points) if math.isfinite(p[column])]
            if xy:
                out.append(_polyline(xy, colour))
        if column == 1:
            y = sy(target_fps)
            out.append(
                f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
                'stroke="#555" stroke-dasharray="6,4"/>'
                f'<text x="{width - right - 4}" y="{y - 5:.1f}" text-anchor="end" '
                f'fill="#555">target {target_fps:g} fps</text>'
            )
    out.append(
        f'<text x="{(left + width - right) / 2:.0f}" y="{height - 12}" '
        'text-anchor="middle">cameras (K)</text>'
    )
    for i, (name, colour) in enumerate(zip(series, COLOURS, strict=False)):
        x = left + 10 + 150 * i
        out.append(
            f'<line x1="{x}" y1="14" x2="{x + 20}" y2="14" stroke="{colour}" stroke-width="2"/>'
            f'<text x="{x + 26}" y="18">{html.escape(name)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"
