"""PNG and PDF through a local headless Chromium: the HTML report as a PDF (one slide per A4 landscape
page) and each chart of the Showcase as a PNG and a PDF of its own.

Chromium is optional. :func:`chromium` finds it (``QIDASH_CHROMIUM``, then ``chromium`` /
``chromium-browser`` / ``google-chrome`` on PATH); without it these functions raise
:class:`NoChromium`, whose message says what to install. The pages are local files with no outside
reference, and Chromium runs with networking features off.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from qidash.exports import html_report, svg
from qidash.views.showcase import Showcase

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--no-pdf-header-footer",
    "--default-background-color=ffffffff",
]
TIMEOUT_S = 90


class NoChromium(RuntimeError):
    """No Chromium to draw with."""

    def __init__(self):
        super().__init__(
            "PNG and PDF need Chromium, which was not found. Install it (Debian: apt-get install chromium) "
            "or set QIDASH_CHROMIUM to its path. The PowerPoint deck and the HTML report need no browser."
        )


def chromium() -> str | None:
    """The path of a Chromium to use, or None."""
    configured = os.environ.get("QIDASH_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(args: list[str], cwd: Path) -> None:
    exe = chromium()
    if exe is None:
        raise NoChromium()
    # A profile of its own per call, so concurrent exports never share one.
    profile = cwd / "profile"
    done = subprocess.run(
        [exe, *FLAGS, f"--user-data-dir={profile}", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"Chromium failed ({done.returncode}): {done.stderr.strip()[-400:]}")


def html_to_pdf(html: str) -> bytes:
    """A PDF of an HTML page (its own @page rules decide the paper)."""
    with tempfile.TemporaryDirectory(prefix="qidash-pdf-") as tmp:
        page, out = Path(tmp) / "page.html", Path(tmp) / "page.pdf"
        page.write_text(html, encoding="utf-8")
        _run([f"--print-to-pdf={out}", page.as_uri()], Path(tmp))
        return out.read_bytes()


def _page_for(drawing: str, width: int, height: int) -> str:
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><style>'
        f"@page {{ size: {width}px {height}px; margin: 0; }} html, body {{ margin: 0; background: white; }}"
        f"svg {{ display: block; }}</style></head><body>{drawing}</body></html>"
    )


def svg_to_png(drawing: str) -> bytes:
    """A PNG of one inline SVG drawing, at its own size."""
    width, height = _size(drawing)
    with tempfile.TemporaryDirectory(prefix="qidash-png-") as tmp:
        page, out = Path(tmp) / "chart.html", Path(tmp) / "chart.png"
        page.write_text(_page_for(drawing, width, height), encoding="utf-8")
        _run([f"--screenshot={out}", f"--window-size={width},{height}", page.as_uri()], Path(tmp))
        return out.read_bytes()


def svg_to_pdf(drawing: str) -> bytes:
    width, height = _size(drawing)
    return html_to_pdf(_page_for(drawing, width, height))


def _size(drawing: str) -> tuple[int, int]:
    found = re.search(r'viewBox="0 0 (\d+) (\d+)"', drawing)
    return (int(found.group(1)), int(found.group(2))) if found else (960, 540)


def charts(sc: Showcase) -> dict[str, str]:
    """Every chart of the showcase as an SVG drawing, by file stem: funnel(s), map, one per project."""
    out = {}
    for i, f in enumerate(sc.funnels, start=1):
        out[f"funnel-{i}" if len(sc.funnels) > 1 else "funnel"] = svg.funnel(f)
    if sc.map is not None:
        out["map"] = svg.capability_map(sc.map)
    for p in sc.projects:
        if p.chart:
            out[_stem(f"{p.code}-{p.chart.measure_code}")] = svg.spc_chart(p.chart, 960, 460)
    return out


def _stem(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")


def write_chart_images(sc: Showcase, folder: Path) -> list[Path]:
    """Write ``<chart>.png`` and ``<chart>.pdf`` for every chart into ``folder``; returns the paths."""
    if chromium() is None:
        raise NoChromium()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, drawing in charts(sc).items():
        for suffix, draw in ((".png", svg_to_png), (".pdf", svg_to_pdf)):
            path = folder / f"{stem}{suffix}"
            path.write_bytes(draw(drawing))
            written.append(path)
    return written


def report_pdf(sc: Showcase, board_only: bool = False) -> bytes:
    """The HTML report (or the board summary alone) as a PDF."""
    return html_to_pdf(html_report.render(sc, board_only))
