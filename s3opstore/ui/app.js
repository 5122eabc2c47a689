// The read-only web UI: hash routes (#/op?name=...) so that every page has a stable URL
// that reloads, and one API read per page.
import { ApiError, call } from "./api.js";
import { badge, creationTime, h, href, link, shortVersion, size, when } from "./dom.js";
import { lineageGraph } from "./graph.js";

const main = document.getElementById("main");
let renderToken = 0;

function route() {
  const raw = window.location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?", 2);
  return { page: path || "", params: new URLSearchParams(query) };
}

function crumbs(...parts) {
  return h("nav", { class: "crumbs", "aria-label": "Breadcrumb" },
    link("", {}, "Ops"), ...parts.map((part) => (typeof part === "string" ? h("span", {}, part) : part)));
}

function table(headers, rows, { stack = true, label = "" } = {}) {
  return h("div", { class: "table" },
    h("table", { class: stack ? "stack" : "", "aria-label": label },
      h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", {}, rows)));
}

function cell(label, ...children) {
  return h("td", { "data-label": label }, ...children);
}

function problem(error) {
  const text = error instanceof ApiError ? `${error.message} [${error.type}]` : String(error);
  return h("div", { class: "notice bad", role: "alert" }, text);
}

function setTitle(text) {
  document.title = text ? `${text} · s3opstore` : "s3opstore";
}

function markNav(section) {
  for (const a of document.querySelectorAll("[data-nav]")) {
    if (a.dataset.nav === section) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

// -- ops ------------------------------------------------------------------------------
async function opsPage(params, show) {
  markNav("ops");
  setTitle("Ops");
  const data = await call("browse_ops");
  const filter = h("input", { class: "filter", type: "search", id: "filter",
                              placeholder: "Filter ops by name  ( / )", "aria-label": "Filter ops by name",
                              autocomplete: "off", spellcheck: "false" });
  filter.value = params.get("q") || "";
  const count = h("p", { class: "muted small", id: "op-count", "aria-live": "polite" });
  const rows = data.ops.map((op) => h("tr", { "data-op": op.op_name },
    cell("Op", link("op", { name: op.op_name }, op.op_name)),
    cell("Latest", op.latest ? link("version", { op: op.op_name, v: op.latest.version },
                                    op.latest.number) : h("span", { class: "muted" }, "none")),
    cell("Versions", h("span", { class: "num" }, String(op.version_count))),
    cell("Registered", op.latest ? when(op.latest.registered_at) : ""),
    cell("Aliases", op.aliases.map((alias) => badge(alias)))));
  const apply = () => {
    const wanted = filter.value.trim().toLowerCase();
    let shown = 0;
    for (const tr of rows) {
      const hit = tr.dataset.op.toLowerCase().includes(wanted);
      tr.classList.toggle("hidden", !hit);
      if (hit) shown += 1;
    }
    count.textContent = wanted ? `${shown} of ${rows.length} ops match` : `${rows.length} ops`;
    const target = href("", { q: filter.value.trim() });
    if (window.location.hash !== target) history.replaceState(null, "", target);
  };
  filter.addEventListener("input", apply);
  filter.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      const first = rows.find((tr) => !tr.classList.contains("hidden"));
      if (first) first.querySelector("a").click();
    }
  });
  const pipelines = data.pipelines.length
    ? h("ul", { class: "plain", id: "pipelines" }, data.pipelines.map((p) => h("li", { "data-pipeline": p.pipeline_name },
        link("pipeline", { name: p.pipeline_name }, p.pipeline_name),
        h("div", { class: "muted small" }, "last op ", link("op", { name: p.last_op_name }, p.last_op_name)))))
    : h("p", { class: "muted" }, "No pipelines registered.");
  show(
    h("h1", {}, "Ops"),
    h("div", { class: "grid" },
      h("section", { "aria-label": "Ops" }, filter, count,
        data.ops.length ? table(["Op", "Latest", "Versions", "Registered", "Aliases"], rows, { label: "Ops" })
                        : h("p", { class: "muted" }, "The registry has no ops yet.")),
      h("aside", { class: "panel", "aria-label": "Pipelines" }, h("h2", {}, "Pipelines"), pipelines,
        h("p", { class: "small" }, link("lineage", {}, "Lineage of all ops →")))));
  apply();
  if (params.has("q")) filter.focus();
}

// -- one op ---------------------------------------------------------------------------
function pager(name, data) {
  const prev = data.page > 1;
  const next = data.page < data.pages;
  return h("nav", { class: "pager", "aria-label": "Pages of versions" },
    prev ? link("op", { name, page: data.page - 1 }, "← Newer") : h("span", { class: "btn", "aria-hidden": "true" }, "← Newer"),
    h("span", { class: "muted small" }, `page ${data.page} of ${data.pages} · ${data.total} versions`),
    next ? link("op", { name, page: data.page + 1 }, "Older →") : h("span", { class: "btn", "aria-hidden": "true" }, "Older →"));
}

// Who signed a version's bytes (design.md D15): the key id or "unsigned", and whether the
// server trusts that signature when it is configured with trusted keys.
function signer(bytes, id) {
  const who = bytes.signed_by ? h("span", { class: "mono" }, `key ${bytes.signed_by}`) : h("span", { class: "muted" }, "unsigned");
  const verdict = bytes.trusted === true ? h("span", { class: "badge" }, "trusted")
    : bytes.trusted === false ? h("span", { class: "badge warn" }, "not trusted") : [];
  return h("span", id ? { id, "data-trusted": String(bytes.trusted) } : { "data-trusted": String(bytes.trusted) }, who, " ", verdict);
}

async function opPage(params, show) {
  markNav("ops");
  const name = params.get("name") || "";
  setTitle(name);
  const page = Math.max(1, Number.parseInt(params.get("page") || "1", 10) || 1);
  const data = await call("browse_op", { op_name: name, page, per_page: 50 });
  const rows = data.versions.map((row) => h("tr", { "data-version": row.info.version },
    cell("Number", link("version", { op: name, v: row.info.version }, row.info.number)),
    cell("Version", h("span", { class: "mono", title: row.info.version }, shortVersion(row.info.version)),
         h("div", { class: "muted small" }, creationTime(row.info.version))),
    cell("Registered", when(row.info.registered_at), h("div", { class: "muted small" }, row.info.registered_host)),
    cell("Bytes", row.bytes ? [h("span", { class: "mono", title: row.bytes.sha256 }, row.bytes.sha256.slice(0, 12)),
                                 h("div", { class: "muted small" }, size(row.bytes.size)),
                                 h("div", { class: "small" }, signer(row.bytes))]
                            : h("span", { class: "muted" }, "not saved")),
    cell("Aliases", row.aliases.map((alias) => badge(alias)))));
  const aliases = data.aliases.length
    ? h("ul", { class: "plain", id: "aliases" }, data.aliases.map((alias) => h("li", { "data-alias": alias.alias },
        badge(alias.alias), " → ",
        link("version", { op: name, v: alias.version }, alias.number || shortVersion(alias.version)),
        h("details", {}, h("summary", { class: "small muted" }, `history (${alias.history.length})`),
          h("ol", { class: "small", reversed: true }, alias.history.map((entry) => h("li", {},
            link("version", { op: name, v: entry.version }, entry.number || shortVersion(entry.version)),
            h("span", { class: "muted" }, ` · ${when(entry.registered_at)}`))))))))
    : h("p", { class: "muted" }, "No aliases.");
  show(
    crumbs(h("span", {}, name)),
    h("h1", {}, name),
    h("div", { class: "grid" },
      h("section", { "aria-label": "Versions" },
        pager(name, data),
        table(["Number", "Version", "Registered", "Bytes", "Aliases"], rows, { label: "Versions" }),
        pager(name, data)),
      h("aside", {},
        h("div", { class: "panel" }, h("h2", {}, "Aliases"), aliases),
        h("p", { class: "small" }, link("lineage", { op: name }, "Lineage of this op →")))));
}

// -- one version ----------------------------------------------------------------------
async function versionPage(params, show) {
  markNav("ops");
  const op = params.get("op") || "";
  const version = params.get("v") || "";
  const data = await call("browse_version", { op_name: op, version });
  const info = data.info;
  setTitle(`${op} ${info.number}`);
  const fact = (term, ...value) => [h("dt", {}, term), h("dd", {}, ...value)];
  const upstream = data.upstream.length
    ? h("ul", { class: "plain", id: "upstream" }, data.upstream.map((up) => h("li", { "data-op": up.op_name },
        link("op", { name: up.op_name }, up.op_name), ": ",
        up.versions.length ? up.versions.map((v) => [link("version", { op: up.op_name, v: v.version }, v.number), " "])
                           : h("span", { class: "muted" }, "no listed version"))))
    : h("p", { class: "muted" }, "No upstream op is validated as this op's input.");
  const downstream = data.downstream.length
    ? h("ul", { class: "plain", id: "downstream" }, data.downstream.map((d) => h("li", { "data-op": d },
        link("op", { name: d }, d))))
    : h("p", { class: "muted" }, "No downstream op validated this version.");
  show(
    crumbs(link("op", { name: op }, op), h("span", {}, info.number)),
    h("h1", {}, `${op} `, h("span", { class: "muted" }, info.number)),
    h("div", { class: "grid" },
      h("section", {},
        h("div", { class: "panel" },
          h("dl", { class: "facts", id: "facts" },
            fact("Version", h("span", { class: "mono wrap", id: "version-string" }, info.version)),
            fact("Number", info.number),
            fact("Order", `#${info.seq + 1} registered`),
            fact("Created", creationTime(info.version)),
            fact("Registered", when(info.registered_at)),
            fact("By", `${info.registered_host} (pid ${info.registered_pid})`),
            fact("Bytes", data.bytes ? h("span", { class: "mono wrap" }, `sha256:${data.bytes.sha256}`) : h("span", { class: "muted" }, "not saved")),
            data.bytes ? fact("Size", `${size(data.bytes.size)} (${data.bytes.size} bytes)`) : [],
            data.bytes ? fact("Signed by", signer(data.bytes, "signed-by")) : [],
            fact("Aliases", data.aliases.length ? data.aliases.map((a) => badge(a)) : h("span", { class: "muted" }, "none")))),
        h("h2", {}, "Pull its bytes"),
        data.bytes ? h("pre", { class: "cmd", id: "pull" }, data.pull_command)
                   : h("p", { class: "muted" }, "No bytes were saved for this version.")),
      h("aside", {},
        h("div", { class: "panel" }, h("h2", {}, "Upstream"), upstream),
        h("div", { class: "panel" }, h("h2", {}, "Validated by downstream"), downstream),
        h("p", { class: "small" }, link("lineage", { op }, "Lineage of this op →")))));
}

// -- lineage and pipelines ------------------------------------------------------------
function edgeTable(graph) {
  if (!graph.edges.length) return h("p", { class: "muted" }, "No validated links.");
  return table(["Upstream", "Downstream", "Validated versions"], graph.edges.map((e) => h("tr", {},
    cell("Upstream", link("op", { name: e.upstream }, e.upstream)),
    cell("Downstream", link("op", { name: e.downstream }, e.downstream)),
    cell("Validated versions", `${e.numbers.join(", ")}${e.version_count > e.numbers.length ? " …" : ""}`))),
    { label: "Links" });
}

async function lineagePage(params, show) {
  markNav("lineage");
  const op = params.get("op");
  setTitle(op ? `Lineage of ${op}` : "Lineage");
  const graph = await call("lineage", op ? { op_name: op } : {});
  show(
    op ? crumbs(link("op", { name: op }, op), h("span", {}, "lineage")) : [],
    h("h1", {}, op ? `Lineage of ${op}` : "Lineage"),
    h("p", { class: "muted" }, op ? "The ops upstream and downstream of it; each arrow carries the upstream versions validated for the downstream op."
                                  : "Every op; each arrow carries the upstream versions validated for the downstream op."),
    lineageGraph(graph, { focus: op }),
    h("h2", {}, "Links"),
    edgeTable(graph),
    op ? h("p", { class: "small" }, link("lineage", {}, "Whole lineage →")) : []);
}

async function pipelinePage(params, show) {
  markNav("ops");
  const name = params.get("name") || "";
  setTitle(`Pipeline ${name}`);
  const [resolved, graph] = await Promise.all([
    call("browse_pipeline", { pipeline_name: name }),
    call("lineage", { pipeline_name: name })]);
  const status = resolved.ok
    ? h("div", { class: "notice ok", id: "resolve-status" }, `resolve would load ${resolved.ops.length} op${resolved.ops.length === 1 ? "" : "s"}.`)
    : h("div", { class: "notice bad", id: "resolve-status", role: "alert" },
        h("strong", {}, "resolve would fail: "),
        h("ul", { id: "missing" }, resolved.missing.map((m) => h("li", {}, m.reason))));
  const rows = resolved.ops.map((o) => h("tr", { "data-op": o.op_name },
    cell("Op", link("op", { name: o.op_name }, o.op_name)),
    cell("Would load", link("version", { op: o.op_name, v: o.version }, o.number), " ",
         o.is_latest ? badge("latest", "ok") : badge("not latest", "plain")),
    cell("Version", h("span", { class: "mono", title: o.version }, shortVersion(o.version))),
    cell("Feeds", o.downstream.length ? o.downstream.map((d) => [link("op", { name: d }, d), " "]) : h("span", { class: "muted" }, "(last op)"))));
  show(
    crumbs(h("span", {}, "pipeline"), h("span", {}, name)),
    h("h1", {}, name, " ", badge("pipeline", "plain")),
    h("p", { class: "muted" }, "Last op ", link("op", { name: resolved.last_op_name }, resolved.last_op_name)),
    status,
    rows.length ? table(["Op", "Would load", "Version", "Feeds"], rows, { label: "Resolution" }) : [],
    h("h2", {}, "Lineage"),
    lineageGraph(graph, { focus: resolved.last_op_name, missing: resolved.missing }));
}

// -- router ---------------------------------------------------------------------------
const PAGES = { "": opsPage, op: opPage, version: versionPage, lineage: lineagePage, pipeline: pipelinePage };

async function render() {
  const token = ++renderToken;
  const { page, params } = route();
  const handler = PAGES[page];
  document.body.dataset.page = "loading";
  try {
    if (!handler) throw new ApiError(404, "not_found", `no page ${JSON.stringify(page)}`);
    await handler(params, (...nodes) => {
      if (token === renderToken) main.replaceChildren(...nodes);
    });
  } catch (error) {
    if (token !== renderToken) return;
    setTitle("Error");
    main.replaceChildren(h("h1", {}, "Something is missing"), problem(error), h("p", {}, link("", {}, "← All ops")));
  }
  if (token !== renderToken) return;
  document.body.dataset.page = page || "ops";
  performance.mark("s3opstore:drawn");  // benchmarks/ui_pages.py reads it
  if (document.activeElement === document.body || !main.contains(document.activeElement)) {
    main.focus({ preventScroll: true });
  }
}

document.addEventListener("keydown", (event) => {
  const typing = event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (typing) {
    if (event.key === "Escape") event.target.blur();
    return;
  }
  if (event.key === "/") {
    const filter = document.getElementById("filter");
    event.preventDefault();
    if (filter) filter.focus();
    else window.location.hash = href("", { q: "" });
  } else if (event.key === "g") {
    window.location.hash = "#/";
  } else if (event.key === "l") {
    window.location.hash = "#/lineage";
  }
});

window.addEventListener("hashchange", () => { window.scrollTo(0, 0); render(); });
render();
