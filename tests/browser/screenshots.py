"""Screenshots of every page for each role: `make screenshots` (PNG files in screenshots/,
not committed). A fresh app with the demo company is started on a free port, as for the
browser tests; each role signs in and visits every page it may see.

    python -m tests.browser.screenshots [--out DIR] [--sizes 1440x900,1280x800,1920x1080]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from core.domain import Role
from core.permissions import ROLE_PERMISSIONS
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, start_app, stop_app
from tests.browser.helpers import open_page, sign_in, wait_idle
from ui.navigation import PAGES


def _sizes(text: str) -> list[tuple[int, int]]:
    return [(int(w), int(h)) for w, h in (s.split("x") for s in text.split(",") if s)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="screenshots")
    parser.add_argument("--sizes", default="1440x900")
    parser.add_argument("--full-page", action="store_true", help="the whole page, not the view")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="arbiter-screens-"))
    server = start_app(folder)
    written = 0
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for width, height in _sizes(args.sizes):
                for role in Role:
                    context = browser.new_context(viewport={"width": width, "height": height})
                    context.set_default_timeout(60_000)
                    page = context.new_page()
                    sign_in(page, server.url, *server.account(role.value))
                    for spec in PAGES:
                        if spec.permission not in ROLE_PERMISSIONS[role]:
                            continue
                        slug = Path(spec.path).stem
                        open_page(page, spec.title)
                        wait_idle(page, 60_000)
                        page.wait_for_timeout(1_500)  # charts and grids draw after the script
                        name = out / f"{width}x{height}-{role.value}-{slug}.png"
                        page.screenshot(path=str(name), full_page=args.full_page)
                        written += 1
                    context.close()
            browser.close()
    finally:
        stop_app(server)
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{written} screenshots in {out}/")


if __name__ == "__main__":
    main()
