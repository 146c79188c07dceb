"""Inline SVG drawings of the Showcase's charts: the run / SPC chart, the tier funnel, the map and the
Making Data Count icons. Plain strings with no outside reference (no fonts, no scripts, no links), so a
report holding them opens anywhere and asks nothing of the network.

Every drawing reads the model (:mod:`qidash.views.showcase`) and computes nothing but positions.
"""

from __future__ import annotations

import math
from html import escape

from qidash import chart_geometry, icons, maps
from qidash.palette import NHS_GREY, NHS_PALE_GREY
from qidash.tier_charts import text_on, tier_colour
from qidash.views.showcase import ChartSeries, Funnel, MapView

FONT = "Arial, Helvetica, sans-serif"
TEXT = "#212B32"
LIMIT_GREY = chart_geometry.LIMIT_GREY
# Colours, shapes, axes and which class is special are the chart geometry's; widths and dash patterns are
# this drawing's.
CHANGE_MARKS = {"pdsa": "PDSA cycle", "change": "Change adopted"}
LINE_WIDTHS = {  # role -> (stroke width, dash pattern or None)
    chart_geometry.DATA: (1.5, None),
    chart_geometry.CENTRE: (2, None),
    chart_geometry.UPPER: (1.3, "6 4"),
    chart_geometry.LOWER: (1.3, "6 4"),
    chart_geometry.TARGET: (2, "8 5"),
}


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _text(x, y, body, size=12, fill=TEXT, anchor="start", weight="normal", extra="") -> str:
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" font-family="{FONT}" font-size="{size}" fill="{fill}" '
        f'text-anchor="{anchor}" font-weight="{weight}"{extra}>{escape(str(body))}</text>'
    )


def _open(width: int, height: int, title: str) -> str:
    return (
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(title, quote=True)}"><title>{escape(title)}</title>'
        f'<rect width="{width}" height="{height}" fill="white"/>'
    )


def inline(svg: str) -> str:
    """An SVG string for inlining in HTML: the namespace declaration is implied there, so it is dropped
    (which also keeps the report free of any ``http`` string)."""
    return svg.replace(' xmlns="http://www.w3.org/2000/svg"', "")


def variation_icon(icon: str | None, size: int = 40) -> str:
    return inline(icons.variation_svg(icon)).replace(
        'width="40" height="40"', f'width="{size}" height="{size}"', 1
    )


def assurance_icon(icon: str | None, size: int = 40) -> str:
    return inline(icons.assurance_svg(icon)).replace(
        'width="40" height="40"', f'width="{size}" height="{size}"', 1
    )


def marker(symbol: str, cx: float, cy: float, r: float, fill: str, extra: str = "", body: str = "") -> str:
    """One point or mark in the geometry's shape (:data:`qidash.chart_geometry.POINT_SYMBOLS`), ``r``
    from its centre to its edge, with ``body`` inside (a ``<title>``)."""
    if symbol == chart_geometry.CIRCLE:
        return f'<circle cx="{_num(cx)}" cy="{_num(cy)}" r="{r}" fill="{fill}"{extra}>{body}</circle>'
    corners = {
        chart_geometry.SQUARE: ((-0.85, -0.85), (0.85, -0.85), (0.85, 0.85), (-0.85, 0.85)),
        chart_geometry.DIAMOND: ((0, -1.15), (1.15, 0), (0, 1.15), (-1.15, 0)),
        chart_geometry.TRIANGLE_UP: ((0, -1.2), (1.15, 0.8), (-1.15, 0.8)),
        chart_geometry.TRIANGLE_DOWN: ((-1.15, -0.8), (1.15, -0.8), (0, 1.2)),
    }[symbol]
    d = "M" + " L".join(f"{_num(cx + dx * r)},{_num(cy + dy * r)}" for dx, dy in corners) + " Z"
    return f'<path d="{d}" fill="{fill}"{extra}>{body}</path>'


def spc_chart(chart: ChartSeries, width: int = 720, height: int = 400, legend: bool = True) -> str:
    """The run or control chart: data with points coloured by type, centre line and limits per phase
    (a dotted divider where a phase starts), the target, PDSA cycles and changes numbered along the top."""
    left, right, top = 62, 14, 14
    rows = _legend_rows(chart, width - 24) if legend else []
    bottom = 34 + 20 * len(rows)
    pw, ph = width - left - right, height - top - bottom
    n = len(chart.periods)
    axes = chart.axes()
    low, high = axes.value.low, axes.value.high

    def x(i: float) -> float:
        return left + (i + 0.5) * pw / max(n, 1)

    def y(v: float) -> float:
        return top + ph - (v - low) / (high - low) * ph

    out = [_open(width, height, f"{chart.name}: {axes.value.title} over time")]
    for t in axes.value.ticks:
        out.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{_num(y(t.at))}" y2="{_num(y(t.at))}" '
            f'stroke="{NHS_PALE_GREY}"/>'
        )
        out.append(_text(left - 6, y(t.at) + 4, t.text, 11, NHS_GREY, "end"))
    out.append(
        f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" '
        f'stroke="{chart_geometry.AXIS_LINE}"/>'
    )
    for t in axes.period.ticks:
        out.append(_text(x(t.at), top + ph + 16, t.text, 11, NHS_GREY, "middle"))
    out.append(
        _text(
            16,
            top + ph / 2,
            axes.value.title,
            12,
            NHS_GREY,
            "middle",
            extra=f' transform="rotate(-90 16 {_num(top + ph / 2)})"',
        )
    )
    for a in chart.phase_starts:
        xd = (x(a - 1) + x(a)) / 2
        out.append(
            f'<line x1="{_num(xd)}" x2="{_num(xd)}" y1="{top + 8}" y2="{top + ph}" stroke="{NHS_GREY}" '
            f'stroke-width="1.5" stroke-dasharray="2 3"/>'
        )
    for line in chart.drawn_lines():
        values, colour = line.values, line.style.colour
        w, dash = LINE_WIDTHS[line.role]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        for run in _runs(values, connect=line.role == chart_geometry.DATA):
            pts = " ".join(f"{_num(x(i))},{_num(y(values[i]))}" for i in run)
            if len(run) == 1:
                continue
            out.append(
                f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="{w}"{dash_attr}/>'
            )
    for i, (v, t) in enumerate(zip(chart.values, chart.point_types, strict=True)):
        if v is None:
            continue
        special = chart_geometry.is_special(t)
        words = escape(f"{_month_long(chart.periods[i])}: {chart.fmt(v)}") + (
            f" ({escape(chart_geometry.POINT_LABELS[t])})" if special else ""
        )
        out.append(
            marker(
                chart_geometry.point_symbol(t),
                x(i),
                y(v),
                5 if special else 3.5,
                chart_geometry.point_colour(t),
                ' stroke="white" stroke-width="1"',
                f"<title>{words}</title>",
            )
        )
    stacked: dict[tuple[str, int], int] = {}
    for a in chart.annotations:
        kind = a.kind if a.kind in CHANGE_MARKS else "pdsa"
        style = chart_geometry.mark_style(kind)
        # PDSA cycles along the top row, adopted changes a row below (the geometry's rows); several in one
        # period stack down.
        k = stacked[(kind, a.index)] = stacked.get((kind, a.index), -1) + 1
        cx, cy = x(a.index), top + style.row * ph + 36 * k
        title = f"<title>{escape(CHANGE_MARKS[kind])} {a.number}: {escape(a.title)} ({escape(a.day)})</title>"
        out.append(marker(style.symbol, cx, cy, 7, style.colour, body=title))
        out.append(_text(cx, cy + (0 if kind == "pdsa" else 3.5), a.number, 9, "white", "middle", "bold"))
    for k, row in enumerate(rows):
        out.append(_legend(row, 12, top + ph + 40 + 20 * k))
    out.append("</svg>")
    return "".join(out)


def _legend_items(chart: ChartSeries) -> list[tuple]:
    styles = chart_geometry.LINE_STYLES
    items = [
        ("line", styles[chart_geometry.DATA].colour, None, chart.name),
        ("line", styles[chart_geometry.CENTRE].colour, None, chart.centre_name),
    ]
    if any(line.role == chart_geometry.UPPER for line in chart.drawn_lines()):
        items.append(("line", styles[chart_geometry.UPPER].colour, LINE_WIDTHS[chart_geometry.UPPER][1],
                      chart_geometry.LIMITS_LEGEND))
    if chart.target is not None:
        items.append(("line", styles[chart_geometry.TARGET].colour, LINE_WIDTHS[chart_geometry.TARGET][1],
                      f"Target {chart.fmt(chart.target)}"))
    present = {t for t in chart.point_types if t}
    for t in chart_geometry.POINT_TYPES:
        if t in present and chart_geometry.is_special(t):
            items.append((chart_geometry.point_symbol(t), chart_geometry.point_colour(t), None,
                          chart_geometry.POINT_LABELS[t]))
    kinds = {a.kind for a in chart.annotations}
    for kind in CHANGE_MARKS:
        if kind in kinds:
            style = chart_geometry.mark_style(kind)
            plural = {"pdsa": "PDSA cycles", "change": "Changes adopted"}[kind]
            items.append((style.symbol, style.colour, None, plural))
    return [
        (shape, colour, dash, name if len(name) <= 44 else name[:42] + "…")
        for shape, colour, dash, name in items
    ]


def _item_width(name: str) -> float:
    return 27 + 6.3 * len(name) + 16


def _legend_rows(chart: ChartSeries, width: float) -> list[list[tuple]]:
    """The legend's items in rows that fit ``width``."""
    rows: list[list[tuple]] = [[]]
    used = 0.0
    for item in _legend_items(chart):
        w = _item_width(item[3])
        if rows[-1] and used + w > width:
            rows.append([])
            used = 0.0
        rows[-1].append(item)
        used += w
    return rows


def _legend(items: list[tuple], x0: float, y0: float) -> str:
    out, x = [], x0
    for shape, colour, dash, name in items:
        if shape == "line":
            d = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(
                f'<line x1="{_num(x)}" x2="{_num(x + 22)}" y1="{y0 - 4}" y2="{y0 - 4}" stroke="{colour}" '
                f'stroke-width="2"{d}/>'
            )
        else:
            out.append(marker(shape, x + 11, y0 - 4, 5, colour))
        out.append(_text(x + 27, y0, name, 11, TEXT))
        x += _item_width(name)
    return "".join(out)


def _runs(values, connect: bool) -> list[list[int]]:
    """Index runs of defined values (``connect``: jump over gaps, as the data line does)."""
    runs: list[list[int]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            if not connect and runs[-1]:
                runs.append([])
            continue
        runs[-1].append(i)
    return [r for r in runs if r]


def _month_long(iso: str) -> str:
    import datetime as dt

    return dt.date.fromisoformat(iso[:10]).strftime("%d %b %Y")


def funnel(f: Funnel, width: int = 960, height: int | None = None) -> str:
    """People who reached at least each tier, lowest tier on top, as centred bars; a suppressed count
    is an outlined stub labelled "<5"."""
    rows = len(f.stages)
    bar_h, gap, top = 64, 16, 10
    height = height or top * 2 + rows * bar_h + (rows - 1) * gap
    label_w, conv_w = 190, 220
    pw = width - label_w - conv_w
    biggest = max((s.value or 0 for s in f.stages), default=0) or 1
    out = [_open(width, height, f"Tier funnel: {f.framework}")]
    for i, s in enumerate(f.stages):
        y0 = top + i * (bar_h + gap)
        fill = tier_colour(i)
        w = max(pw * (s.value or 0) / biggest, 0)
        cx = label_w + pw / 2
        if s.value is None:
            w = max(pw * 0.04, 36)
            out.append(
                f'<rect x="{_num(cx - w / 2)}" y="{y0}" width="{_num(w)}" height="{bar_h}" fill="white" '
                f'stroke="{fill}" stroke-width="2" stroke-dasharray="4 3"/>'
            )
            out.append(_text(cx, y0 + bar_h / 2 + 7, s.text, 20, TEXT, "middle", "bold"))
        else:
            out.append(
                f'<rect x="{_num(cx - w / 2)}" y="{y0}" width="{_num(max(w, 2))}" height="{bar_h}" '
                f'fill="{fill}"/>'
            )
            inside = w > 90
            out.append(
                _text(
                    cx if inside else cx + w / 2 + 8,
                    y0 + bar_h / 2 + 8,
                    s.text,
                    22,
                    text_on(fill) if inside else TEXT,
                    "middle" if inside else "start",
                    "bold",
                )
            )
        out.append(_text(label_w - 14, y0 + bar_h / 2 + 7, s.name, 18, TEXT, "end", "bold"))
        if s.conversion:
            out.append(_text(label_w + pw + 14, y0 + bar_h / 2 + 6, s.conversion, 15, NHS_GREY))
    out.append("</svg>")
    return "".join(out)


def project_point(lon: float, lat: float) -> tuple[float, float]:
    """Web Mercator (x, y), unscaled (y grows northwards)."""
    return math.radians(lon), math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def map_frame(view: MapView, width: float, height: float, pad: float = 8):
    """A function (lon, lat) -> (x, y) in a width × height box fitting the areas and organisations."""
    pts = [pt for a in view.areas.pcns for poly in a.polygons for pt in poly[0]]
    located = view.orgs.dropna(subset=["latitude", "longitude"])
    pts += list(zip(located["longitude"], located["latitude"], strict=True))
    xs, ys = zip(*(project_point(lon, lat) for lon, lat in pts), strict=True) if pts else ((0, 1), (0, 1))
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    scale = min((width - 2 * pad) / ((x1 - x0) or 1e-6), (height - 2 * pad) / ((y1 - y0) or 1e-6))
    ox = pad + ((width - 2 * pad) - (x1 - x0) * scale) / 2
    oy = pad + ((height - 2 * pad) - (y1 - y0) * scale) / 2

    def to_xy(lon: float, lat: float) -> tuple[float, float]:
        px, py = project_point(lon, lat)
        return ox + (px - x0) * scale, height - (oy + (py - y0) * scale)

    return to_xy


def map_points(view: MapView):
    """(lon, lat, colour, stage) of every located organisation, drawn lowest stage first."""
    located = view.orgs.dropna(subset=["latitude", "longitude"])
    order = {s: i for i, s in enumerate(maps.STAGE_COLOURS)}
    rows = sorted(located.itertuples(), key=lambda r: order.get(r.stage, 0))
    return [(float(r.longitude), float(r.latitude), maps.STAGE_COLOURS[r.stage], r.stage) for r in rows]


POINT_R = 3.6  # an organisation's disc on the exported map, in pixels; its ring lies outside it


def stage_mark(cx: float, cy: float, r: float, stage: str) -> str:
    """An organisation at ``stage`` as the page's map draws it (never by colour alone): a ring round a
    white centre, or a filled disc with its outline (maps.STAGE_MARKS), the ring outside the disc of
    radius ``r``."""
    fill, outline, ring = maps.stage_paint(stage)
    return (
        f'<circle cx="{_num(cx)}" cy="{_num(cy)}" r="{_num(r + ring / 2)}" fill="{fill}" '
        f'stroke="{outline}" stroke-width="{ring:g}" data-stage="{stage}"/>'
    )


def capability_map(view: MapView, width: int = 960, height: int = 560) -> str:
    """PCN areas filled by coverage class inside a dark boundary, locality outlines, organisations marked
    by stage (:func:`stage_mark`), a legend naming each stage's mark in words."""
    legend_w = 250
    to_xy = map_frame(view, width - legend_w, height)
    out = [_open(width, height, "Map of PCN areas coloured by coverage, organisations by stage")]

    def path(rings) -> str:
        d = []
        for ring in rings:
            pts = [to_xy(lon, lat) for lon, lat in ring]
            d.append("M" + " L".join(f"{_num(px)},{_num(py)}" for px, py in pts) + " Z")
        return " ".join(d)

    fills = maps.area_fills()  # as the page shows them: see-through over the land
    for area in view.areas.pcns:
        fill = fills[view.area_fill(area.code)]
        tip = " · ".join(view.tips.get(area.code, ("Outside the filters",)))
        for poly in area.polygons:
            out.append(
                f'<path d="{path(poly)}" fill="{fill}" fill-rule="evenodd" stroke="{maps.AREA_LINE}" '
                f'stroke-width="{maps.AREA_LINE_PX}">'
                f"<title>{escape(maps.pcn_title(area.name))}: {escape(tip)}</title></path>"
            )
    for loc in view.areas.localities:
        for poly in loc.polygons:
            out.append(f'<path d="{path(poly)}" fill="none" stroke="{maps.LOCALITY_LINE}" stroke-width="2"/>')
    for lon, lat, _colour, stage in map_points(view):
        px, py = to_xy(lon, lat)
        out.append(stage_mark(px, py, POINT_R, stage))
    lx, ly = width - legend_w + 14, 24
    out.append(_text(lx, ly, "Coverage per PCN", 14, TEXT, weight="bold"))
    ly += 8
    for colour, text in view.legend:
        ly += 22
        out.append(
            f'<rect x="{lx}" y="{ly - 13}" width="18" height="16" fill="{maps.drawn_fill(colour)}" '
            f'stroke="{maps.AREA_LINE}" stroke-width="{maps.AREA_LINE_PX}"/>'
        )
        out.append(_text(lx + 26, ly, text, 13))
    ly += 36
    out.append(_text(lx, ly, "Organisations by stage", 14, TEXT, weight="bold"))
    ly += 8
    for stage, name, _colour, n in view.stages:
        ly += 24
        out.append(stage_mark(lx + 9, ly - 5, 5, stage))
        out.append(_text(lx + 26, ly, f"{name} ({n:,})", 13))
        out.append(_text(lx + 26, ly + 15, maps.STAGE_MARKS[stage].words, 11, NHS_GREY))
        ly += 12
    out.append("</svg>")
    return "".join(out)
