"""The Showcase: one story model for the celebration screen and its exports.

:func:`showcase_data` builds a :class:`Showcase` from the measures engine and the stored chart
analysis: the programme in numbers, the tier funnel, the map, then one slide per chosen project (aim,
team and organisations, the chart with its signals and PDSA cycles, before and after medians, story
and lessons) and a board summary with the Making Data Count icons. The Showcase page, the PowerPoint
deck, the HTML report and the ``showcase`` command all draw this one model, so they never disagree.

One module per idea: :mod:`.privacy` (public mode, applied there and only there), :mod:`.numbers`,
:mod:`.funnel`, :mod:`.map_slide`, :mod:`.project_chart`, :mod:`.projects`, :mod:`.board`,
:mod:`.choices` (which projects to celebrate), :mod:`.story` (the slides in order) and
:mod:`.alternatives` (each chart's text alternative). The names callers use are importable from here.
"""

from qidash.views.showcase import alternatives
from qidash.views.showcase.board import BoardRow, board_key, board_rows
from qidash.views.showcase.choices import (
    SUGGEST_IMPROVING,
    SUGGEST_QUIET,
    ProjectChoice,
    project_choices,
    suggested_codes,
)
from qidash.views.showcase.funnel import FUNNEL_KEYS, Funnel, FunnelStage, showcase_funnels
from qidash.views.showcase.map_slide import MapView, showcase_map
from qidash.views.showcase.numbers import NUMBER_KEYS, REPORT_KEYS, Number
from qidash.views.showcase.privacy import SUPPRESS_BELOW, people_count, person_name, suppressed
from qidash.views.showcase.project_chart import (
    BASELINE_MAX,
    MIN_SIDE,
    Annotation,
    BeforeAfter,
    ChartSeries,
    before_after,
    chart_series,
)
from qidash.views.showcase.projects import Organisation, ProjectSlide, Team, project_slide, project_slides
from qidash.views.showcase.story import (
    BOARD_SCREEN_ROWS,
    IMPACT_TITLE,
    KIND_BOARD,
    KIND_FUNNEL,
    KIND_IMPACT,
    KIND_MAP,
    KIND_NUMBERS,
    KIND_PROJECT,
    Showcase,
    Slide,
    showcase_data,
)

__all__ = [
    "BASELINE_MAX",
    "BOARD_SCREEN_ROWS",
    "FUNNEL_KEYS",
    "IMPACT_TITLE",
    "KIND_BOARD",
    "KIND_FUNNEL",
    "KIND_IMPACT",
    "KIND_MAP",
    "KIND_NUMBERS",
    "KIND_PROJECT",
    "MIN_SIDE",
    "NUMBER_KEYS",
    "REPORT_KEYS",
    "SUGGEST_IMPROVING",
    "SUGGEST_QUIET",
    "SUPPRESS_BELOW",
    "Annotation",
    "BeforeAfter",
    "BoardRow",
    "ChartSeries",
    "Funnel",
    "FunnelStage",
    "MapView",
    "Number",
    "Organisation",
    "ProjectChoice",
    "ProjectSlide",
    "Showcase",
    "alternatives",
    "Slide",
    "Team",
    "before_after",
    "board_key",
    "board_rows",
    "chart_series",
    "people_count",
    "person_name",
    "project_choices",
    "project_slide",
    "project_slides",
    "showcase_data",
    "showcase_funnels",
    "showcase_map",
    "suggested_codes",
    "suppressed",
]
