"""The app's pages, listed once: the frame (app.py) registers them, the bench times them and the tests
open each of them for every role.

They live in app_pages/, not pages/, because Streamlit treats a pages/ folder as an old-style multipage
app and would run a deep link such as /overview without the frame. A page appears when its script
exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True)
class PageEntry:
    path: str  # the page script, relative to the repository root
    title: str  # its name in the menu
    icon: str  # a Material icon, ":material/name:"
    default: bool = False  # served at the root URL
    # Who may open the page (None: every role). A page a role may not open is not registered for it at
    # all, so neither the menu nor a typed URL reaches it.
    roles: tuple[str, ...] | None = None
    # What the page draws on its first view, opened with no choices made, of the elements whose
    # front-end code Streamlit fetches only when first shown ("plotly", "deck", "table": see
    # qidash.ui.preload): the frame starts fetching it as the run begins. Checked in a real browser.
    first_view: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The script's name without ``.py`` ("capability_map"), as the bench and tests name pages."""
        return PurePosixPath(self.path).stem

    def open_to(self, role: str) -> bool:
        return self.roles is None or role in self.roles


PAGES: list[PageEntry] = [
    PageEntry("app_pages/overview.py", "Overview", ":material/dashboard:", default=True,
              first_view=("plotly",)),
    PageEntry("app_pages/capability_map.py", "Capability map", ":material/map:",
              first_view=("deck", "table")),
    PageEntry("app_pages/tiers.py", "Tiers", ":material/stacked_bar_chart:", first_view=("plotly",)),
    PageEntry("app_pages/portfolio.py", "Portfolio", ":material/grid_view:", first_view=("plotly", "table")),
    PageEntry("app_pages/project.py", "Project", ":material/insights:", first_view=("plotly",)),
    PageEntry("app_pages/showcase.py", "Showcase", ":material/slideshow:"),
    PageEntry("app_pages/data.py", "Data", ":material/upload_file:", roles=("admin",), first_view=("table",)),
    PageEntry("app_pages/accessibility.py", "Accessibility", ":material/accessibility:"),
]

HOME = next(page for page in PAGES if page.default)
