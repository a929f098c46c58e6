"""A tiny SVG writer and the scales the charts need (no plotting library).

Why our own: the reports must be one self-contained file with no scripts and
no network, and the grader should not pull in matplotlib for five charts.
Every attribute value and every text node goes through ``markupsafe.escape``
here, at one place, so a label built from student-controlled text (a check
name, a tampering reason) can never become markup.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape


def fmt_coord(value: float) -> str:
    """Pixel coordinates with 2 decimals at most: small files, stable output."""
    if not math.isfinite(value):
        value = 0.0
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _attrs(attrs: dict[str, Any]) -> str:
    parts = []
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        # Python-friendly keyword names: class_ -> class, text_anchor -> text-anchor.
        name = key.rstrip("_").replace("_", "-")
        if isinstance(value, bool):
            value = name
        elif isinstance(value, float):
            value = fmt_coord(value)
        parts.append(f' {name}="{escape(str(value))}"')
    return "".join(parts)


class Svg:
    """An SVG document built element by element; ``markup()`` gives the inline ``<svg>``.

    ``tip`` on any element adds a ``<title>`` child: browsers show it on hover,
    screen readers read it, and it needs no script.
    """

    def __init__(self, width: float, height: float, title: str, desc: str = "",
                 css_class: str = "chart") -> None:
        self.width, self.height = float(width), float(height)
        self.title, self.desc, self.css_class = title, desc, css_class
        self._parts: list[str] = []

    def element(self, tag: str, text: str | None = None, tip: str | None = None, **attrs: Any) -> None:
        inner = ""
        if tip:
            inner += f"<title>{escape(tip)}</title>"
        if text is not None:
            inner += str(escape(text))
        if inner:
            self._parts.append(f"<{tag}{_attrs(attrs)}>{inner}</{tag}>")
        else:
            self._parts.append(f"<{tag}{_attrs(attrs)}/>")

    def line(self, x1: float, y1: float, x2: float, y2: float, **attrs: Any) -> None:
        self.element("line", x1=float(x1), y1=float(y1), x2=float(x2), y2=float(y2), **attrs)

    def rect(self, x: float, y: float, w: float, h: float, **attrs: Any) -> None:
        self.element("rect", x=float(x), y=float(y), width=float(max(w, 0.0)), height=float(max(h, 0.0)),
                     **attrs)

    def circle(self, cx: float, cy: float, r: float, **attrs: Any) -> None:
        self.element("circle", cx=float(cx), cy=float(cy), r=float(r), **attrs)

    def polyline(self, points: Iterable[tuple[float, float]], **attrs: Any) -> None:
        self.element("polyline", points=" ".join(f"{fmt_coord(x)},{fmt_coord(y)}" for x, y in points),
                     **attrs)

    def polygon(self, points: Iterable[tuple[float, float]], **attrs: Any) -> None:
        self.element("polygon", points=" ".join(f"{fmt_coord(x)},{fmt_coord(y)}" for x, y in points),
                     **attrs)

    def text(self, x: float, y: float, text: str, **attrs: Any) -> None:
        self.element("text", text=text, x=float(x), y=float(y), **attrs)

    def open_group(self, **attrs: Any) -> None:
        self._parts.append(f"<g{_attrs(attrs)}>")

    def close_group(self) -> None:
        self._parts.append("</g>")

    def markup(self) -> Markup:
        head = (f'<svg class="{escape(self.css_class)}" width="{fmt_coord(self.width)}" '
                f'height="{fmt_coord(self.height)}" viewBox="0 0 {fmt_coord(self.width)} '
                f'{fmt_coord(self.height)}" role="img" font-family="system-ui, sans-serif" font-size="11">'
                f"<title>{escape(self.title)}</title>")
        if self.desc:
            head += f"<desc>{escape(self.desc)}</desc>"
        # Every part was escaped as it was added, so this is markup we wrote.
        return Markup(head + "".join(self._parts) + "</svg>")


# ---------------------------------------------------------------- scales

@dataclass(frozen=True)
class LinearScale:
    """Maps [lo, hi] onto pixels [px_lo, px_hi] (px_hi < px_lo for a y axis)."""

    lo: float
    hi: float
    px_lo: float
    px_hi: float

    def __call__(self, value: float) -> float:
        span = self.hi - self.lo or 1.0
        return self.px_lo + (value - self.lo) / span * (self.px_hi - self.px_lo)

    def ticks(self, count: int = 5) -> list[float]:
        return nice_ticks(self.lo, self.hi, count)


@dataclass(frozen=True)
class LogScale:
    """Maps [lo, hi] (both > 0) onto pixels, logarithmically."""

    lo: float
    hi: float
    px_lo: float
    px_hi: float

    def __call__(self, value: float) -> float:
        a, b = math.log10(self.lo), math.log10(self.hi)
        v = math.log10(max(value, 1e-300))
        return self.px_lo + (v - a) / ((b - a) or 1.0) * (self.px_hi - self.px_lo)

    def invert(self, px: float) -> float:
        a, b = math.log10(self.lo), math.log10(self.hi)
        t = (px - self.px_lo) / ((self.px_hi - self.px_lo) or 1.0)
        return 10 ** (a + t * (b - a))

    def decades(self) -> list[float]:
        """The powers of ten inside the domain: the labelled ticks."""
        first = math.ceil(math.log10(self.lo) - 1e-9)
        last = math.floor(math.log10(self.hi) + 1e-9)
        return [10.0 ** e for e in range(first, last + 1)]

    def minor_ticks(self) -> list[float]:
        """2..9 times each power of ten inside the domain: unlabelled grid ticks."""
        first = math.floor(math.log10(self.lo))
        last = math.ceil(math.log10(self.hi))
        out = []
        for e in range(first, last + 1):
            for k in range(2, 10):
                v = k * 10.0 ** e
                if self.lo <= v <= self.hi:
                    out.append(v)
        return out


def log_domain(values: Iterable[float], pad: float = 2.0, min_decade_ticks: int = 2) -> tuple[float, float]:
    """A log-axis domain holding every positive value, padded by ``pad`` on each side.

    When that domain holds fewer than ``min_decade_ticks`` powers of ten (a
    narrow range) it is widened to whole decades, so the axis always has
    labelled ticks to read against.
    """
    vals = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v) and v > 0]
    if not vals:
        return 0.1, 10.0
    lo, hi = min(vals) / pad, max(vals) * pad
    scale = LogScale(lo, hi, 0, 1)
    if len(scale.decades()) < min_decade_ticks:
        lo = 10.0 ** math.floor(math.log10(lo))
        hi = 10.0 ** math.ceil(math.log10(hi))
        if hi / lo < 10.0 ** (min_decade_ticks - 1):
            hi = lo * 10.0 ** (min_decade_ticks - 1)
    return lo, hi


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5, 5 x 10^k steps) covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step - 1e-9) * step
    ticks = []
    v = start
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 10))
        v += step
    return ticks


def fmt_tick(value: float) -> str:
    """Axis labels: 0.01, 0.1, 1, 10, 100, 1000, then 1e4 and up (short, exact for decades)."""
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e5:
        return f"{value:g}"
    return f"1e{round(math.log10(abs(value)))}" if _is_decade(value) else f"{value:.0e}"


def _is_decade(value: float) -> bool:
    e = math.log10(abs(value))
    return abs(e - round(e)) < 1e-9
