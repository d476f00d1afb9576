// Logs: every request, newest first, in a table that renders only the rows in view and reads
// further cursor pages as it scrolls. Filters are the admin API's own (the server filters),
// kept in the URL; a live tail reads what arrived since the newest row; a row opens its record.

import { api, query } from "../api.js";
import { h, put, fmt, notice } from "../dom.js";
import { VirtualTable } from "../table.js";

const PAGE = 200;
const FILTERS = [
  ["model", "Model"], ["provider", "Provider"], ["status", "Status (429, 5xx)"], ["key", "Key name"],
  ["workspace", "Workspace"], ["key_id", "Key id"], ["cache", "Cache (hit, miss, …)"], ["request_id", "Request id"],
];

const COLUMNS = [
  { key: "ts", title: "Time", width: "12.5em", render: (r) => fmt.time(r.ts_ms) },
  { key: "op", title: "API", width: "9em", render: (r) => r.operation },
  { key: "model", title: "Model", width: "minmax(8em, 1.4fr)", render: (r) => r.model || r.requested_model || "—" },
  { key: "provider", title: "Provider", width: "7em", render: (r) => r.provider || "—" },
  { key: "status", title: "Status", width: "5em", render: (r) => r.status, class: "num" },
  { key: "latency", title: "Latency", width: "6em", render: (r) => fmt.ms(r.latency_ms), class: "num" },
  { key: "tokens", title: "Tokens", width: "6em", render: (r) => fmt.int((r.input_tokens || 0) + (r.output_tokens || 0)), class: "num" },
  { key: "cost", title: "Cost", width: "6em", render: (r) => fmt.usd(r.cost_usd), class: "num" },
  { key: "cache", title: "Cache", width: "7em", render: (r) => r.cache || "—" },
  { key: "caller", title: "Key", width: "minmax(6em, 1fr)", render: (r) => r.caller || r.key_id || "—" },
];

let live = null;

export function leave() {
  if (live) clearInterval(live);
  live = null;
}

function section(title, ...body) {
  return h("section", { class: "detail-section" }, h("h3", {}, title), ...body);
}

function messagesOf(body) {
  try {
    const v = JSON.parse(body);
    return v.messages || (typeof v.input === "string" ? [{ role: "user", content: v.input }] : v.input) || null;
  } catch {
    return null;
  }
}

function text(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p) => p.text ?? (p.type ? `[${p.type}]` : "")).join("\n");
  return JSON.stringify(content);
}

/** "Save as prompt": the record's messages (and model) as a new prompt in its workspace, or
 *  the next version of one that exists. */
function saveAsPrompt(r, msgs) {
  const id = h("input", { id: "log-save-id", autocomplete: "off", placeholder: "prompt-id" });
  return h("form", { class: "filters", "aria-label": "Save as prompt", onsubmit: async (e) => {
    e.preventDefault();
    const ws = r.workspace || "default";
    const messages = msgs.filter((m) => ["system", "developer", "user", "assistant"].includes(m.role))
      .map((m) => ({ role: m.role, content: m.content }));
    const version = { messages, model: r.requested_model || undefined };
    try {
      const q = `?workspace=${encodeURIComponent(ws)}`;
      const exists = (await api(`/prompts${q}`)).data.some((p) => p.id === id.value.trim());
      const made = exists
        ? await api(`/prompts/${encodeURIComponent(id.value.trim())}/versions${q}`, { method: "POST", body: version })
        : await api("/prompts", { method: "POST", body: { id: id.value.trim(), workspace: ws, version } });
      notice(`Saved as prompt ${id.value.trim()}${made.version ? `, version ${made.version}` : ""}`);
    } catch (err) {
      notice(err.message, "error");
    }
  } }, h("label", { for: "log-save-id" }, "Save as prompt", id), h("button", { type: "submit", class: "secondary" }, "Save"));
}

async function detail(aside, row) {
  put(aside, h("p", {}, "Loading…"));
  aside.hidden = false;
  const r = await api(`/logs/${encodeURIComponent(row.id)}`);
  const msgs = r.request_body ? messagesOf(r.request_body) : null;
  const t0 = r.ts_ms;
  put(aside,
    h("div", { class: "detail-head" },
      h("h2", { id: "detail-title" }, `${r.operation} · ${r.status}`),
      r.operation === "chat.completions" ? h("a", { href: `#/playground?from=${encodeURIComponent(r.id)}` }, "Open in playground") : null,
      h("button", { type: "button", class: "link", onclick: () => { aside.hidden = true; } }, "Close")),
    msgs && Array.isArray(msgs) && r.operation === "chat.completions" ? saveAsPrompt(r, msgs) : null,
    h("dl", { class: "facts" },
      [["Request id", r.request_id], ["Time", fmt.time(r.ts_ms)], ["Model", `${r.provider || "—"} / ${r.model || r.requested_model || "—"}`],
        ["Route", r.route || "—"], ["Key", r.caller || r.key_id || "—"], ["Workspace", r.workspace || "—"],
        ["Latency", fmt.ms(r.latency_ms)], ["Time to first token", fmt.ms(r.ttft_ms)],
        ["Tokens in / out", `${fmt.int(r.input_tokens)} / ${fmt.int(r.output_tokens)}`], ["Cost", fmt.usd(r.cost_usd)],
        ["Cache", r.cache ? `${r.cache}${r.cache_similarity ? ` (similarity ${r.cache_similarity})` : ""}${r.cache_saved_usd ? `, saved ${fmt.usd(r.cache_saved_usd)}` : ""}` : "—"],
        ["Error", r.error || "—"]].map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    msgs ? section("Messages", h("ol", { class: "messages" }, msgs.map((m) =>
      h("li", {}, h("strong", {}, m.role || m.type || "item"), " ", h("pre", {}, text(m.content ?? m.output ?? m.arguments ?? "")),
        (m.tool_calls || []).map((c) => h("pre", { class: "tool" }, `→ ${c.function?.name}(${c.function?.arguments})`)))))) : null,
    section("Attempts", r.attempts.length ? h("ol", { class: "timeline" }, r.attempts.map((a) =>
      h("li", {}, `${a.provider}/${a.model}: ${a.outcome}${a.status ? ` (${a.status})` : ""}, ${fmt.ms(a.latency_ms)}`))) : h("p", {}, "None (answered by the gateway)")),
    r.guardrails ? section("Guardrail verdicts", h("ul", {}, r.guardrails.map((g) =>
      h("li", {}, `${g.policy} / ${g.check} (${g.stage}): ${g.fired ? `fired → ${g.action || "flag"}` : "passed"}`)))) : null,
    r.feedback?.length ? section("Feedback", h("ul", {}, r.feedback.map((f) => h("li", {}, `${f.score ?? ""} ${JSON.stringify(f.metadata)}`)))) : null,
    section("Raw record", h("pre", { class: "raw" }, JSON.stringify(r, null, 2))));
  aside.querySelector("h2").focus?.();
  void t0;
}

export async function show(main, params, { go }) {
  leave();
  const filter = Object.fromEntries(FILTERS.map(([k]) => [k, params.get(k) || ""]));
  const aside = h("aside", { class: "detail card", hidden: true, "aria-labelledby": "detail-title" });
  const count = h("p", { class: "muted", "aria-live": "polite" });
  let cursor = null;
  let loading = false;
  let done = false;
  const table = new VirtualTable({
    columns: COLUMNS,
    label: "Requests",
    onEnd: () => more(),
    onOpen: (row) => detail(aside, row).catch((e) => put(aside, h("p", { class: "notice error" }, e.message))),
  });
  async function more(first = false) {
    if (loading || (done && !first)) return;
    loading = true;
    try {
      const page = await api(`/logs${query({ ...filter, limit: PAGE, cursor: first ? "" : cursor })}`);
      cursor = page.next_cursor;
      done = !page.has_more;
      if (first) table.set(page.data);
      else table.append(page.data);
      put(count, `${fmt.int(table.rows.length)}${done ? "" : "+"} requests`);
    } finally {
      loading = false;
    }
  }
  const inputs = FILTERS.map(([k, label]) => h("label", { for: `f-${k}` }, label,
    h("input", { id: `f-${k}`, name: k, value: filter[k], autocomplete: "off" })));
  const form = h("form", { class: "filters", "aria-label": "Filters" }, inputs,
    h("button", { type: "submit" }, "Apply"),
    h("button", { type: "button", class: "secondary", onclick: () => go(new URLSearchParams()) }, "Clear"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    for (const [k] of FILTERS) {
      const v = form.elements[k].value.trim();
      if (v) p.set(k, v);
    }
    go(p);
  });
  const tail = h("input", { id: "tail", type: "checkbox" });
  tail.addEventListener("change", () => {
    if (live) clearInterval(live);
    live = null;
    if (!tail.checked) return;
    live = setInterval(async () => {
      const newest = table.rows[0];
      const page = await api(`/logs${query({ ...filter, limit: PAGE, from: newest ? newest.ts_ms : "" })}`);
      const seen = new Set(table.rows.slice(0, PAGE).map((r) => r.id));
      table.prepend(page.data.filter((r) => !seen.has(r.id)));
    }, 2000);
  });
  put(main,
    h("h1", {}, "Logs"),
    form,
    h("div", { class: "row" }, count, h("label", { for: "tail", class: "inline" }, tail, " Live tail")),
    h("div", { class: "split" }, table.el, aside));
  await more(true);
}
