"""Every page of the web UI in headless Chromium, against `s3opstore serve`."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

from s3opstore.cli.resolve import resolve_pipeline
from tests.api.serving import BIN, Served
from tests.ui.conftest import (
    CLF_VERSIONS,
    HOSTILE_ALIAS,
    HOSTILE_OP,
    HOSTILE_PIPELINE,
    SIGNER,
    Browsing,
    Fixture,
)


def test_ops_page_lists_every_op_and_pipeline_and_filters_as_you_type(
        tab: Browsing, registry: Fixture) -> None:
    page = tab.open("#/")
    ops = registry.store.list_ops()
    assert tab.data("tr[data-op]", "op") == ops
    row = page.locator("tr[data-op='clf']")
    latest = registry.store.latest_version("clf")
    assert latest is not None
    assert row.locator("td").nth(1).inner_text().strip() == latest.number_text
    assert row.locator("td").nth(2).inner_text().strip() == str(CLF_VERSIONS)
    assert sorted(t.strip() for t in row.locator(".badge").all_text_contents()) == [
        "production", "staging"]
    assert tab.data("[data-pipeline]", "pipeline") == sorted(
        ["iris", "broken", HOSTILE_PIPELINE])

    page.fill("#filter", "SC")  # case-insensitive, as typed
    assert [r.get_attribute("data-op") for r in page.locator("tr[data-op]:visible").all()] == [
        "scaler"]
    page.fill("#filter", "cl")
    assert page.locator("tr[data-op]:visible").count() == 1
    assert page.locator("#op-count").inner_text() == f"1 of {len(ops)} ops match"
    assert page.url.endswith("#/?q=cl")
    page.reload()  # the filter is part of the URL: a deep link
    tab.wait("ops")
    assert page.input_value("#filter") == "cl"
    assert page.locator("tr[data-op]:visible").count() == 1


def test_op_page_pages_versions_newest_first_with_alias_badges_and_history(
        tab: Browsing, registry: Fixture) -> None:
    page = tab.open("#/")
    page.click("tr[data-op='clf'] td:first-child a")
    tab.wait("op")
    assert page.url.endswith("#/op?name=clf")
    records = registry.store.get_versions("clf")
    newest = [str(r.version) for r in reversed(records)]
    assert tab.data("tr[data-version]", "version") == newest[:50]
    first = page.locator("tr[data-version]").first
    assert first.locator("td").first.inner_text().strip() == records[-1].number_text
    assert first.locator("td").nth(3).inner_text().split()[-3:] == ["500", "B", "unsigned"]
    # badges on the versions the aliases point at now, not where they pointed before
    badged = {v: page.locator(f"tr[data-version='{v}'] .badge").all_text_contents()
              for v in newest[:50]}
    assert badged[str(registry.clf[45])] == ["production"]
    assert badged[str(registry.clf[-1])] == ["staging"]
    assert sum(len(b) for b in badged.values()) == 2
    staging = page.locator("#aliases li[data-alias='staging']")
    staging.locator("summary").click()
    history = [t.split("·")[0].strip() for t in staging.locator("ol li").all_text_contents()]
    assert history == [records[-1].number_text, records[30].number_text]

    page.click("text=Older →")
    tab.wait("op")
    assert page.url.endswith("#/op?name=clf&page=2")
    assert tab.data("tr[data-version]", "version") == newest[50:]
    assert "page 2 of 2 · 60 versions" in page.locator(".pager").first.inner_text()
    page.reload()
    tab.wait("op")
    assert tab.data("tr[data-version]", "version") == newest[50:]


def test_version_page_shows_the_record_links_and_a_pull_command_that_works(
        tab: Browsing, registry: Fixture, tmp_path: Path) -> None:
    page = tab.open("#/op?name=clf")
    target = registry.clf[-1]
    page.click(f"tr[data-version='{target}'] td:first-child a")
    tab.wait("version")
    record = registry.store.get_version("clf", target)
    assert page.inner_text("#version-string") == str(target)
    facts = page.inner_text("#facts")
    assert record.number_text in facts and "staging" in facts
    info = registry.store.op_bytes_info("clf", target)
    assert f"sha256:{info.sha256}" in facts
    assert tab.texts("#downstream li") == ["report"]
    assert registry.pca is not None
    pca_number = registry.store.get_version("pca", registry.pca).number_text
    assert tab.texts("#upstream li") == [f"pca: {pca_number}"]

    command = page.inner_text("#pull")
    argv = shlex.split(command)
    assert argv[0] == "s3opstore"
    subprocess.run([str(BIN / "s3opstore"), *argv[1:]], cwd=tmp_path, check=True,
                   capture_output=True, timeout=60)
    assert (tmp_path / "op.bytes").read_bytes() == b"model" * 100
    page.reload()  # a deep link to a version
    tab.wait("version")
    assert page.inner_text("#version-string") == str(target)

    page.click("#upstream a >> text=pca")
    tab.wait("op")
    assert page.url.endswith("#/op?name=pca")


def test_lineage_graph_has_the_ops_and_the_validated_links(
        tab: Browsing, registry: Fixture) -> None:
    page = tab.open("#/lineage")
    assert sorted(tab.data("svg [data-op]", "op")) == sorted(registry.store.list_ops())
    edges = tab.data("svg [data-edge]", "edge")
    assert sorted(edges) == ["clf\u2192report", "pca\u2192clf", "scaler\u2192pca"]
    numbers = dict(zip(edges, tab.data("svg [data-edge]", "numbers"), strict=True))
    assert numbers["clf\u2192report"] == registry.store.get_version(
        "clf", registry.clf[-1]).number_text
    # upstream ops sit left of their downstream ops
    x = {name: page.locator(f"svg [data-op='{name}'] rect").get_attribute("x")
         for name in ("scaler", "pca", "clf", "report")}
    assert float(x["scaler"]) < float(x["pca"]) < float(x["clf"]) < float(x["report"])

    page.click("svg [data-op='pca']")  # nodes are links
    tab.wait("op")
    page.goto(f"{tab.base}/ui/#/lineage?op=clf")  # upstream and downstream, however far
    tab.wait("lineage")
    assert sorted(tab.data("svg [data-op]", "op")) == ["clf", "pca", "report", "scaler"]
    assert sorted(tab.data("svg [data-edge]", "edge")) == [
        "clf\u2192report", "pca\u2192clf", "scaler\u2192pca"]
    page.goto(f"{tab.base}/ui/#/lineage?op=report")
    tab.wait("lineage")
    assert sorted(tab.data("svg [data-op]", "op")) == ["clf", "pca", "report", "scaler"]


def test_pipeline_page_shows_what_resolve_would_load_or_the_missing_link(
        tab: Browsing, registry: Fixture) -> None:
    page = tab.open("#/")
    page.click("[data-pipeline='iris'] a >> nth=0")
    tab.wait("pipeline")
    expected = resolve_pipeline(registry.store, "iris")
    assert page.inner_text("#resolve-status") == f"resolve would load {len(expected.ops)} ops."
    loaded = {o.op_name: o.record.number_text for o in expected.ops}
    rows = page.locator("tr[data-op]")
    shown = {rows.nth(i).get_attribute("data-op"):
             rows.nth(i).locator("td").nth(1).inner_text().split()[0]
             for i in range(rows.count())}
    assert shown == loaded
    assert sorted(tab.data("svg [data-op]", "op")) == ["clf", "pca", "scaler"]
    assert sorted(tab.data("svg [data-edge]", "edge")) == ["pca\u2192clf", "scaler\u2192pca"]

    page.goto(f"{tab.base}/ui/#/pipeline?name=broken")
    tab.wait("pipeline")
    assert tab.texts("#missing li") == ["op 'ghost' has no registered versions"]


def test_hostile_names_render_as_text_and_run_nothing(tab: Browsing) -> None:
    page = tab.open("#/")
    link = page.locator(f"tr[data-op='{HOSTILE_OP}'] td:first-child a")
    assert link.inner_text() == HOSTILE_OP
    link.click()
    tab.wait("op")
    assert page.inner_text("h1") == HOSTILE_OP
    assert page.locator("#aliases .badge").all_text_contents() == [HOSTILE_ALIAS]
    page.goto(f"{tab.base}/ui/#/pipeline?name={quote(HOSTILE_PIPELINE, safe='')}")
    tab.wait("pipeline")
    assert page.inner_text("h1").startswith(HOSTILE_PIPELINE)
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("#injected, main img, main script").count() == 0


def test_keyboard_alone_reaches_an_op_and_the_lineage(tab: Browsing) -> None:
    page = tab.open("#/")
    page.keyboard.press("/")
    assert page.evaluate("() => document.activeElement.id") == "filter"
    page.keyboard.type("pca")
    page.keyboard.press("Enter")
    tab.wait("op")
    assert page.url.endswith("#/op?name=pca")
    page.keyboard.press("l")
    tab.wait("lineage")
    page.keyboard.press("g")
    tab.wait("ops")
    page.keyboard.press("Tab")  # a page change focuses the content: Tab reaches the filter
    assert page.evaluate("() => document.activeElement.id") == "filter"


def test_unknown_op_and_page_say_so(tab: Browsing) -> None:
    page = tab.open("#/op?name=nobody")
    assert "op 'nobody' has no registered versions" in page.inner_text("[role=alert]")
    tab.errors.clear()  # the browser logs the API's 404 as a console error
    page = tab.open("#/nowhere")
    assert "no page" in page.inner_text("[role=alert]")


def test_phone_width_has_no_sideways_scrolling(browser: object, served: object) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844},  # type: ignore[attr-defined]
                                  is_mobile=True, device_scale_factor=2)
    try:
        tab = Browsing(context.new_page(), served.url)  # type: ignore[attr-defined]
        for fragment in ("#/", "#/op?name=clf", "#/op?name=scaler"):
            page = tab.open(fragment)
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 390, (fragment, width)
        assert tab.errors == []
    finally:
        context.close()


def test_the_signer_of_each_versions_bytes_is_shown(
        browser: Any, served: Served, served_trusting: Served, registry: Fixture) -> None:
    """D15: the key id (or "unsigned"), and the server's verdict when it has trusted keys."""
    assert registry.pca is not None
    pca, clf = f"#/version?op=pca&v={quote(str(registry.pca))}", \
        f"#/version?op=clf&v={quote(str(registry.clf[-1]))}"
    expected = {
        (served.url, pca): (f"key {SIGNER.key_id}", "null"),
        (served.url, clf): ("unsigned", "null"),
        (served_trusting.url, pca): (f"key {SIGNER.key_id} trusted", "true"),
        (served_trusting.url, clf): ("unsigned not trusted", "false"),
    }
    for (base, fragment), (text, trusted) in expected.items():
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        tab = Browsing(context.new_page(), base)
        try:
            page = tab.open(fragment)
            tab.wait("version")
            assert " ".join(page.inner_text("#signed-by").split()) == text
            assert page.get_attribute("#signed-by", "data-trusted") == trusted
        finally:
            context.close()
        assert tab.errors == []
    tab = Browsing(browser.new_context().new_page(), served_trusting.url)
    page = tab.open("#/op?name=pca")
    tab.wait("op")
    assert f"key {SIGNER.key_id}" in page.inner_text(f"tr[data-version='{registry.pca}']")
