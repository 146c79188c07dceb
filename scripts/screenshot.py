"""Take screenshots of the running dashboard in headless Chromium, to look at what users see.

    python scripts/screenshot.py --url http://127.0.0.1:8501 --out screenshots \
        "overview?scenario=cornwall" "capability_map?scenario=barnet"

Each argument is a page path with an optional query string; the PNG is named after it.
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
]


def wait_until_idle(page, timeout_ms: int = 60_000) -> None:
    """Wait for the script to finish and every skeleton to go (Streamlit's own e2e tests do this)."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout_ms)
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=\"stSkeleton\"]').length === 0", timeout=timeout_ms
    )
    page.wait_for_timeout(800)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8501")
    parser.add_argument("--out", default="screenshots")
    parser.add_argument("--height", type=int, default=1600)
    parser.add_argument("pages", nargs="+")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": args.height})
        errors = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        for target in args.pages:
            page.goto(f"{args.url}/{target}")
            wait_until_idle(page)
            if "capability_map" in target:
                page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=30_000)
                page.wait_for_timeout(1500)
            name = re.sub(r"[^A-Za-z0-9_-]+", "_", target).strip("_") or "home"
            page.screenshot(path=str(out / f"{name}.png"))
            print(out / f"{name}.png")
        if errors:
            print("console errors:", *errors, sep="\n  ")
        browser.close()


if __name__ == "__main__":
    main()
