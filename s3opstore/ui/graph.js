// The lineage graph as SVG: ops in columns from upstream (left) to downstream (right),
// each link an arrow labelled with the upstream versions validated for it.
import { h, href, s } from "./dom.js";

const NODE_W = 190;
const NODE_H = 46;
const COL_GAP = 120;
const ROW_GAP = 26;
const PAD = 24;

function clip(text, max) {
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

/** Column of each op: the longest chain of links reaching it (cycles cut). */
function layers(names, edges) {
  const layer = new Map(names.map((name) => [name, 0]));
  for (let round = 0; round < names.length; round += 1) {
    let moved = false;
    for (const edge of edges) {
      const wanted = layer.get(edge.upstream) + 1;
      if (wanted > layer.get(edge.downstream) && wanted < names.length) {
        layer.set(edge.downstream, wanted);
        moved = true;
      }
    }
    if (!moved) break;
  }
  return layer;
}

function edgeLabel(edge) {
  if (edge.version_count === 0) return "no version";
  const shown = edge.numbers.slice(-3).join(", ");
  return edge.version_count > 3 ? `${edge.version_count} versions · … ${shown}` : shown;
}

export function lineageGraph(graph, { focus = null, missing = [] } = {}) {
  const names = graph.nodes.map((node) => node.op_name);
  if (names.length === 0) return h("p", { class: "muted" }, "No ops to draw.");
  const layer = layers(names, graph.edges);
  const columns = [];
  for (const name of names) {
    const index = layer.get(name);
    (columns[index] ||= []).push(name);
  }
  for (let i = columns.length - 1; i >= 0; i -= 1) if (!columns[i]) columns.splice(i, 1);
  // order each column by the mean row of its upstreams (one sweep), then by name
  const row = new Map();
  columns.forEach((column, index) => {
    if (index > 0) {
      const mean = (name) => {
        const ups = graph.edges.filter((e) => e.downstream === name && row.has(e.upstream));
        return ups.length ? ups.reduce((sum, e) => sum + row.get(e.upstream), 0) / ups.length : 1e9;
      };
      column.sort((a, b) => mean(a) - mean(b) || (a < b ? -1 : a > b ? 1 : 0));
    }
    column.forEach((name, position) => row.set(name, position));
  });
  const tallest = Math.max(...columns.map((column) => column.length));
  const width = PAD * 2 + columns.length * NODE_W + (columns.length - 1) * COL_GAP;
  const height = PAD * 2 + tallest * NODE_H + (tallest - 1) * ROW_GAP;
  const place = new Map();
  columns.forEach((column, index) => {
    const offset = ((tallest - column.length) * (NODE_H + ROW_GAP)) / 2;
    column.forEach((name, position) => {
      place.set(name, { x: PAD + index * (NODE_W + COL_GAP),
                        y: PAD + offset + position * (NODE_H + ROW_GAP) });
    });
  });
  const byName = new Map(graph.nodes.map((node) => [node.op_name, node]));
  const broken = new Set(missing.map((m) => m.upstream));

  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "group",
                         "aria-label": `Lineage graph: ${names.length} ops, ${graph.edges.length} links` },
    s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5,
                                markerWidth: 8, markerHeight: 8, orient: "auto-start-reverse" },
      s("path", { d: "M 0 0 L 10 5 L 0 10 z" }))));

  for (const edge of graph.edges) {
    const from = place.get(edge.upstream);
    const to = place.get(edge.downstream);
    if (!from || !to) continue;
    const x1 = from.x + NODE_W;
    const y1 = from.y + NODE_H / 2;
    const x2 = to.x;
    const y2 = to.y + NODE_H / 2;
    const back = x2 <= x1;
    const bend = back ? 80 : Math.max(40, (x2 - x1) / 2);
    const d = back
      ? `M ${x1} ${y1} C ${x1 + bend} ${y1 - 90}, ${x2 - bend} ${y2 - 90}, ${x2} ${y2}`
      : `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`;
    const label = edgeLabel(edge);
    const mx = (x1 + x2) / 2;
    const my = (y1 + y2) / 2 - (back ? 68 : 0);
    const labelW = Math.min(COL_GAP + 40, label.length * 6.4 + 10);
    svg.append(s("g", { class: "edge", "data-edge": `${edge.upstream}\u2192${edge.downstream}`,
                        "data-numbers": edge.numbers.join(" ") },
      s("title", { text: `${edge.upstream} → ${edge.downstream}: ${edge.version_count} validated version(s) ${edge.numbers.join(", ")}` }),
      s("path", { d, "marker-end": "url(#arrow)" }),
      s("rect", { x: mx - labelW / 2, y: my - 9, width: labelW, height: 16, rx: 4 }),
      s("text", { x: mx, y: my + 3, "text-anchor": "middle", text: clip(label, 26) })));
  }
  for (const name of names) {
    const at = place.get(name);
    const node = byName.get(name);
    const classes = ["node", name === focus ? "focus" : "", broken.has(name) ? "missing" : ""];
    const sub = node.latest_number
      ? `latest ${node.latest_number} · ${node.version_count} version${node.version_count === 1 ? "" : "s"}`
      : "no versions";
    svg.append(s("a", { class: classes.join(" ").trim(), href: href("op", { name }),
                        "data-op": name, "aria-label": `op ${name}, ${sub}` },
      s("title", { text: name }),
      s("rect", { x: at.x, y: at.y, width: NODE_W, height: NODE_H, rx: 8 }),
      s("text", { x: at.x + 12, y: at.y + 19, text: clip(name, 24) }),
      s("text", { class: "sub", x: at.x + 12, y: at.y + 36, text: sub })));
  }
  return h("div", { class: "graph" }, svg);
}
