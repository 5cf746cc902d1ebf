"""Charts drawn on the server as SVG: no script, no chart library, readable by screen readers.

Each chart is an ``<svg role="img">`` with a title naming every figure, so the figures are
there for people who cannot see the bars; the pages also show them as text.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#1f5fa8", "#b3541e", "#2e7d32", "#6a3d9a", "#8a6d00", "#006f7a", "#a01f4c")
"""Colours with at least 4.5:1 contrast against white, in a fixed order per factor."""
INK = "#1b1b1b"


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"


def factor_bar(contributions: Sequence[tuple[str, float]], maximum: float, *,
               width: int = 320, height: int = 18) -> Markup:
    """One pair's score as a stacked bar: each factor's contribution, out of the best score."""
    total = sum(max(v, 0.0) for _, v in contributions)
    label = "; ".join(f"{name} {_fmt(value)}" for name, value in contributions)
    title = escape(f"{_fmt(total)} / {_fmt(maximum)}: {label}")
    parts, x = [], 0.0
    scale = width / maximum if maximum > 0 else 0.0
    for index, (name, value) in enumerate(contributions):
        w = max(value, 0.0) * scale
        if w > 0:
            parts.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{height}" '
                         f'fill="{PALETTE[index % len(PALETTE)]}"><title>{escape(name)} '
                         f'{_fmt(value)}</title></rect>')
        x += w
    return Markup(
        f'<svg class="chart factor-bar" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f'<title>{title}</title>'
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f1f1f1" '
        f'stroke="#6b6b6b"/>{"".join(parts)}</svg>')


def bars(items: Sequence[tuple[str, float]], *, title: str, maximum: float | None = None,
         width: int = 480, row: int = 26, label_width: int = 190) -> Markup:
    """Horizontal bars, one per item, its value written at its end."""
    top = maximum if maximum is not None else max((v for _, v in items), default=0.0)
    height = max(row * len(items), row)
    span = width - label_width - 50
    rows = []
    for index, (name, value) in enumerate(items):
        y = index * row
        w = (value / top) * span if top > 0 else 0.0
        rows.append(
            f'<text x="{label_width - 6}" y="{y + row * 0.65:.1f}" text-anchor="end" '
            f'fill="{INK}" font-size="13">{escape(name)}</text>'
            f'<rect x="{label_width}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" '
            f'fill="{PALETTE[index % len(PALETTE)]}"/>'
            f'<text x="{label_width + w + 6:.1f}" y="{y + row * 0.65:.1f}" fill="{INK}" '
            f'font-size="13">{escape(_fmt(value))}</text>')
    return _frame(_summary(title, items), width, height, "".join(rows))


def columns(items: Sequence[tuple[str, float]], *, title: str, width: int = 520,
            height: int = 180) -> Markup:
    """Columns over time (e.g. sessions per week), the value above each column."""
    top = max((v for _, v in items), default=0.0)
    n = max(len(items), 1)
    slot = (width - 20) / n
    base = height - 22
    cols = []
    for index, (name, value) in enumerate(items):
        h = (value / top) * (base - 20) if top > 0 else 0.0
        x = 10 + index * slot
        cols.append(
            f'<rect x="{x + slot * 0.15:.1f}" y="{base - h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{h:.1f}" fill="{PALETTE[0]}"/>'
            f'<text x="{x + slot / 2:.1f}" y="{base - h - 4:.1f}" text-anchor="middle" '
            f'fill="{INK}" font-size="12">{escape(_fmt(value))}</text>'
            f'<text x="{x + slot / 2:.1f}" y="{height - 6}" text-anchor="middle" fill="{INK}" '
            f'font-size="11">{escape(name)}</text>')
    axis = f'<line x1="10" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#6b6b6b"/>'
    return _frame(_summary(title, items), width, height, axis + "".join(cols))


def progress(done: float, target: float, *, title: str, width: int = 480,
             height: int = 28) -> Markup:
    """How far a figure is towards its target: filled bar, the target as the frame's end."""
    share = min(done / target, 1.0) if target > 0 else 0.0
    label = escape(f"{title}: {_fmt(done)} / {_fmt(target)}")
    return _frame(label, width, height,
                  f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f1f1f1" '
                  f'stroke="#6b6b6b"/><rect x="0" y="0" width="{share * width:.1f}" '
                  f'height="{height}" fill="{PALETTE[2]}"/>')


def _summary(title: str, items: Sequence[tuple[str, float]]) -> str:
    """The chart's figures as text: what a screen reader announces instead of the picture."""
    return escape(f"{title}: " + "; ".join(f"{n} {_fmt(v)}" for n, v in items))


def _frame(label: str, width: int, height: int, body: str) -> Markup:
    """An accessible inline SVG: an image role and a title carrying ``label`` (escaped)."""
    return Markup(
        f'<svg class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f'<title>{label}</title>{body}</svg>')
