"""qidash: the frame. Page config, database choice, sidebar filters, navigation.

Run with ``streamlit run app.py``. With no ``QIDASH_DB_URL`` set the app runs in demo mode: each
programme's synthetic data lives in its own SQLite file under ``data/demo/``, created on first use.
"""

from pathlib import Path

import streamlit as st

from qidash import db, geo, scenarios
from qidash.registers import lookups as registers_lookups
from qidash.ui import data
from qidash.ui.auth import current_viewer, show_sign_in_off_banner, sign_in_setup
from qidash.ui.errors import plain_errors, run_plainly
from qidash.ui.filters import sidebar_filters, url_selectbox

st.set_page_config(page_title="qidash: QI capability across the system", page_icon="📈", layout="wide")

HERE = Path(__file__).parent
# Pages are listed here once; a page appears when its script exists. They live in app_pages/, not
# pages/, because Streamlit treats a pages/ folder as an old-style multipage app and would run a
# deep link such as /overview without this frame.
# The last field says who may open the page (None: every role). A page a role may not open is not
# registered for it at all, so neither the menu nor a typed URL reaches it.
PAGES = [
    ("app_pages/overview.py", "Overview", ":material/dashboard:", True, None),
    ("app_pages/capability_map.py", "Capability map", ":material/map:", False, None),
    ("app_pages/tiers.py", "Tiers", ":material/stacked_bar_chart:", False, None),
    ("app_pages/portfolio.py", "Portfolio", ":material/grid_view:", False, None),
    ("app_pages/project.py", "Project", ":material/insights:", False, None),
    ("app_pages/showcase.py", "Showcase", ":material/slideshow:", False, None),
    ("app_pages/data.py", "Data", ":material/upload_file:", False, ("admin",)),
    ("app_pages/accessibility.py", "Accessibility", ":material/accessibility:", False, None),
]

# Who may look is settled before any data is read: a configured database with sign-in missing or broken
# stops here (DESIGN.md section 8).
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
st.session_state["_engine"] = engine
st.session_state["_viewer"] = viewer
with plain_errors("The sidebar"):
    st.session_state["_filters"] = sidebar_filters(engine, viewer)

with st.sidebar, plain_errors("The sidebar"):
    if data.setting(engine, "demo") == "yes":
        st.caption(
            "Demo data: synthetic people, sites and projects placed around real towns. "
            f"Snapshot as of {data.setting(engine, 'data_as_of')}."
        )
    if data.setting(engine, geo.REGISTERS_ICB):  # loaded from the public registers, drawn on ONS boundaries
        st.caption(registers_lookups.ATTRIBUTION)

HOME_PATH, HOME_TITLE = next((path, title) for path, title, _icon, default, _roles in PAGES if default)


def _home_by_name() -> None:
    """``/overview`` typed or bookmarked: the Overview is served at the root URL, so go there with the
    same query string (Streamlit would otherwise say the page does not exist)."""
    st.switch_page(HOME_PATH, query_params=st.query_params.to_dict())


pages = [
    # The default page is served at the root URL; its own name ("home") only keeps "overview" free.
    st.Page(path, title=title, icon=icon, default=default, url_path="home" if default else None)
    for path, title, icon, default, roles in PAGES
    if (HERE / path).exists() and (roles is None or viewer.role in roles)
]
pages.append(st.Page(_home_by_name, title=HOME_TITLE, url_path="overview", visibility="hidden"))
# A page that fails shows a plain message and a reference the admin finds in the server log.
run_plainly(st.navigation(pages).run, "A page")
