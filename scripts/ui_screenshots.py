#!/usr/bin/env python3
"""Screenshots of every web UI page, from the demo store, into docs/ui/.

Runs ``s3opstore demo`` into a temporary store, serves it, and drives the system
Chromium (``/usr/bin/chromium``, Debian's package) through Playwright.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

from s3opstore.api.server import make_server
from s3opstore.registry.opstore import OpStore

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGES = [
    ("ops", "#/", 1280),
    ("op", "#/op?name=classifier", 1280),
    ("version", None, 1280),  # the latest version of the classifier, found on the op page
    ("lineage", "#/lineage", 1280),
    ("pipeline", "#/pipeline?name=iris_classification", 1280),
    ("phone", "#/op?name=pca", 390),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "ui")
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        store_dir = Path(scratch) / "registry"
        subprocess.run([str(Path(sys.executable).parent / "s3opstore"), "--store", str(store_dir),
                        "demo"], check=True, capture_output=True)
        server = make_server(OpStore.from_url(str(store_dir)), port=0,
                             log_stream=open(Path(scratch) / "log", "w"))  # noqa: SIM115
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                for name, fragment, width in PAGES:
                    context = browser.new_context(viewport={"width": width, "height": 760},
                                                  device_scale_factor=1)
                    page = context.new_page()
                    if fragment is None:
                        page.goto(f"{server.url}/ui/#/op?name=classifier")
                        page.wait_for_selector("body[data-page='op']", state="attached")
                        page.click("tr[data-version] td:first-child a >> nth=0")
                    else:
                        page.goto(f"{server.url}/ui/{fragment}")
                    page.wait_for_selector("body[data-page]:not([data-page='loading'])",
                                           state="attached")
                    page.screenshot(path=str(args.output / f"{name}.png"), full_page=True)
                    context.close()
                    print(args.output / f"{name}.png")
                browser.close()
        finally:
            server.shutdown()
            thread.join(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
