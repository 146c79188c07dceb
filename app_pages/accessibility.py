"""Accessibility statement: what meets WCAG 2.2 AA, what does not yet, and how to report a problem, in the
shape NHS services publish under the Public Sector Bodies Accessibility Regulations 2018."""

import streamlit as st

from qidash.ui import components
from qidash.ui.context import page_context

ctx = page_context()
components.page_header("Accessibility statement", ctx.programme, ctx.filters)

st.markdown(
    """
This dashboard should be usable by as many people as possible: a board member using a screen reader, a
locality lead with low vision who zooms the page to 200%, a faculty member presenting on a projector,
someone who uses only a keyboard. It aims to meet the Web Content Accessibility Guidelines (WCAG) 2.2 at
level AA, as the Public Sector Bodies (Websites and Mobile Applications) (No. 2) Accessibility Regulations
2018 require.

### How accessible this dashboard is

**Meets WCAG 2.2 AA (checked on every release):**

- Every page of the dashboard on each of the five demonstration programmes, the Overview, Project and
  Data pages on a configured database, and the Showcase while presenting have no serious or critical
  failure of the WCAG 2.0, 2.1 and 2.2 level A and AA rules that axe-core checks in the browser.
- Text on the page, including captions, hints and help, has a contrast ratio of at least 4.5:1 with its
  background.
- The Making Data Count icons have text names ("Variation: improvement (high)",
  "Assurance: consistently passing"), and every icon is shown beside its name or meaning in words.
- Chart colours: every bar, line and point, on the pages and in the Showcase's report and deck, has a
  contrast of at least 3:1 with the white plot (the NHS light blue, warm yellow and orange are drawn in
  darker shades); axis labels, legends and numbers written on bars have at least 4.5:1; and a Making
  Data Count point shows its kind by its shape as well as its colour.
- Every filter is an ordinary control that can be reached and changed with the keyboard, and the
  address of a page holds its filters, so a view can be shared as a link.
- On the Capability map, the PCN areas can be chosen from a list as well as by clicking the map, and the
  numbers behind the map are one click away as a table.
- Capability map: each stage is drawn with its own mark as well as its colour (a thin or thick ring, a
  filled disc, a thin or thick dark outline), named in the legend and each point's tooltip, and the
  marks stand out at least 3:1 from the land under them. Every PCN area has a dark boundary line at
  least 3:1 against the land and every area colour, so each area's shape can be seen; its class is in
  words in the legend, its tooltip and the table below the map. Every organisation on the map is also
  in a list below it with its stage in words, reached with the keyboard, found by name or stage, and
  downloaded whole. The Showcase's map, in its report and deck, draws and names the same stage marks.
- Charts: the charts on the Overview, Tiers, Portfolio, Project and Showcase pages, and the Showcase's
  map, have a one-line summary in words and a table of the numbers behind them, one click away (the
  Portfolio's small charts have the summary, and their table on the project's page; the Showcase's keep
  public mode's hidden small counts).
- Showcase: while presenting on a 1920 by 1080 screen, all its text (the story, captions, the board
  table, headings, the headline numbers' labels, the icons' key and the charts' labels) is at least 24
  pixels, read from the back of a room; a board with more measures than fit at that size is shown over
  several screens.
- Keyboard: choosing a programme, setting the filters, picking a PCN from the list, opening a project,
  and opening, presenting, stepping through and downloading the Showcase are tested with a keyboard
  alone, with a visible focus.

**Does not meet AA yet:**

- Automated checks find about a third to a half of accessibility problems; the dashboard has not yet been
  audited by people who use assistive technology every day.

### What to do if you cannot use part of this dashboard

If you need information from the dashboard in a different format (a table, a large-print or plain-text
report), or you find a problem that is not listed above, tell your programme's admin (the people who load
the data). Say which page, what you were trying to do and what
assistive technology you use, if any. The Showcase's downloads (PowerPoint deck, HTML report, PDF) are
another way to read the same story.

### Enforcement procedure

The Equality and Human Rights Commission (EHRC) is responsible for enforcing the accessibility
regulations. If you are not happy with how your organisation responds to your complaint, contact the
Equality Advisory and Support Service (EASS).

### How this dashboard was tested

Each release runs axe-core (WCAG 2.0, 2.1 and 2.2, levels A and AA) in headless Chromium on every page
of every demonstration programme, on a configured database with sign-in off, and on the Showcase while
presenting; a serious or critical failure stops the release. The check lives in the project's browser
tests (tests/e2e/test_accessibility_browser.py).
"""
)
