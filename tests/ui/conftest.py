"""The web UI in a real browser: Debian's Chromium driven by Playwright, against
``s3opstore serve`` started as users start it, on a store these fixtures fill.

Playwright's own browser downloads are never used (``executable_path`` points at the
system Chromium that ``scripts/test.sh`` installs with apt).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from s3opstore.models.version import Version
from s3opstore.registry.opstore import OpStore
from s3opstore.trust import SigningKey
from tests.api.serving import Served

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
HOSTILE_OP = '<img src=x onerror="window.__pwned=1">'
HOSTILE_ALIAS = '"><script>window.__pwned=2</script>'
HOSTILE_PIPELINE = "</li><b id=injected>pipe</b>"
CLF_VERSIONS = 60
START = datetime(2024, 3, 1, 9, 0, 0)
SIGNER = SigningKey.generate()  # signs pca's bytes; clf's stay unsigned (design.md D15)


def version(tag: str, minute: int, minor: str = "", patch: str = "") -> Version:
    return Version.from_parts(major=tag.encode(), minor=minor.encode(), patch=patch.encode(),
                              creation_time=START + timedelta(minutes=minute))


@dataclass
class Fixture:
    """What the test store holds, for the assertions."""

    url: str
    store: OpStore
    clf: list[Version] = field(default_factory=list)
    pca: Version | None = None
    scaler: Version | None = None


def fill(root: Path) -> Fixture:
    store = OpStore.from_url(str(root))
    found = Fixture(url=store.url, store=store)
    found.scaler = version("scaler", 0)
    store.register_valid_link("pca", "scaler", found.scaler)
    found.pca = version("pca", 1)
    store.register_valid_link("clf", "pca", found.pca)
    store.with_trust(signer=SIGNER).save_op_bytes("pca", found.pca, b"pca-bytes")
    for i in range(CLF_VERSIONS):  # 60 versions: two pages of 50, newest first
        v = version("clf" if i < 40 else "clf-2", 10 + i, minor=f"data-{i // 5}",
                    patch=f"dtype-{i}")
        store.register_version("clf", v)
        found.clf.append(v)
    store.save_op_bytes("clf", found.clf[-1], b"model" * 100)
    store.register_valid_link("report", "clf", found.clf[-1])
    store.set_alias("clf", "production", found.clf[45])
    store.set_alias("clf", "staging", found.clf[30])
    store.set_alias("clf", "staging", found.clf[-1])
    store.register_pipeline("iris", "clf")
    store.register_pipeline("broken", "ghost")
    store.register_version(HOSTILE_OP, version("evil", 0))
    store.set_alias(HOSTILE_OP, HOSTILE_ALIAS, version("evil", 0))
    store.register_pipeline(HOSTILE_PIPELINE, HOSTILE_OP)
    return found


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Fixture:
    return fill(tmp_path_factory.mktemp("ui") / "registry")


@pytest.fixture(scope="module")
def served(registry: Fixture, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = registry.store.url.removeprefix("file://")
    server = Served(f"s3opstore serve --store {root} --port 0",
                    cwd=tmp_path_factory.mktemp("cwd"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def served_trusting(registry: Fixture,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The same store served with S3OPSTORE_TRUSTED_KEYS naming SIGNER's public key."""
    root = registry.store.url.removeprefix("file://")
    cwd = tmp_path_factory.mktemp("cwd-trusting")
    (cwd / "trusted.pub").write_bytes(SIGNER.public_pem())
    server = Served(f"s3opstore serve --store {root} --port 0", cwd=cwd,
                    env={"S3OPSTORE_TRUSTED_KEYS": str(cwd / "trusted.pub")})
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    assert shutil.which(CHROMIUM), (
        f"{CHROMIUM} is missing: scripts/test.sh installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        # launch() gives Chromium a fresh temporary --user-data-dir of its own
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class Browsing:
    """One browser tab on the served UI, failing the test on any page error."""

    def __init__(self, page: Any, base: str) -> None:
        self.page, self.base = page, base
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", lambda message: self.errors.append(message.text)
                if message.type == "error" else None)

    def open(self, fragment: str = "#/") -> Any:
        self.page.goto(f"{self.base}/ui/{fragment}")
        return self.wait()

    def wait(self, page: str | None = None) -> Any:
        selector = (f"body[data-page='{page}']" if page
                    else "body[data-page]:not([data-page='loading'])")
        self.page.wait_for_selector(selector, state="attached")
        return self.page

    def texts(self, selector: str) -> list[str]:
        return [t.strip() for t in self.page.locator(selector).all_text_contents()]

    def data(self, selector: str, key: str) -> list[str]:
        return list(self.page.locator(selector).evaluate_all(
            f"els => els.map(e => e.dataset[{key!r}])"))


@pytest.fixture
def tab(browser: Any, served: Served) -> Iterator[Browsing]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    browsing = Browsing(context.new_page(), served.url)
    try:
        yield browsing
    finally:
        context.close()
    assert browsing.errors == []
