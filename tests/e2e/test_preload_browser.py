"""Each page's first view in a real browser loads the front-end code its entry says it draws
(qidash.ui.pages.PageEntry.first_view), and the frame has started loading it before the first such
element reached the page (qidash.ui.preload); a page loads none it does not draw."""

from __future__ import annotations

import pytest

from qidash.ui import preload
from qidash.ui.pages import PAGES
from tests.e2e.conftest import assert_clean, wait_idle

ELEMENTS = {"plotly": "stPlotlyChart", "deck": "stDeckGlJsonChart", "table": "stDataFrame"}
# When each kind of element first appeared in the page, in the page's own clock (performance.now()).
WATCH_ELEMENTS = """
window.__firstSeen = {};
new MutationObserver(() => {
  for (const [kind, id] of Object.entries(%s))
    if (!(kind in window.__firstSeen) && document.querySelector(`[data-testid="${id}"]`))
      window.__firstSeen[kind] = performance.now();
}).observe(document, {subtree: true, childList: true});
"""
REQUESTED = """(names) => Object.fromEntries(names.map(n => {
  const e = performance.getEntriesByType('resource').find(r => r.name.endsWith('/static/js/' + n));
  return [n, e ? e.startTime : null];
}))"""


@pytest.mark.parametrize("entry", PAGES, ids=[p.name for p in PAGES])
def test_each_page_loads_what_its_first_view_draws_and_starts_it_early(server, page, entry):
    page.add_init_script(WATCH_ELEMENTS % repr(ELEMENTS).replace("'", '"'))
    page.goto(f"{server}/{'' if entry.default else entry.name}?scenario=cornwall")
    wait_idle(page)
    if "deck" in entry.first_view:
        page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=60_000)
    files = {kind: preload.chunk_file(kind) for kind in preload.CHUNKS}
    requested = page.evaluate(REQUESTED, list(files.values()))
    seen = page.evaluate("window.__firstSeen")
    loaded = {kind for kind, name in files.items() if requested[name] is not None}
    assert loaded == set(entry.first_view), (entry.name, loaded, seen)
    assert set(seen) == loaded, (entry.name, seen)  # each kind loaded is drawn on the first view
    for kind in entry.first_view:
        # started by the frame, before Streamlit itself would have asked for it
        assert requested[files[kind]] < seen[kind], (entry.name, kind, requested, seen)
    assert page.locator(f'.st-key-{preload.KEY}').count() == (1 if entry.first_view else 0)
    if entry.first_view:
        assert not page.locator(f'.st-key-{preload.KEY}').is_visible()  # no gap in the page
    assert_clean(page)
