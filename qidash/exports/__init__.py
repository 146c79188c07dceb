"""Exports of the Showcase (:mod:`qidash.views.showcase`): a PowerPoint deck with native charts
(:mod:`.pptx_deck`), a standalone HTML report with inline SVG charts (:mod:`.html_report`, drawn by
:mod:`.svg`), and PNG / PDF images of the charts and the report through a local Chromium
(:mod:`.images`). Each renders the same :class:`~qidash.views.showcase.Showcase`; none counts anything.
"""
