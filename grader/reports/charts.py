"""The report charts: geometry as pure functions, then SVG from that geometry.

Each chart is two steps so the placement can be tested without parsing SVG:
``roofline_plot(view)`` maps the data to pixel coordinates (a frozen
dataclass), ``roofline_svg(plot)`` draws it. Same for the speed panels, the
memory bars and the class histogram. Colours are also told apart by shape
or position (filled vs hollow markers, labelled bars), so the charts read in
greyscale print.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from grader.reports.measured import (
    MB,
    MemoryView,
    RooflineView,
    SpeedView,
    fmt_gflops,
    fmt_mb,
    fmt_ratio,
)
from grader.reports.svg import (
    LinearScale,
    LogScale,
    Svg,
    fmt_tick,
    log_domain,
    nice_ticks,
)

STUDENT = "#0969da"
REFERENCE = "#bc4c00"
BASELINE = "#8c959f"
ROOF = "#1f2328"
THRESHOLD = "#b42318"
GRID = "#d8dee4"
MUTED = "#57606a"


@dataclass(frozen=True)
class Box:
    """The plot area inside a chart, in pixels."""

    left: float
    top: float
    right: float
    bottom: float


def _axes_frame(svg: Svg, box: Box) -> None:
    svg.rect(box.left, box.top, box.right - box.left, box.bottom - box.top, fill="none", stroke="#8c959f")


def _log_y_axis(svg: Svg, y: LogScale, box: Box, labels: Sequence[float]) -> None:
    for v in y.minor_ticks():
        svg.line(box.left, y(v), box.left + 3, y(v), stroke="#8c959f")
    for v in labels:
        svg.line(box.left, y(v), box.right, y(v), stroke=GRID)
        svg.text(box.left - 5, y(v) + 4, fmt_tick(v), text_anchor="end", fill=MUTED)


# ---------------------------------------------------------------- roofline

@dataclass(frozen=True)
class Marker:
    series: str  # "measured" | "predicted" | "reference"
    name: str
    op: str
    intensity: float  # FLOP/byte
    gflops: float
    x: float  # pixels
    y: float


@dataclass(frozen=True)
class Label:
    """A text label at (x, y) (the baseline), anchored at its start or end."""

    text: str
    x: float
    y: float
    anchor: str = "start"
    size: float = 10.0

    def bounds(self) -> tuple[float, float, float, float]:
        # No font metrics without a browser: ~0.6 em per character is close for sans-serif.
        w = 0.6 * self.size * len(self.text)
        x0 = self.x - w if self.anchor == "end" else self.x
        return x0, self.y - self.size, x0 + w, self.y + 2


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def column_labels(columns: Sequence[tuple[str, float]], box: Box, row_height: float = 12.0,
                  rows: int = 4) -> list[Label]:
    """Name each operation along the bottom of the plot, centred under its markers.

    Every series of one operation shares its x (the intensity), so a label at
    that x is unambiguous wherever the markers are. Labels that would overlap
    go up a row; within the plot's width.
    """
    placed: list[Label] = []
    for text, px in columns:
        label = None
        for row in range(rows):
            w = 0.6 * 10 * len(text)
            cx = min(max(px, box.left + 2 + w / 2), box.right - 2 - w / 2)
            candidate = Label(text, cx - w / 2, box.bottom - 6 - row * row_height)
            b = candidate.bounds()
            padded = (b[0] - 4, b[1], b[2] + 4, b[3])  # a gap between neighbours in one row
            if not any(_overlap(padded, other.bounds()) for other in placed):
                label = candidate
                break
        placed.append(label or candidate)
    return placed


@dataclass(frozen=True)
class RooflinePlot:
    width: float
    height: float
    box: Box
    x: LogScale  # arithmetic intensity, FLOP/byte
    y: LogScale  # GFLOP/s
    peak_gflops: float
    bandwidth_gbs: float
    markers: tuple[Marker, ...]
    labels: tuple[Label, ...] = ()  # one per measured operation
    roof_label: Label | None = None
    ridge_label: Label | None = None

    @property
    def ridge(self) -> float:
        """The intensity where the bandwidth slope meets the compute roof."""
        return self.peak_gflops / self.bandwidth_gbs

    def attainable(self, intensity: float) -> float:
        """The roofline model: min(peak, intensity x bandwidth), in GFLOP/s."""
        return min(self.peak_gflops, intensity * self.bandwidth_gbs)

    def roof_y(self, intensity: float) -> float:
        """Pixel y of the roof above ``intensity`` (smaller y is higher on the page)."""
        return self.y(self.attainable(intensity))

    def roof_pixels(self) -> list[tuple[float, float]]:
        """The roof as a polyline clipped to the plot area: slope, ridge, flat compute roof."""
        start = max(self.x.lo, self.y.lo / self.bandwidth_gbs)
        pts = [(self.x(start), self.y(self.attainable(start)))]
        if self.x.lo < self.ridge < self.x.hi:
            pts.append((self.x(self.ridge), self.y(self.peak_gflops)))
        pts.append((self.x(self.x.hi), self.y(self.attainable(self.x.hi))))
        return pts

    def series(self, name: str) -> list[Marker]:
        return [m for m in self.markers if m.series == name]


def roofline_plot(view: RooflineView, width: float = 640, height: float = 440) -> RooflinePlot | None:
    """Place the roofs, every point and the labels; None when the roofs or the points are unknown."""
    if not view.peak_gflops or not view.bandwidth_gbs or not view.points:
        return None
    peak, bw = view.peak_gflops, view.bandwidth_gbs
    box = Box(64, 16, width - 20, height - 96)  # room for tick labels, axis titles and the legend
    xs = [p.intensity for p in view.points] + [peak / bw]
    ys = [peak]
    for p in view.points:
        ys += [v for v in (p.measured, p.predicted, p.reference_measured) if v]
    xlo, xhi = log_domain(xs, pad=2.5)
    ylo, yhi = log_domain(ys, pad=2.0)
    x = LogScale(xlo, xhi, box.left, box.right)
    y = LogScale(ylo, yhi, box.bottom, box.top)
    markers = []
    for p in view.points:
        for series, value in (("reference", p.reference_measured), ("predicted", p.predicted),
                              ("measured", p.measured)):
            if value:
                markers.append(Marker(series, p.name, p.op, p.intensity, value, x(p.intensity), y(value)))
    roof_label = Label(f"compute roof {fmt_gflops(peak)}", box.right - 4, y(peak) - 10, "end", 11)
    # Drawn upwards along the dotted ridge line, so it takes no room from the operations' labels.
    ridge_label = (Label(f"ridge {peak / bw:.3g} FLOP/B", x(peak / bw) - 4, box.bottom - 44)
                   if xlo < peak / bw < xhi else None)
    names: dict[str, float] = {}
    for m in markers:
        names.setdefault(m.name, m.x)
    labels = column_labels(sorted(names.items(), key=lambda kv: kv[1]), box)
    return RooflinePlot(width, height, box, x, y, peak, bw, tuple(markers), tuple(labels), roof_label,
                        ridge_label)


def _diamond(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    return [(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)]


def _label(svg: Svg, label: Label, **attrs: str) -> None:
    svg.text(label.x, label.y, label.text, text_anchor=label.anchor, font_size=f"{label.size:g}", **attrs)


def roofline_svg(plot: RooflinePlot, view: RooflineView) -> Markup:
    box, x, y = plot.box, plot.x, plot.y
    svg = Svg(plot.width, plot.height, "Roofline on the grading machine",
              desc=(f"Log-log roofline: compute roof {fmt_gflops(plot.peak_gflops)}, memory bandwidth "
                    f"{plot.bandwidth_gbs:.3g} GB/s; measured and predicted GFLOP/s of "
                    + ", ".join(p.name for p in view.points)))
    # Grid and ticks at powers of ten (labelled), minor ticks at 2..9.
    for v in x.minor_ticks():
        svg.line(x(v), box.bottom, x(v), box.bottom - 3, stroke="#8c959f")
    for v in x.decades():
        svg.line(x(v), box.top, x(v), box.bottom, stroke=GRID)
        svg.text(x(v), box.bottom + 15, fmt_tick(v), text_anchor="middle", fill=MUTED)
    _log_y_axis(svg, y, box, y.decades())
    _axes_frame(svg, box)
    svg.text((box.left + box.right) / 2, box.bottom + 32, "arithmetic intensity (FLOP/byte)",
             text_anchor="middle", fill=MUTED)
    cy = (box.top + box.bottom) / 2
    svg.text(16, cy, "GFLOP/s", text_anchor="middle", fill=MUTED, transform=f"rotate(-90 16 {cy:.1f})")

    # The roofs of this machine (calibrated).
    roof = plot.roof_pixels()
    svg.polyline(roof, fill="none", stroke=ROOF, stroke_width=2.5, class_="roof",
                 tip=f"roofline: min({plot.peak_gflops:.3g}, intensity x {plot.bandwidth_gbs:.3g})")
    if plot.ridge_label:
        rx, ry = x(plot.ridge), y(plot.peak_gflops)
        svg.line(rx, ry, rx, box.bottom, stroke=ROOF, stroke_dasharray="2 3", stroke_width=1)
        lbl = plot.ridge_label
        svg.text(lbl.x, lbl.y, lbl.text, fill=MUTED, font_size="10",
                 transform=f"rotate(-90 {lbl.x:.1f} {lbl.y:.1f})")
    if plot.roof_label:
        _label(svg, plot.roof_label, fill=ROOF, font_weight="600")
    (x0, y0), (x1, y1) = roof[0], roof[1]
    angle = math.degrees(math.atan2(y1 - y0, x1 - x0))
    mx, my = x0 + (x1 - x0) * 0.45, y0 + (y1 - y0) * 0.45
    svg.text(mx, my - 7, f"bandwidth {plot.bandwidth_gbs:.3g} GB/s", text_anchor="middle", fill=ROOF,
             font_weight="600", transform=f"rotate({angle:.1f} {mx:.1f} {my:.1f})")

    # A dotted line from each prediction to its measurement shows the gap.
    measured = {m.name: m for m in plot.series("measured")}
    for m in plot.series("predicted"):
        if m.name in measured:
            svg.line(m.x, m.y, m.x, measured[m.name].y, stroke=STUDENT, stroke_dasharray="1 3",
                     stroke_width=1.2)
    # The reference's diamonds are larger and drawn first, so one under a submission's dot still shows.
    for m in plot.series("reference"):
        svg.polygon(_diamond(m.x, m.y, 7.5), fill=REFERENCE, fill_opacity=0.9, class_="mk-reference",
                    tip=f"reference, {m.name}: {fmt_gflops(m.gflops)} measured")
    for m in plot.series("predicted"):
        svg.circle(m.x, m.y, 5.5, fill="white", stroke=STUDENT, stroke_width=2, class_="mk-predicted",
                   tip=f"{m.name}: predicted {fmt_gflops(m.gflops)}")
    for m in plot.series("measured"):
        svg.circle(m.x, m.y, 4.5, fill=STUDENT, stroke="white", stroke_width=1, class_="mk-measured",
                   tip=f"{m.name}: measured {fmt_gflops(m.gflops)} at {m.intensity:.3g} FLOP/byte")
    # Each operation's name under its column of markers, with a faint guide up to the lowest one.
    lowest: dict[str, float] = {}
    for m in plot.markers:
        lowest[m.name] = max(lowest.get(m.name, m.y), m.y)
    for label in plot.labels:
        b = label.bounds()
        cx = (b[0] + b[2]) / 2
        if label.text in lowest and lowest[label.text] + 8 < b[1]:
            svg.line(cx, lowest[label.text] + 8, cx, b[1] - 1, stroke=GRID, stroke_width=1)
        _label(svg, label, fill=ROOF, class_="oplabel")

    # Legend under the axis title, two columns: shapes as well as colours.
    items = [("measured", "submission, measured"), ("predicted", "submission, predicted"),
             ("reference", "reference, measured"), ("roof", "this machine's roofs")]
    for i, (kind, label) in enumerate(items):
        lx = box.left + (i % 2) * 220
        ly = box.bottom + 56 + (i // 2) * 18
        if kind == "measured":
            svg.circle(lx + 7, ly - 4, 4.5, fill=STUDENT)
        elif kind == "predicted":
            svg.circle(lx + 7, ly - 4, 5, fill="white", stroke=STUDENT, stroke_width=2)
        elif kind == "reference":
            svg.polygon(_diamond(lx + 7, ly - 4, 6.5), fill=REFERENCE)
        else:
            svg.line(lx, ly - 4, lx + 14, ly - 4, stroke=ROOF, stroke_width=2.5)
        svg.text(lx + 20, ly, label, fill=ROOF)
    return svg.markup()


# ---------------------------------------------------------------- speed

@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    x: float
    y: float  # top of the bar
    width: float
    height: float
    color: str
    whisker: tuple[float, float] | None  # pixel y of the CI's high and low ends


@dataclass(frozen=True)
class SpeedPanel:
    width: float
    height: float
    box: Box
    y: LogScale
    bars: tuple[Bar, ...]
    threshold_y: float | None


def _labelled_ticks(scale: LogScale) -> list[float]:
    # Several decades: label the powers of ten. Less: 1-2-5 steps, or the axis has one label.
    if len(scale.decades()) >= 2:
        return scale.decades()
    e0, e1 = math.floor(math.log10(scale.lo)), math.ceil(math.log10(scale.hi))
    return [k * 10.0 ** e for e in range(e0, e1 + 1) for k in (1, 2, 5) if scale.lo <= k * 10.0 ** e <= scale.hi]


def speed_panel(view: SpeedView, width: float = 250, height: float = 210) -> SpeedPanel | None:
    """Bars for baseline (1x by definition), reference and submission, on a log axis."""
    if view.student is None:
        return None
    entries: list[tuple[str, float, float | None, float | None, str]] = [("baseline", 1.0, None, None, BASELINE)]
    if view.reference:
        r = view.reference
        entries.append(("reference", r.median, r.low, r.high, REFERENCE))
    s = view.student
    entries.append(("submission", s.median, s.low, s.high, STUDENT))
    values = [1.0] + [v for _, m, lo, hi, _ in entries for v in (m, lo, hi) if v]
    if view.threshold:
        values.append(view.threshold)
    box = Box(46, 30, width - 10, height - 24)
    lo, hi = log_domain(values, pad=1.6, min_decade_ticks=1)
    y = LogScale(lo, hi, box.bottom, box.top)
    slot = (box.right - box.left) / len(entries)
    bars = []
    for i, (label, value, low, high, color) in enumerate(entries):
        bx = box.left + slot * i + slot * 0.2
        top = y(value)
        whisker = (y(high), y(low)) if low and high else None
        bars.append(Bar(label, value, bx, top, slot * 0.6, box.bottom - top, color, whisker))
    threshold_y = y(view.threshold) if view.threshold else None
    return SpeedPanel(width, height, box, y, tuple(bars), threshold_y)


def speed_svg(panel: SpeedPanel, view: SpeedView) -> Markup:
    box = panel.box
    svg = Svg(panel.width, panel.height, f"Speedup: {view.name}",
              desc=f"{view.what}. {view.summary()}", css_class="chart speed")
    _log_y_axis(svg, panel.y, box, _labelled_ticks(panel.y))
    _axes_frame(svg, box)
    for bar in panel.bars:
        svg.rect(bar.x, bar.y, bar.width, bar.height, fill=bar.color, class_=f"bar-{bar.label}",
                 tip=f"{bar.label}: {fmt_ratio(bar.value)}")
        top = bar.y
        if bar.whisker:
            cx = bar.x + bar.width / 2
            hi_y, lo_y = bar.whisker
            svg.line(cx, hi_y, cx, lo_y, stroke=ROOF, stroke_width=1.2)
            svg.line(cx - 5, hi_y, cx + 5, hi_y, stroke=ROOF, stroke_width=1.2)
            svg.line(cx - 5, lo_y, cx + 5, lo_y, stroke=ROOF, stroke_width=1.2)
            top = min(top, hi_y)
        svg.text(bar.x + bar.width / 2, max(top - 4, box.top - 6), fmt_ratio(bar.value),
                 text_anchor="middle", fill=ROOF, font_size=10)
        svg.text(bar.x + bar.width / 2, box.bottom + 14, bar.label, text_anchor="middle", fill=MUTED,
                 font_size=10)
    # The threshold's label sits in the header row, keyed by a dashed swatch: inside the
    # plot it would collide with the bars' value labels.
    svg.text(4, 11, "speedup (log scale)", fill=MUTED, font_size=10)
    if panel.threshold_y is not None and view.threshold:
        svg.line(box.left, panel.threshold_y, box.right, panel.threshold_y, stroke=THRESHOLD,
                 stroke_width=1.5, stroke_dasharray="6 3", class_="threshold",
                 tip=f"needed: {fmt_ratio(view.threshold)}")
        svg.line(box.right - 96, 7, box.right - 78, 7, stroke=THRESHOLD, stroke_width=1.5,
                 stroke_dasharray="6 3")
        svg.text(box.right, 11, f"needed {fmt_ratio(view.threshold)}", fill=THRESHOLD, font_size=10,
                 text_anchor="end")
    return svg.markup()


# ---------------------------------------------------------------- memory

@dataclass(frozen=True)
class MemoryBars:
    width: float
    height: float
    box: Box
    x: LinearScale  # megabytes
    bars: tuple[Bar, ...]  # horizontal: x, y, width, height in pixels
    allowed_x: float | None  # the threshold as a peak, in pixels


def memory_bars(view: MemoryView, width: float = 600) -> MemoryBars | None:
    rows = [(label, value, color) for label, value, color in (
        (view.baseline_label, view.baseline, BASELINE),
        (f"submission {view.function}", view.student, STUDENT),
        (f"reference {view.function}", view.reference, REFERENCE),
    ) if value is not None]
    if not rows:
        return None
    row_h = 30
    box = Box(150, 10, width - 80, 10 + row_h * len(rows))
    values = [v / MB for _, v, _ in rows]
    allowed = view.allowed_peak / MB if view.allowed_peak else None
    top = max(values + ([allowed] if allowed else []))
    x = LinearScale(0.0, nice_ticks(0, top * 1.05, 4)[-1] if top > 0 else 1.0, box.left, box.right)
    bars = tuple(Bar(label, v / MB, box.left, box.top + i * row_h + 6, x(v / MB) - box.left, row_h - 12,
                     color, None) for i, (label, v, color) in enumerate(rows))
    return MemoryBars(width, box.bottom + 34, box, x, bars, x(allowed) if allowed else None)


def memory_svg(chart: MemoryBars, view: MemoryView) -> Markup:
    box = chart.box
    svg = Svg(chart.width, chart.height, "Peak memory of one GELU call",
              desc=view.summary(), css_class="chart memory")
    for t in chart.x.ticks(4):
        svg.line(chart.x(t), box.top, chart.x(t), box.bottom, stroke=GRID)
        svg.text(chart.x(t), box.bottom + 14, f"{t:g}", text_anchor="middle", fill=MUTED, font_size=10)
    svg.text((box.left + box.right) / 2, box.bottom + 28, "tracemalloc peak (MB)", text_anchor="middle",
             fill=MUTED, font_size=10)
    for bar in chart.bars:
        svg.text(box.left - 8, bar.y + bar.height / 2 + 4, bar.label, text_anchor="end", fill=ROOF)
        svg.rect(bar.x, bar.y, bar.width, bar.height, fill=bar.color, class_="membar",
                 tip=f"{bar.label}: {bar.value:.1f} MB")
        svg.text(bar.x + bar.width + 5, bar.y + bar.height / 2 + 4, f"{bar.value:.1f} MB", fill=ROOF)
    if chart.allowed_x is not None and view.allowed_peak:
        svg.line(chart.allowed_x, box.top - 4, chart.allowed_x, box.bottom + 2, stroke=THRESHOLD,
                 stroke_width=1.5, stroke_dasharray="6 3", class_="threshold")
        svg.text(chart.allowed_x + 4, box.top + 4, f"needed \u2264 {fmt_mb(view.allowed_peak)}",
                 fill=THRESHOLD, font_size=10)
    return svg.markup()


# ---------------------------------------------------------------- class histogram

@dataclass(frozen=True)
class Histogram:
    width: float
    height: float
    box: Box
    edges: tuple[float, ...]  # bin edges in points (len(counts) + 1)
    counts: tuple[int, ...]
    bars: tuple[Bar, ...]
    y: LinearScale
    y_step: int  # whole submissions per y tick


def bin_width(points_possible: float, target_bins: int = 10) -> float:
    """A round bin width (1, 2, 5 x 10^k) giving about ``target_bins`` bins: 10 points for 100."""
    raw = max(points_possible, 1e-9) / target_bins
    mag = 10.0 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw * (1 - 1e-9))


def score_bins(scores: Sequence[float], points_possible: float) -> tuple[list[float], list[int]]:
    """Round-width bins from 0 up to full marks (10-point bins for a 100-point assignment).

    The last bin includes full marks; scores outside the range go to the end bins.
    """
    top = points_possible if points_possible and points_possible > 0 else max([*scores, 1.0])
    width = bin_width(top)
    bins = max(1, math.ceil(top / width - 1e-9))
    edges = [round(width * i, 6) for i in range(bins + 1)]
    counts = [0] * bins
    for s in scores:
        i = int(s // width) if math.isfinite(s) else 0
        counts[min(max(i, 0), bins - 1)] += 1
    return edges, counts


def histogram(scores: Sequence[float], points_possible: float, width: float = 600,
              height: float = 220) -> Histogram:
    edges, counts = score_bins(scores, points_possible)
    box = Box(40, 14, width - 14, height - 40)
    top = max(max(counts), 1)
    step = max(1, math.ceil(top / 4))  # whole submissions only, at most ~5 ticks
    y = LinearScale(0, step * math.ceil(top / step), box.bottom, box.top)
    slot = (box.right - box.left) / len(counts)
    bars = tuple(Bar(f"{edges[i]:g}\u2013{edges[i + 1]:g}", c, box.left + slot * i + 1, y(c), slot - 2,
                     box.bottom - y(c), STUDENT, None) for i, c in enumerate(counts))
    return Histogram(width, height, box, tuple(edges), tuple(counts), bars, y, step)


def histogram_svg(hist: Histogram) -> Markup:
    box = hist.box
    n = sum(hist.counts)
    svg = Svg(hist.width, hist.height, "Score histogram",
              desc=f"{n} scores in bins: " + ", ".join(f"{b.label}: {c}" for b, c in zip(hist.bars, hist.counts)),
              css_class="chart histogram")
    for t in range(0, int(hist.y.hi) + 1, hist.y_step):
        svg.line(box.left, hist.y(t), box.right, hist.y(t), stroke=GRID)
        svg.text(box.left - 6, hist.y(t) + 4, str(t), text_anchor="end", fill=MUTED, font_size=10)
    for bar, count in zip(hist.bars, hist.counts):
        svg.rect(bar.x, bar.y, bar.width, bar.height, fill=bar.color, class_="hbar",
                 tip=f"{bar.label} points: {count} submission{'s' if count != 1 else ''}")
        if count:
            svg.text(bar.x + bar.width / 2, bar.y - 4, str(count), text_anchor="middle", fill=ROOF,
                     font_size=10)
    slot = (box.right - box.left) / len(hist.counts)
    for i, edge in enumerate(hist.edges):
        svg.text(box.left + slot * i, box.bottom + 14, f"{edge:g}", text_anchor="middle", fill=MUTED,
                 font_size=10)
    svg.line(box.left, box.bottom, box.right, box.bottom, stroke="#8c959f")
    svg.text((box.left + box.right) / 2, box.bottom + 30, "score (points)", text_anchor="middle",
             fill=MUTED, font_size=10)
    return svg.markup()
