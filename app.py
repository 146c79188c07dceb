"""qidash: the frame. Page config, database choice, sidebar filters, navigation.

Run with ``streamlit run app.py``. With no ``QIDASH_DB_URL`` set the app runs in demo mode: each
programme's synthetic data lives in its own SQLite file under ``data/demo/``, created on first use.
"""

import gc

# qidash allocates containers by the hundred thousand (result rows, tuples, a DataFrame's insides),
# nearly all freed by reference counting rather than by the cyclic collector. At Python's default
# first threshold (700 new containers) the collector ran about 480 times in a first view of a
# scale-50 page, and the full passes that followed rescanned every module imported so far: about
# 0.2 s of a 1 s page. At 20,000 it runs about 15 times for about 0.065 s. A young generation of
# 20,000 objects is a few MB at most, and a pass over it takes a few milliseconds. A process setting,
# so it is made here, in the process that serves pages (and the bench, which runs this script), before
# qidash's own imports; the older generations keep theirs.
GC_YOUNG_THRESHOLD = 20_000
gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])

from pathlib import Path

import streamlit as st

from qidash import db, geo, scenarios
from qidash.registers import lookups as registers_lookups
from qidash.ui import data, preload
from qidash.ui.auth import current_viewer, show_sign_in_off_banner, sign_in_setup
from qidash.ui.context import set_page_context
from qidash.ui.errors import plain_errors, run_plainly
from qidash.ui.filters import sidebar_filters, url_selectbox
from qidash.ui.pages import HOME, PAGES

st.set_page_config(page_title="qidash: QI capability across the system", page_icon="📈", layout="wide")
# Two things the theme cannot style (both checked in the browser by tests/e2e):
# - focus: the sidebar's page links show the keyboard focus only as a pale grey background, well under
#   3:1. An NHS Blue ring marks it (WCAG 2.4.7 and 1.4.11; test_keyboard_browser.py Tabs to a link).
# - target size: a date field's day and month parts are 18 by 20 px, 5 px apart, so each is a target
#   under 24 px (WCAG 2.5.8; test_accessibility_browser.py). Each part is at least 24 px square.
st.html(
    '<style>[data-testid="stSidebarNav"] a:focus-visible '
    "{ outline: 3px solid #005EB8; outline-offset: -3px; }"
    ' [data-testid="stDateInput"] [role="spinbutton"] '
    "{ display: inline-block; min-width: 24px; min-height: 24px; line-height: 24px; text-align: center; }"
    f" .st-key-{preload.KEY} {{ display: none; }}"  # a script that loads code, not a block of the page
    "</style>"
)

HERE = Path(__file__).parent


def _home_by_name() -> None:
    """``/overview`` typed or bookmarked: the Overview is served at the root URL, so go there with the
    same query string (Streamlit would otherwise say the page does not exist)."""
    st.switch_page(HOME.path, query_params=st.query_params.to_dict())


# Who may look is settled before any data is read: a configured database with sign-in missing or broken
# stops here (DESIGN.md section 8).
data.new_run()  # each database's data version is read once per run
setup = sign_in_setup()
if setup.mode == "off":
    show_sign_in_off_banner()

if data.demo_mode():
    with st.sidebar:
        scenario = url_selectbox(
            "Demo programme",
            {name: scenarios.definition(name)["short_name"] for name in scenarios.available()},
            key="scenario",
            default="cornwall",
            help="Synthetic data reproducing one of five real ICS QI programmes.",
        )
    with plain_errors("Opening the demo data"):
        engine = data.ensure_demo(scenario)
else:
    # A database that cannot be reached says so plainly, before sign-in and after; the log has the detail.
    with plain_errors("Opening the database"):
        engine = data.engine_for(db.default_url())

with plain_errors("Signing in"):
    viewer = current_viewer(engine, setup)

first_views = {}  # what each page's first view draws, by its URL path
pages = []
for page in PAGES:
    if (HERE / page.path).exists() and page.open_to(viewer.role):
        # The default page is served at the root URL; its own name ("home") only keeps "overview" free.
        pages.append(st.Page(page.path, title=page.title, icon=page.icon, default=page.default,
                             url_path="home" if page.default else None))
        first_views[pages[-1].url_path] = page.first_view
pages.append(st.Page(_home_by_name, title=HOME.title, url_path="overview", visibility="hidden"))
current = st.navigation(pages)
# The page's charts, map or tables start loading in the browser now, while the sidebar and the page
# read their data (qidash.ui.preload).
preload.preload(first_views.get(current.url_path, ()))

with plain_errors("The sidebar"):
    # What every page reads of this run (engine, viewer, filters, programme), built once here.
    set_page_context(engine, viewer, sidebar_filters(engine, viewer))

with st.sidebar, plain_errors("The sidebar"):
    if data.setting(engine, "demo") == "yes":
        st.caption(
            "Demo data: synthetic people, sites and projects placed around real towns. "
            f"Snapshot as of {data.setting(engine, 'data_as_of')}."
        )
    if data.setting(engine, geo.REGISTERS_ICB):  # loaded from the public registers, drawn on ONS boundaries
        st.caption(registers_lookups.ATTRIBUTION)


# A page that fails shows a plain message and a reference the admin finds in the server log.
run_plainly(current.run, "A page")
