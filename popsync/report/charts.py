"""Charts as server-rendered SVG, laid out here and drawn by ``templates/charts.html.j2``: no
script, no network, readable in a mail attachment and offline."""

from __future__ import annotations

from typing import Any

# One colour per series, distinguishable in grey too (ColorBrewer Dark2, slightly darkened).
PALETTE = ("#1b7a5a", "#c0561a", "#6a5fa8", "#c8327a", "#55891c", "#b8860b", "#7a5c32", "#555")


def bar_chart(
    items: list[tuple[str, float]], fmt=str, width: int = 640, label_w: int = 330, colors=None
) -> dict[str, Any]:
    """A horizontal bar chart of (label, value) pairs; ``fmt`` writes a value."""
    top = max((value for _, value in items), default=0) or 1
    row = 22
    bars = [
        {"label": str(label), "text": fmt(value), "y": i * row + 2,
         "w": max(1.0, (width - label_w - 80) * value / top),
         "color": (colors or {}).get(label, PALETTE[0])}
        for i, (label, value) in enumerate(items)
    ]  # fmt: skip
    return {"bars": bars, "width": width, "height": row * len(items) + 4, "label_w": label_w}


def line_chart(
    x_labels: list[str],
    series: dict[str, list[float | None]],
    fmt=str,
    width: int = 720,
    height: int = 240,
    y_max: float | None = None,
) -> dict[str, Any]:
    """Lines over the same x positions (one per series; None leaves a gap), with a y axis of
    four ticks from 0 and the x labels thinned to fit."""
    left, right, top, bottom = 64, 16, 12, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for points in series.values() for v in points if v is not None]
    peak = y_max if y_max is not None else max(values, default=0) or 1
    n = max(len(x_labels), 1)

    def x(i: int) -> float:
        return left + (plot_w * (i + 0.5) / n)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / peak)

    lines = []
    for k, (name, points) in enumerate(series.items()):
        color = PALETTE[k % len(PALETTE)]
        dots = [{"x": round(x(i), 1), "y": round(y(v), 1), "title": f"{x_labels[i]}: {fmt(v)}"}
                for i, v in enumerate(points) if v is not None]  # fmt: skip
        segments, current = [], []
        for i, v in enumerate(points):
            if v is None:
                if len(current) > 1:
                    segments.append(" ".join(current))
                current = []
            else:
                current.append(f"{x(i):.1f},{y(v):.1f}")
        if len(current) > 1:
            segments.append(" ".join(current))
        lines.append({"name": name, "color": color, "segments": segments, "dots": dots})
    step = max(1, -(-n // 10))
    ticks = [{"y": round(y(peak * f), 1), "text": fmt(peak * f)} for f in (0, 0.25, 0.5, 0.75, 1)]
    labels = [
        {"x": round(x(i), 1), "text": text} for i, text in enumerate(x_labels) if i % step == 0
    ]
    return {"width": width, "height": height, "left": left, "right": width - right,
            "top": top, "bottom": top + plot_h, "lines": lines, "ticks": ticks,
            "labels": labels}  # fmt: skip


def waterfall(items: list[tuple[str, float, str]], width: int = 440) -> dict[str, Any]:
    """Splink's waterfall: one bar per comparison (label, weight, agreement class), starting
    where the previous one ended, and the total; weights in bits (log2 of the odds)."""
    row, label_w, right = 22, 100, 52
    total, running, points = 0.0, 0.0, [0.0]
    for _, weight, _ in items:
        running += weight
        points.append(running)
    total = running
    low, high = min(points + [0.0]), max(points + [0.0])
    span = (high - low) or 1
    plot = width - label_w - right

    def px(v: float) -> float:
        return label_w + plot * (v - low) / span

    bars, start = [], 0.0
    for i, (label, weight, agreement) in enumerate(items):
        end = start + weight
        bars.append({"label": label, "y": i * row + 2, "x": round(px(min(start, end)), 1),
                     "w": round(max(1.5, abs(px(end) - px(start))), 1), "agreement": agreement,
                     "text": f"{weight:+.1f}", "tx": round(px(max(start, end)) + 4, 1)})  # fmt: skip
        start = end
    y = len(items) * row + 2
    bars.append({"label": "Tổng", "y": y, "x": round(px(min(0, total)), 1),
                 "w": round(max(1.5, abs(px(total) - px(0))), 1), "agreement": "total",
                 "text": f"{total:+.1f}", "tx": round(px(max(0, total)) + 4, 1)})  # fmt: skip
    return {"bars": bars, "width": width, "height": row * (len(items) + 1) + 6,
            "zero": round(px(0), 1), "label_w": label_w, "total": total}  # fmt: skip
