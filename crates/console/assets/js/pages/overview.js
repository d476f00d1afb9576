// Overview: requests, cost, tokens, errors, latency and time to first token over a range, by
// model, provider, workspace or key, from /admin/v1/analytics (the server does the counting).

import { api, query } from "../api.js";
import { h, put, fmt } from "../dom.js";
import { lineChart } from "../chart.js";

const RANGES = { "1h": [3600e3, "1m"], "24h": [86400e3, "1h"], "7d": [7 * 86400e3, "6h"], "30d": [30 * 86400e3, "1d"] };
const GROUPS = { "": "Everything", model: "Model", provider: "Provider", workspace: "Workspace", key: "Key" };

function select(id, label, options, value, onchange) {
  return h("label", { for: id }, label,
    h("select", { id, onchange: (ev) => onchange(ev.target.value) },
      Object.entries(options).map(([v, t]) => h("option", { value: v, selected: v === value }, t))));
}

/** One series per group: [start, f(bucket)]. */
function series(data, f) {
  const groups = new Map();
  for (const b of data) {
    const k = b.key ?? "";
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push([b.start_ms, f(b)]);
  }
  return [...groups].slice(0, 8).map(([name, points]) => ({ name: name || "all", points: points.sort((a, b) => a[0] - b[0]) }));
}

export async function show(main, params, { go }) {
  const range = RANGES[params.get("range")] ? params.get("range") : "24h";
  const group = GROUPS[params.get("group_by") || ""] !== undefined ? params.get("group_by") || "" : "";
  const [span, bucket] = RANGES[range];
  const from = Date.now() - span;
  const set = (k, v) => { const p = new URLSearchParams(params); if (v) p.set(k, v); else p.delete(k); go(p); };
  put(main,
    h("h1", {}, "Overview"),
    h("form", { class: "filters", "aria-label": "Range and grouping", onsubmit: (e) => e.preventDefault() },
      select("range", "Range", Object.fromEntries(Object.keys(RANGES).map((r) => [r, `Last ${r}`])), range, (v) => set("range", v)),
      select("group_by", "Group by", GROUPS, group, (v) => set("group_by", v))),
    h("p", { class: "loading" }, "Loading…"));
  // One read gives the cards (totals), the charts (data) and the table (groups).
  const over = await api(`/analytics${query({ from, bucket, group_by: group, totals: "true" })}`);
  const t = over.totals || {};
  const cards = [
    ["Requests", fmt.int(t.requests)], ["Cost", fmt.usd(t.cost_usd)],
    ["Tokens", fmt.int((t.input_tokens || 0) + (t.output_tokens || 0))], ["Error rate", fmt.pct(t.error_rate)],
    ["p50 latency", fmt.ms(t.latency_ms?.p50)], ["p95 latency", fmt.ms(t.latency_ms?.p95)],
    ["p50 TTFT", fmt.ms(t.ttft_ms?.p50)], ["Cache hit rate", fmt.pct(t.cache_hit_rate)],
  ];
  const d = over.data;
  const charts = [
    ["Requests", series(d, (b) => b.requests), fmt.int],
    ["Cost (USD)", series(d, (b) => b.cost_usd), fmt.usd],
    ["Tokens (input + output)", series(d, (b) => b.input_tokens + b.output_tokens), fmt.int],
    ["Error rate", series(d, (b) => b.error_rate), fmt.pct],
    ["Latency p50", series(d, (b) => b.latency_ms.p50), fmt.ms],
    ["Latency p95", series(d, (b) => b.latency_ms.p95), fmt.ms],
    ["Time to first token p50", series(d, (b) => b.ttft_ms.p50), fmt.ms],
    ["Time to first token p95", series(d, (b) => b.ttft_ms.p95), fmt.ms],
  ];
  const byGroup = (over.groups || []).sort((a, b) => b.requests - a.requests);
  put(main,
    h("h1", {}, "Overview"),
    main.querySelector("form"),
    h("section", { class: "cards", "aria-label": "Totals" },
      cards.map(([k, v]) => h("div", { class: "card stat" }, h("div", { class: "stat-label" }, k), h("div", { class: "stat-value" }, v)))),
    over.truncated ? h("p", { class: "notice warn" }, "More records than one read covers: narrow the range.") : null,
    h("section", { class: "charts", "aria-label": "Over time" },
      charts.map(([title, s, f]) => h("figure", { class: "card" }, h("figcaption", {}, title), lineChart({ title, series: s, format: f })))),
    byGroup.length ? h("section", { "aria-label": `By ${GROUPS[group].toLowerCase()}` },
      h("h2", {}, `By ${GROUPS[group].toLowerCase()}`),
      h("table", { class: "grid-table" },
        h("thead", {}, h("tr", {}, ["", "Requests", "Errors", "Cost", "Tokens", "p50", "p95", "Cache hits"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, byGroup.map((g) => h("tr", {},
          h("th", { scope: "row" }, g.key ?? "(none)"), h("td", {}, fmt.int(g.requests)), h("td", {}, fmt.pct(g.error_rate)),
          h("td", {}, fmt.usd(g.cost_usd)), h("td", {}, fmt.int(g.input_tokens + g.output_tokens)),
          h("td", {}, fmt.ms(g.latency_ms.p50)), h("td", {}, fmt.ms(g.latency_ms.p95)), h("td", {}, fmt.pct(g.cache_hit_rate))))))) : null);
}
