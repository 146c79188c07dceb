"""The Showcase as a PowerPoint deck (python-pptx, no browser needed): one slide per slide of the
presentation, in the same order, with native, editable charts.

- The run / SPC chart is a line chart whose series are exactly :meth:`ChartSeries.lines` (data, centre
  line and limits per phase, target), with special-cause points coloured by type and the PDSA cycles
  and adopted changes as numbered marker series along the top.
- The tier funnel is a bar chart, lowest tier on top; the map is drawn with freeform shapes (PCN areas)
  and dots (organisations); the board summary draws the Making Data Count icons as shapes, read from
  :mod:`qidash.icons`' own SVG so the icons are defined in one place.
- Speaker notes carry the story, the PDSA cycles and how the medians were compared.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION, XL_MARKER_STYLE
from pptx.enum.dml import MSO_LINE_DASH_STYLE
from pptx.enum.shapes import MSO_CONNECTOR, MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.oxml.xmlchemy import OxmlElement
from pptx.util import Emu, Inches, Pt

from qidash import chart_geometry, icons, maps, palette, spc_charts
from qidash.exports import svg
from qidash.palette import NHS_BLUE, NHS_DARK_BLUE, NHS_GREEN, NHS_GREY, NHS_PALE_GREY, text_shade
from qidash.tier_charts import tier_colour
from qidash.views.showcase import (
    KIND_BOARD,
    KIND_FUNNEL,
    KIND_IMPACT,
    KIND_MAP,
    KIND_NUMBERS,
    KIND_PROJECT,
    ChartSeries,
    ProjectSlide,
    Showcase,
    board_key,
)

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.5)
TEXT = "212B32"
TILE = "F0F4F5"
FUNNEL_SERIES = "People who reached at least this tier"
PDSA_SERIES = "PDSA cycles"
CHANGE_SERIES = "Changes adopted"
BOARD_ROWS = 10
KEY_PER_ROW = 6
MID_GREY = "#768692"
FUNNEL_NOTE = (
    "People who reached at least each tier; the percentage is the share of the tier before who went on "
    "to this one."
)


def _rgb(hex_colour: str) -> RGBColor:
    return RGBColor.from_string(hex_colour.lstrip("#").upper())


def _text(slide, x, y, w, h, paragraphs, anchor=MSO_ANCHOR.TOP):
    """A text box; ``paragraphs`` is a list of (text, size pt, bold, colour hex, alignment) or strings."""
    box = slide.shapes.add_textbox(x, y, w, h)
    tf = box.text_frame
    tf.word_wrap = True
    tf.vertical_anchor = anchor
    tf.margin_left = tf.margin_right = Inches(0.05)
    for i, para in enumerate(paragraphs):
        if isinstance(para, str):
            para = (para, 14, False, TEXT, PP_ALIGN.LEFT)
        text, size, bold, colour, align = (list(para) + [False, TEXT, PP_ALIGN.LEFT][len(para) - 2 :])[:5]
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        p.alignment = align
        run = p.add_run()
        run.text = text
        run.font.size = Pt(size)
        run.font.bold = bold
        run.font.name = "Arial"
        run.font.color.rgb = _rgb(colour)
        p.space_after = Pt(size * 0.35)
    return box


def _plain(shape):
    """Drop the theme style python-pptx gives an autoshape (its shadow shows in LibreOffice even with an
    empty effect list); fill and line are then only what is set here."""
    style = shape._element.find(qn("p:style"))
    if style is not None:
        shape._element.remove(style)
    return shape


def _rect(slide, x, y, w, h, fill, shape=MSO_SHAPE.RECTANGLE, line=None):
    s = _plain(slide.shapes.add_shape(shape, x, y, w, h))
    if fill is None:
        s.fill.background()
    else:
        s.fill.solid()
        s.fill.fore_color.rgb = _rgb(fill)
    if line is None:
        s.line.fill.background()
    else:
        s.line.color.rgb = _rgb(line)
    return s


def _header(slide, title: str, subtitle: str, badge: str | None = None):
    _rect(slide, 0, 0, WIDTH, Inches(0.12), NHS_BLUE)
    _text(
        slide,
        MARGIN,
        Inches(0.25),
        WIDTH - 2 * MARGIN,
        Inches(0.75),
        # Two lines at most within the band above the subtitle.
        [(title, 30 if len(title) < 60 else 22 if len(title) < 100 else 18, True, NHS_DARK_BLUE)],
        anchor=MSO_ANCHOR.MIDDLE,
    )
    _text(slide, MARGIN, Inches(0.98), WIDTH - 2 * MARGIN, Inches(0.4), [(subtitle, 13, False, NHS_GREY)])
    if badge:
        b = _rect(
            slide,
            WIDTH - MARGIN - Inches(1.5),
            Inches(0.98),
            Inches(1.5),
            Inches(0.32),
            NHS_GREEN,
            MSO_SHAPE.ROUNDED_RECTANGLE,
        )
        b.text_frame.text = badge
        run = b.text_frame.paragraphs[0].runs[0]
        run.font.size, run.font.bold, run.font.color.rgb = Pt(12), True, _rgb("FFFFFF")
        b.text_frame.paragraphs[0].alignment = PP_ALIGN.CENTER


def _footer(slide, sc: Showcase, number: int, total: int):
    words = f"{sc.programme} · {sc.subtitle}" + (
        f" · Public: fewer than {sc.threshold} people shown as <{sc.threshold}, names only with consent"
        if sc.public
        else ""
    )
    _text(
        slide,
        MARGIN,
        HEIGHT - Inches(0.42),
        WIDTH - 2 * MARGIN - Inches(0.8),
        Inches(0.3),
        [(words, 9, False, NHS_GREY)],
    )
    _text(
        slide,
        WIDTH - MARGIN - Inches(0.8),
        HEIGHT - Inches(0.42),
        Inches(0.8),
        Inches(0.3),
        [(f"{number} / {total}", 9, False, NHS_GREY, PP_ALIGN.RIGHT)],
    )


def _notes(slide, text: str):
    slide.notes_slide.notes_text_frame.text = text


# --- slides ------------------------------------------------------------------------------------------------


def _numbers_slide(slide, sc: Showcase):
    cols, gap = 4, Inches(0.25)
    top = Inches(1.6)
    w = Emu((WIDTH - 2 * MARGIN - gap * (cols - 1)) // cols)
    h = Inches(2.35)
    for i, n in enumerate(sc.numbers):
        r, c = divmod(i, cols)
        x, y = MARGIN + c * (w + gap), top + r * (h + gap)
        _rect(slide, x, y, w, h, TILE, MSO_SHAPE.ROUNDED_RECTANGLE).adjustments[0] = 0.05
        size = 44 if len(n.text) <= 7 else 34 if len(n.text) <= 11 else 28
        _text(
            slide,
            x + Inches(0.15),
            y + Inches(0.15),
            w - Inches(0.3),
            h - Inches(0.3),
            [(n.text, size, True, NHS_BLUE), (n.label, 16, True, TEXT), (n.note, 12, False, NHS_GREY)],
        )
    _notes(slide, "\n".join(f"{n.label}: {n.text}" + (f" ({n.note})" if n.note else "") for n in sc.numbers))


IMPACT_METHOD = (
    "Each measure improved since its baseline is estimated against that baseline, from the change that "
    "began its improved phase to the date, in its own unit; only like is added to like. The range "
    "reflects the uncertainty of the baseline."
)


def _impact_slide(slide, sc: Showcase):
    """The largest like-for-like impact totals, one band each, and the method underneath."""
    top, gap, h = Inches(1.6), Inches(0.2), Inches(1.0)
    w = int(WIDTH - 2 * MARGIN)
    for i, line in enumerate(sc.impact):
        y = int(top + i * (h + gap))
        _rect(slide, MARGIN, y, w, h, TILE, MSO_SHAPE.ROUNDED_RECTANGLE).adjustments[0] = 0.08
        words = line.words[:1].upper() + line.words[1:]
        _text(
            slide,
            int(MARGIN + Inches(0.2)),
            y,
            int(w - Inches(0.4)),
            h,
            [(words, 22, True, NHS_DARK_BLUE)],
            anchor=MSO_ANCHOR.MIDDLE,
        )
    y = int(top + len(sc.impact) * (h + gap))
    _text(slide, MARGIN, y, w, Inches(0.9), [(f"{IMPACT_METHOD} {sc.impact_note}", 13, False, NHS_GREY)])
    _notes(slide, "\n".join(line.words for line in sc.impact) + f"\n{IMPACT_METHOD} {sc.impact_note}")


def _funnel_slide(slide, sc: Showcase):
    k = len(sc.funnels)
    gap = Inches(0.3)
    w = Emu((WIDTH - 2 * MARGIN - gap * (k - 1)) // k)
    for i, f in enumerate(sc.funnels):
        x = MARGIN + i * (w + gap)
        if k > 1:
            _text(slide, x, Inches(1.45), w, Inches(0.4), [(f.framework, 16, True, NHS_DARK_BLUE)])
        data = CategoryChartData()
        # A suppressed count has no bar; its category says so (a label needs a bar to sit on).
        data.categories = [s.name if s.value is not None else f"{s.name}: {s.text}" for s in f.stages]
        data.add_series(FUNNEL_SERIES, [s.value for s in f.stages])
        frame = slide.shapes.add_chart(XL_CHART_TYPE.BAR_CLUSTERED, x, Inches(1.9), w, Inches(4.6), data)
        chart = frame.chart
        chart.has_legend = False
        chart.has_title = False
        chart.font.size, chart.font.name = Pt(16), "Arial"
        plot = chart.plots[0]
        plot.gap_width = 40
        plot.vary_by_categories = False
        series = plot.series[0]
        for j, stage in enumerate(f.stages):
            point = series.points[j]
            point.format.fill.solid()
            point.format.fill.fore_color.rgb = _rgb(tier_colour(j))
            if stage.value is None:
                continue
            label = point.data_label
            label.has_text_frame = True
            tf = label.text_frame
            tf.text = stage.text
            tf.paragraphs[0].runs[0].font.size = Pt(20)
            tf.paragraphs[0].runs[0].font.bold = True
            if stage.conversion:
                run = tf.add_paragraph().add_run()
                run.text = stage.conversion
                run.font.size = Pt(12)
                run.font.color.rgb = _rgb(NHS_GREY)
            label.position = XL_LABEL_POSITION.OUTSIDE_END
        chart.category_axis.reverse_order = True  # lowest tier on top, as a funnel
        chart.category_axis.format.line.fill.background()
        chart.category_axis.tick_labels.font.size = Pt(18)
        chart.category_axis.tick_labels.font.bold = True
        va = chart.value_axis
        va.visible = False
        va.has_major_gridlines = False
        va.minimum_scale = 0
        va.maximum_scale = max((s.value or 0 for s in f.stages), default=1) * 1.45 or 1
    _text(slide, MARGIN, Inches(6.55), WIDTH - 2 * MARGIN, Inches(0.4), [(FUNNEL_NOTE, 12, False, NHS_GREY)])
    _notes(
        slide,
        "\n".join(
            f"{f.framework}: "
            + "; ".join(
                f"{s.name} {s.text}" + (f" ({s.conversion})" if s.conversion else "") for s in f.stages
            )
            for f in sc.funnels
        ),
    )


POINT_R = Pt(2.7)  # an organisation's disc on the map slide; its ring lies outside it


def _stage_mark(slide, x, y, r, stage: str):
    """An organisation at ``stage`` centred on (x, y) as the page's map draws it, never by colour alone:
    a ring round a white centre or a filled disc with its outline (maps.STAGE_MARKS), the ring (pixels
    drawn as points, 3 to 4) outside the disc of radius ``r``."""
    fill, outline, ring_px = maps.stage_paint(stage)
    ring = Pt(0.75 * ring_px)
    d = int(2 * r + ring)  # the outline is centred on the shape's edge
    mark = _rect(slide, Emu(int(x - d / 2)), Emu(int(y - d / 2)), Emu(d), Emu(d), fill, MSO_SHAPE.OVAL,
                 line=outline)
    mark.line.width = ring
    return mark


def _map_slide(slide, sc: Showcase):
    view = sc.map
    box_x, box_y, box_w, box_h = MARGIN, Inches(1.9), Inches(8.9), Inches(5.0)
    _text(slide, MARGIN, Inches(1.4), WIDTH - 2 * MARGIN, Inches(0.45), [(view.headline, 16, False, TEXT)])
    to_xy = svg.map_frame(view, box_w, box_h)

    def emu(lon, lat):
        px, py = to_xy(lon, lat)
        return int(box_x + px), int(box_y + py)

    def freeform(rings, fill, line, width_pt):
        first = [emu(lon, lat) for lon, lat in rings[0]]
        builder = slide.shapes.build_freeform(first[0][0], first[0][1], scale=1.0)
        builder.add_line_segments(first[1:], close=True)
        for ring in rings[1:]:
            pts = [emu(lon, lat) for lon, lat in ring]
            builder.move_to(*pts[0])
            builder.add_line_segments(pts[1:], close=True)
        shape = _plain(builder.convert_to_shape())
        if fill:
            shape.fill.solid()
            shape.fill.fore_color.rgb = _rgb(fill)
        else:
            shape.fill.background()
        shape.line.color.rgb = _rgb(line)
        shape.line.width = Pt(width_pt)
        return shape

    fills = maps.area_fills()  # as the page shows them: see-through over the land
    for area in view.areas.pcns:
        for poly in area.polygons:
            s = freeform(poly, fills[view.area_fill(area.code)], maps.AREA_LINE, 0.75 * maps.AREA_LINE_PX)
            s.name = f"PCN {area.code}"
    for loc in view.areas.localities:
        for poly in loc.polygons:
            freeform(poly, None, maps.LOCALITY_LINE, 1.75).name = f"Locality {loc.code}"
    for lon, lat, _colour, stage in svg.map_points(view):
        x, y = emu(lon, lat)
        _stage_mark(slide, x, y, POINT_R, stage).name = f"Organisation ({stage})"
    lx, ly = box_x + box_w + Inches(0.3), Inches(1.9)
    _text(slide, lx, ly, Inches(3.2), Inches(0.35), [("Coverage per PCN", 14, True, TEXT)])
    ly += Inches(0.38)
    for colour, label in view.legend:
        swatch = _rect(slide, lx, ly + Inches(0.05), Inches(0.28), Inches(0.2), fills[colour],
                       line=maps.AREA_LINE)
        swatch.line.width = Pt(0.75 * maps.AREA_LINE_PX)
        _text(slide, lx + Inches(0.36), ly, Inches(2.8), Inches(0.3), [(label, 12, False, TEXT)])
        ly += Inches(0.28)
    ly += Inches(0.15)
    _text(slide, lx, ly, Inches(3.2), Inches(0.35), [("Organisations by stage", 14, True, TEXT)])
    ly += Inches(0.38)
    for stage, name, _colour, n in view.stages:
        _stage_mark(slide, lx + Inches(0.13), ly + Inches(0.16), Pt(4.5), stage).name = f"Key ({stage})"
        _text(slide, lx + Inches(0.36), ly, Inches(2.8), Inches(0.42), [
            (f"{name} ({n:,})", 12, False, TEXT), (maps.STAGE_MARKS[stage].words, 10, False, NHS_GREY),
        ])
        ly += Inches(0.44)
    if view.note:
        _text(slide, lx, ly + Inches(0.05), Inches(3.2), Inches(0.6), [(view.note, 10, False, NHS_GREY)])
    _notes(slide, view.headline + ("\n" + view.note if view.note else ""))


def _set_tick_label_skip(chart, every: int) -> None:
    """Show every n-th period label (python-pptx has no API for c:tickLblSkip)."""
    cat_ax = chart.category_axis._element
    skip = OxmlElement("c:tickLblSkip")
    skip.set("val", str(every))
    anchor = cat_ax.find(qn("c:noMultiLvlLbl"))
    if anchor is not None:
        anchor.addprevious(skip)
    else:
        cat_ax.append(skip)


def _hide_legend_entries(chart, indexes: list[int]) -> None:
    legend = chart.legend._element
    for idx in indexes:
        entry = OxmlElement("c:legendEntry")
        i = OxmlElement("c:idx")
        i.set("val", str(idx))
        delete = OxmlElement("c:delete")
        delete.set("val", "1")
        entry.append(i)
        entry.append(delete)
        legend.insert(1 + indexes.index(idx), entry)  # after c:legendPos


def point_series(chart: ChartSeries) -> dict[str, tuple[str, tuple]]:
    """The special-cause points, a series of markers per class present, by its legend words: (class, the
    value at each of its points, else None). A series of their own, as the page's chart has, gives each
    class its entry in the legend, and LibreOffice draws a series' colour where it ignores a point's."""
    out = {}
    for t in chart_geometry.POINT_TYPES:
        if chart_geometry.is_special(t) and t in chart.point_types:
            pairs = zip(chart.values, chart.point_types, strict=True)
            values = tuple(v if pt == t else None for v, pt in pairs)
            out[chart_geometry.POINT_LABELS[t]] = (t, values)
    return out


def chart_lines(chart: ChartSeries) -> dict[str, tuple]:
    """Every series the deck's chart holds, by name: :meth:`ChartSeries.lines`, the special-cause points
    by class (:func:`point_series`), then the PDSA cycles and adopted changes as markers along the top, in
    the geometry's rows (the cycle's number as its label)."""
    out = dict(chart.lines())
    out |= {name: values for name, (_t, values) in point_series(chart).items()}
    value = chart.axes().value
    for kind, name in (("pdsa", PDSA_SERIES), ("change", CHANGE_SERIES)):
        marks = chart.marks(kind)
        if any(v is not None for v in marks):
            level = value.y_of_mark(chart_geometry.mark_style(kind))
            out[name] = tuple(None if v is None else level for v in marks)
    return out


# The geometry's shapes as PowerPoint's markers (which have one triangle, pointing up).
MARKERS = {
    chart_geometry.CIRCLE: XL_MARKER_STYLE.CIRCLE,
    chart_geometry.SQUARE: XL_MARKER_STYLE.SQUARE,
    chart_geometry.DIAMOND: XL_MARKER_STYLE.DIAMOND,
    chart_geometry.TRIANGLE_UP: XL_MARKER_STYLE.TRIANGLE,
    chart_geometry.TRIANGLE_DOWN: XL_MARKER_STYLE.TRIANGLE,
}


def value_format(value: chart_geometry.ValueAxis) -> str:
    """The number format writing the value axis's tick labels as the geometry words them: thousands
    separated, its decimals, "%" on a percentage axis and no label above 100% there."""
    number = "#,##0" + ("." + "0" * value.decimals if value.decimals else "")
    return f'[<=100]{number}"%";""' if value.percent else number


def add_spc_chart(slide, chart: ChartSeries, x, y, w, h, font_pt: int = 11, legend: bool = True):
    """A native line chart of ``chart`` (see :func:`chart_lines`)."""
    lines = chart_lines(chart)
    axes = chart.axes()
    data = CategoryChartData()
    data.categories = list(axes.period.labels)
    for name, values in lines.items():
        data.add_series(name, values)
    frame = slide.shapes.add_chart(XL_CHART_TYPE.LINE_MARKERS, x, y, w, h, data)
    c = frame.chart
    c.font.size, c.font.name = Pt(font_pt), "Arial"
    va = c.value_axis
    va.minimum_scale, va.maximum_scale = axes.value.low, axes.value.high
    va.major_unit = axes.value.step
    va.major_gridlines.format.line.color.rgb = _rgb(NHS_PALE_GREY)
    va.format.line.fill.background()
    va.tick_labels.number_format = value_format(axes.value)
    va.tick_labels.number_format_is_linked = False
    va.has_title = True
    va.axis_title.text_frame.text = axes.value.title
    va.axis_title.text_frame.paragraphs[0].runs[0].font.size = Pt(font_pt)
    va.axis_title.text_frame.paragraphs[0].runs[0].font.bold = False
    _set_tick_label_skip(c, axes.period.every)
    c.category_axis.format.line.color.rgb = _rgb(chart_geometry.AXIS_LINE)
    hidden = []
    seen = set()
    roles = {line.name: line.role for line in chart.drawn_lines()}
    points = {name: t for name, (t, _values) in point_series(chart).items()}
    styles = chart_geometry.LINE_STYLES
    for i, (name, series) in enumerate(zip(lines, c.plots[0].series, strict=True)):
        series.smooth = False
        fmt = series.format
        base = name.split(" (phase")[0]
        if base in seen:
            hidden.append(i)
        seen.add(base)
        role = roles.get(name)
        if role == chart_geometry.DATA:
            data_colour = styles[chart_geometry.DATA].colour
            fmt.line.color.rgb, fmt.line.width = _rgb(data_colour), Pt(1.5)
            series.marker.style, series.marker.size = XL_MARKER_STYLE.CIRCLE, 5
            series.marker.format.fill.solid()
            series.marker.format.fill.fore_color.rgb = _rgb(data_colour)
            series.marker.format.line.fill.background()
        elif name in points:  # drawn over the data's own small marker
            fmt.line.fill.background()
            series.marker.style, series.marker.size = MARKERS[chart_geometry.point_symbol(points[name])], 9
            series.marker.format.fill.solid()
            series.marker.format.fill.fore_color.rgb = _rgb(chart_geometry.point_colour(points[name]))
            series.marker.format.line.fill.background()
        elif name in (PDSA_SERIES, CHANGE_SERIES):
            fmt.line.fill.background()
            kind = "pdsa" if name == PDSA_SERIES else "change"
            colour = chart_geometry.mark_style(kind).colour
            series.marker.style = MARKERS[chart_geometry.mark_style(kind).symbol]
            series.marker.size = 10
            series.marker.format.fill.solid()
            series.marker.format.fill.fore_color.rgb = _rgb(colour)
            series.marker.format.line.fill.background()
            for j, numbers in enumerate(chart.marks(kind)):
                if numbers is not None:
                    label = series.points[j].data_label
                    label.has_text_frame = True
                    label.text_frame.text = numbers
                    label.position = XL_LABEL_POSITION.ABOVE
                    label.font.size, label.font.bold = Pt(font_pt - 1), True
                    label.font.color.rgb = _rgb(text_shade(colour))  # 4.5:1 for the numbers
        else:
            series.marker.style = XL_MARKER_STYLE.NONE
            style = styles[role]
            limit = role in chart_geometry.LIMITS
            fmt.line.color.rgb, fmt.line.width = _rgb(style.colour), Pt(1.25 if limit else 2)
            if style.dashed:
                fmt.line.dash_style = MSO_LINE_DASH_STYLE.DASH
            if role == chart_geometry.LOWER:
                hidden.append(i)
    c.has_legend = legend
    if not legend:
        return frame
    c.legend.position = XL_LEGEND_POSITION.BOTTOM
    c.legend.include_in_layout = False
    c.legend.font.size = Pt(font_pt - 1)
    _hide_legend_entries(c, sorted(set(hidden)))
    return frame


def _before_after_tiles(slide, p: ProjectSlide, x, y, w):
    ba = p.before_after
    if ba is None:
        return
    # The green and orange in their text shades: 4.5:1 on the pale tile (WCAG 1.4.3)
    colour = {True: text_shade(NHS_GREEN), False: text_shade(palette.NHS_ORANGE), None: TEXT}[ba.better]
    tiles = [
        (ba.before_text, f"median, {ba.before_label.lower()} ({ba.before_period})", TEXT),
        (ba.after_text, f"median, {ba.after_label.lower()} ({ba.after_period})", colour),
    ]
    if ba.moved:
        tiles.append((ba.moved, ba.verdict, colour))
    widths = [0.38, 0.38, 0.24][: len(tiles)]
    total = sum(widths)
    gap = Inches(0.12)
    cx = x
    for (value, words, col), share in zip(tiles, widths, strict=True):
        tw = int((w - gap * (len(tiles) - 1)) * share / total)
        _rect(slide, cx, y, tw, Inches(0.95), TILE, MSO_SHAPE.ROUNDED_RECTANGLE).adjustments[0] = 0.08
        _text(
            slide,
            cx + Inches(0.08),
            y + Inches(0.04),
            tw - Inches(0.16),
            Inches(0.9),
            [(value, 22, True, col), (words, 10, False, NHS_GREY)],
        )
        cx += tw + gap


def _team_lines(p: ProjectSlide, max_orgs: int = 6) -> list:
    team = p.team.in_words() or "Not recorded"
    size = f" · team of {p.team.size}" if p.team.size else ""
    extra = f" · {p.team.patient_partners}" if p.team.patient_partners else ""
    orgs = [f"{o.name} ({o.kind}{', lead' if o.role == 'lead' else ''})" for o in p.organisations[:max_orgs]]
    if len(p.organisations) > max_orgs:
        orgs.append(f"and {len(p.organisations) - max_orgs} more")
    heading = "ORGANISATIONS" + (" · ACROSS BOUNDARIES" if p.cross_boundary else "")
    return [
        ("TEAM", 12, True, NHS_DARK_BLUE),
        (team + size + extra, 13, False, TEXT),
        (heading, 12, True, NHS_DARK_BLUE),
        (" · ".join(p.sectors), 12, True, NHS_GREY),
        *[(o, 12, False, TEXT) for o in orgs],
    ]


def _project_slide(slide, sc: Showcase, p: ProjectSlide):
    facts = " · ".join(x for x in (p.code, p.priority, p.status, p.lead_organisation) if x)
    score = "" if p.latest_score is None else f" · progress score {p.latest_score:.1f} ({p.score_words})"
    _header(slide, p.title, facts + score, "Quiet win" if p.quiet_win else None)
    top = Inches(1.4)
    if p.aim:
        _text(slide, MARGIN, top, WIDTH - 2 * MARGIN, Inches(0.5), [("Aim: " + p.aim, 17, False, TEXT)])
        top += Inches(0.55)
    left_w = Inches(7.6)
    right_x = MARGIN + left_w + Inches(0.35)
    right_w = WIDTH - MARGIN - right_x
    story = [
        ("THE STORY", 12, True, NHS_DARK_BLUE),
        (p.story or "No story recorded yet.", 15, False, TEXT),
        ("WHAT THE TEAM LEARNED", 12, True, NHS_DARK_BLUE),
        (p.lessons or "Not recorded yet.", 15, False, TEXT),
    ]
    if p.quiet_win:
        big = [(t, 24 if s == 15 else s, b, c) for t, s, b, c in story]
        _text(slide, MARGIN, top + Inches(0.1), left_w, Inches(4.4), big)
        _text(
            slide,
            right_x,
            top + Inches(0.1),
            right_w,
            Inches(2.2),
            [(t, min(size, 12), b, c) for t, size, b, c in _team_lines(p, 3)],
        )
        if p.chart:
            chart_top = top + Inches(2.45)
            _text(slide, right_x, chart_top, right_w, Inches(0.3), [(p.chart.name, 11, True, NHS_DARK_BLUE)])
            add_spc_chart(
                slide,
                p.chart,
                right_x,
                chart_top + Inches(0.3),
                right_w,
                HEIGHT - chart_top - Inches(0.85),
                9,
                legend=False,
            )
    else:
        if p.chart:
            add_spc_chart(slide, p.chart, MARGIN, top, left_w, Inches(3.65))
            _before_after_tiles(slide, p, MARGIN, top + Inches(3.75), left_w)
        else:
            _text(slide, MARGIN, top, left_w, Inches(4.4), story)
        column = _team_lines(p) + (story if p.chart else [])
        if p.chart and p.chart.improving_reason:  # which meaning of improving applies (DESIGN.md section 4)
            reason = p.chart.improving_reason.capitalize()
            column = [("IMPROVING", 12, True, NHS_DARK_BLUE), (reason, 15, False, TEXT), *column]
        length = sum(len(t) for t, *_ in column)
        body = 13 if length < 650 else 12 if length < 900 else 11
        _text(
            slide,
            right_x,
            top,
            right_w,
            HEIGHT - top - Inches(0.5),
            [
                (t, body if size in (13, 15) else size - (1 if body < 13 else 0), b, c)
                for t, size, b, c in column
            ],
        )
    notes = [p.title, f"Aim: {p.aim}", f"Story: {p.story}", f"Lessons: {p.lessons}"]
    if p.chart:
        notes.append(f"Chart: {p.chart.name} ({spc_charts.value_title(p.chart.chart, p.chart.unit)}).")
        if p.before_after:
            notes.append(p.before_after.in_words() + ".")
        notes += [
            f"{'PDSA' if a.kind == 'pdsa' else 'Change'} {a.number} ({a.day}): {a.title}"
            for a in p.chart.annotations
        ]
    _notes(slide, "\n".join(notes))


# --- the board summary with Making Data Count icons ---------------------------------------------------------

SVG_NS = "{http://www.w3.org/2000/svg}"


def add_icon(slide, svg_text: str, x, y, size) -> None:
    """Draw one Making Data Count icon (an SVG of :mod:`qidash.icons`: circles, a line, a letter) as
    native shapes, ``size`` EMU square."""
    root = ET.fromstring(svg_text)
    k = size / 40.0
    group = slide.shapes.add_group_shape()
    for el in root:
        tag = el.tag.replace(SVG_NS, "")
        if tag == "circle":
            cx, cy, r = (float(el.get(a)) for a in ("cx", "cy", "r"))
            shape = _plain(
                group.shapes.add_shape(
                    MSO_SHAPE.OVAL,
                    int(x + (cx - r) * k),
                    int(y + (cy - r) * k),
                    int(2 * r * k),
                    int(2 * r * k),
                )
            )
            fill = el.get("fill")
            if fill and fill != "none":
                shape.fill.solid()
                shape.fill.fore_color.rgb = _rgb("#FFFFFF" if fill == "white" else fill)
            else:
                shape.fill.background()
            if el.get("stroke"):
                shape.line.color.rgb = _rgb(el.get("stroke"))
                shape.line.width = Emu(int(float(el.get("stroke-width", 1)) * k))
                if el.get("stroke-dasharray"):
                    shape.line.dash_style = MSO_LINE_DASH_STYLE.DASH
            else:
                shape.line.fill.background()
        elif tag == "line":
            x1, y1, x2, y2 = (float(el.get(a)) for a in ("x1", "y1", "x2", "y2"))
            line = _plain(
                group.shapes.add_connector(
                    MSO_CONNECTOR.STRAIGHT, int(x + x1 * k), int(y + y1 * k), int(x + x2 * k), int(y + y2 * k)
                )
            )
            line.line.color.rgb = _rgb(el.get("stroke"))
            line.line.width = Emu(int(float(el.get("stroke-width", 1)) * k))
            line.line.dash_style = MSO_LINE_DASH_STYLE.DASH
        elif tag == "text":
            fs = float(el.get("font-size"))
            tx, ty = float(el.get("x")), float(el.get("y"))
            box = group.shapes.add_textbox(
                int(x + (tx - 12) * k), int(y + (ty - fs) * k), int(24 * k), int(fs * 1.3 * k)
            )
            tf = box.text_frame
            tf.margin_left = tf.margin_right = tf.margin_top = tf.margin_bottom = 0
            tf.word_wrap = False
            p = tf.paragraphs[0]
            p.alignment = PP_ALIGN.CENTER
            run = p.add_run()
            run.text = el.text or ""
            run.font.size = Pt(fs * k / 12700 * 0.95)
            run.font.bold = True
            run.font.name = "Arial"
            run.font.color.rgb = _rgb(el.get("fill"))
    group.name = root.find(f"{SVG_NS}title").text if root.find(f"{SVG_NS}title") is not None else "Icon"


def board_rows_shown(sc: Showcase) -> int:
    """How many of the board's rows the slide has room for: BOARD_ROWS, one fewer per extra row of the
    icons' key."""
    key_rows = -(-len(board_key(sc.board)) // KEY_PER_ROW)
    return min(len(sc.board), BOARD_ROWS - max(0, key_rows - 1))


def _board_slide(slide, sc: Showcase):
    # The headline numbers first, in a strip.
    strip = sc.numbers[:4]
    gap = Inches(0.2)
    w = Emu((WIDTH - 2 * MARGIN - gap * (len(strip) - 1)) // max(len(strip), 1))
    for i, n in enumerate(strip):
        x = MARGIN + i * (w + gap)
        _rect(slide, x, Inches(1.4), w, Inches(0.85), TILE, MSO_SHAPE.ROUNDED_RECTANGLE).adjustments[0] = 0.08
        _text(
            slide,
            x + Inches(0.1),
            Inches(1.42),
            w - Inches(0.2),
            Inches(0.8),
            [(n.text, 22, True, NHS_BLUE), (n.label, 11, True, TEXT)],
        )
    cols = [
        ("Project", 4.0),
        ("Measure", 3.6),
        ("Variation", 0.95),
        ("Assurance", 0.95),
        ("Median before → after", 1.9),
        ("Score", 0.9),
    ]
    y = Inches(2.4)
    x = MARGIN
    for name, inches in cols:
        _text(slide, x, y, Inches(inches), Inches(0.3), [(name, 11, True, NHS_DARK_BLUE)])
        x += Inches(inches)
    line = _plain(
        slide.shapes.add_connector(
            MSO_CONNECTOR.STRAIGHT, MARGIN, y + Inches(0.32), WIDTH - MARGIN, y + Inches(0.32)
        )
    )
    line.line.color.rgb, line.line.width = _rgb(NHS_DARK_BLUE), Pt(1.5)
    row_h = Inches(0.36)
    y += Inches(0.38)
    key = board_key(sc.board)
    shown = sc.board[: board_rows_shown(sc)]
    for r in shown:
        x = MARGIN
        cells = [f"{r.project} {r.title}", r.measure, None, None, r.before_after, r.latest_score]
        for (name, inches), cell in zip(cols, cells, strict=True):
            if cell is None:
                svg_text = (
                    icons.variation_svg(r.variation_icon)
                    if name == "Variation"
                    else icons.assurance_svg(r.assurance_icon)
                )
                add_icon(slide, svg_text, x + Inches(0.25), y, row_h - Inches(0.02))
            else:
                # Two lines of 9 pt to a row: a title is cut short only past what two lines hold.
                room = 2 * int(inches * 14)
                text = cell if len(cell) <= room else cell[: room - 1] + "…"
                box = _text(
                    slide,
                    x,
                    y,
                    Inches(inches),
                    row_h,
                    [(text, 9, name == "Project", TEXT)],
                    anchor=MSO_ANCHOR.MIDDLE,
                )
                box.text_frame.margin_top = box.text_frame.margin_bottom = 0
                box.text_frame.paragraphs[0].space_after = 0
            x += Inches(inches)
        y += row_h
    if len(sc.board) > len(shown):
        _text(
            slide,
            MARGIN,
            y,
            Inches(8),
            Inches(0.3),
            [(f"and {len(sc.board) - len(shown)} more measures in the HTML report", 10, False, NHS_GREY)],
        )
    # A key to every icon the board uses, along the bottom, KEY_PER_ROW to a row.
    key_rows = -(-len(key) // KEY_PER_ROW)
    for i, (kind, code) in enumerate(key):
        r, c = divmod(i, KEY_PER_ROW)
        kx = MARGIN + c * Inches(2.05)
        ky = HEIGHT - Inches(0.55) - (key_rows - r) * Inches(0.32)
        svg_text = icons.variation_svg(code) if kind == "variation" else icons.assurance_svg(code)
        name = icons.variation_label(code) if kind == "variation" else icons.assurance_label(code)
        add_icon(slide, svg_text, kx, ky, Inches(0.3))
        _text(
            slide,
            kx + Inches(0.33),
            ky,
            Inches(1.72),
            Inches(0.3),
            [(name, 9, False, NHS_GREY)],
            anchor=MSO_ANCHOR.MIDDLE,
        )
    _notes(
        slide,
        "\n".join(
            f"{r.project} {r.measure}: {icons.variation_label(r.variation_icon)}, "
            f"{icons.assurance_label(r.assurance_icon)}; {r.before_after}"
            + (f"; improving: {r.improving}" if r.improving else "")
            for r in sc.board
        ),
    )


def build(sc: Showcase, board_only: bool = False) -> Presentation:
    """The deck: one slide per slide of ``sc.slides`` (only the board summary with ``board_only``)."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = WIDTH, HEIGHT
    blank = prs.slide_layouts[6]
    slides = [s for s in sc.slides if not board_only or s.kind == KIND_BOARD]
    for number, s in enumerate(slides, start=1):
        slide = prs.slides.add_slide(blank)
        if s.kind == KIND_PROJECT:
            _project_slide(slide, sc, sc.project(s.project))
        else:
            _header(slide, s.title, f"{sc.programme} · {sc.subtitle}")
            {
                KIND_NUMBERS: _numbers_slide,
                KIND_FUNNEL: _funnel_slide,
                KIND_MAP: _map_slide,
                KIND_IMPACT: _impact_slide,
                KIND_BOARD: _board_slide,
            }[s.kind](slide, sc)
        _footer(slide, sc, number, len(slides))
    prs.core_properties.title = f"{sc.programme}: showcase"
    prs.core_properties.subject = sc.subtitle
    return prs


def to_bytes(sc: Showcase, board_only: bool = False) -> bytes:
    buf = io.BytesIO()
    build(sc, board_only).save(buf)
    return buf.getvalue()
