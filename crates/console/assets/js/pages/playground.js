// The playground: one prompt, two to four models answering side by side as their streams
// arrive, each column with its time to first token, total time, tokens and cost. Requests go
// through the whole gateway (POST /admin/v1/playground/chat) on the admin's behalf, so routes,
// limits, guardrails and the cache apply and each one is in the log; the cost shown is the
// log record's. "Open in playground" on a log record fills the prompt from it.

import { api, token } from "../api.js";
import { h, put, fmt, notice } from "../dom.js";

const DEFAULT_MODELS = ["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku-latest"];

/** Reads an SSE body, calling `onData` with each event's parsed `data` JSON. */
async function readEvents(resp, onData) {
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let at;
    while ((at = buf.search(/\r?\n\r?\n/)) >= 0) {
      const event = buf.slice(0, at);
      buf = buf.slice(at).replace(/^\r?\n\r?\n/, "");
      const data = event.split(/\r?\n/).filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n");
      if (data && data !== "[DONE]") {
        try {
          onData(JSON.parse(data));
        } catch {
          // Not JSON: not a chat chunk.
        }
      }
    }
  }
}

/** The record of `requestId`, once the log has written it (it writes in batches). */
async function recordOf(requestId) {
  for (let i = 0; i < 20; i++) {
    const page = await api(`/logs?request_id=${encodeURIComponent(requestId)}&limit=1`);
    if (page.data.length) return page.data[0];
    await new Promise((r) => setTimeout(r, 150));
  }
  return null;
}

async function runColumn(col, { model, messages, workspace }) {
  const out = col.querySelector(".pg-out");
  const stats = col.querySelector(".pg-stats");
  put(out);
  put(stats, "Waiting…");
  col.dataset.state = "running";
  const t0 = performance.now();
  let first = null;
  let usage = null;
  const resp = await fetch(`/admin/v1/playground/chat?workspace=${encodeURIComponent(workspace)}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token()}`, "content-type": "application/json" },
    body: JSON.stringify({ model, messages, stream: true, stream_options: { include_usage: true } }),
  });
  if (!resp.ok) {
    let msg = `${resp.status}`;
    try {
      msg = (await resp.json()).error.message;
    } catch {
      // Not JSON.
    }
    put(stats, h("span", { class: "down" }, msg));
    col.dataset.state = "error";
    return;
  }
  const text = document.createTextNode("");
  out.append(text);
  await readEvents(resp, (chunk) => {
    const piece = chunk.choices?.[0]?.delta?.content;
    if (piece) {
      if (first === null) first = performance.now() - t0;
      text.appendData(piece);
    }
    if (chunk.usage) usage = chunk.usage;
  });
  const total = performance.now() - t0;
  const cache = resp.headers.get("x-switchyard-cache");
  const line = () => [
    `TTFT ${fmt.ms(first)}`, `total ${fmt.ms(total)}`,
    usage ? `${fmt.int(usage.prompt_tokens)} in / ${fmt.int(usage.completion_tokens)} out` : null,
    cache && cache !== "miss" ? `cache ${cache}` : null,
  ].filter(Boolean).join(" · ");
  put(stats, line());
  col.dataset.state = "done";
  const id = resp.headers.get("x-request-id");
  const rec = id ? await recordOf(id) : null;
  if (rec) put(stats, `${line()} · ${rec.unpriced ? "unpriced (no catalog price)" : fmt.usd(rec.cost_usd)}`);
}

export async function show(main, params, { me }) {
  const [models, workspaces] = await Promise.all([
    me.org_admin ? api("/models").then((m) => m.data.map((x) => x.id)).catch(() => []) : Promise.resolve([]),
    api("/workspaces").then((w) => w.data).catch(() => []),
  ]);
  const usable = workspaces.filter((w) => me.org_admin || ["member", "admin"].includes(me.workspaces[w.id]));
  let prompt = "Explain what an AI gateway does in two sentences.";
  let system = "";
  let chosen = [...DEFAULT_MODELS];
  const from = params.get("from");
  if (from) {
    const r = await api(`/logs/${encodeURIComponent(from)}`);
    try {
      const body = JSON.parse(r.request_body || "{}");
      const msgs = body.messages || [];
      system = msgs.find((m) => m.role === "system")?.content || "";
      const users = msgs.filter((m) => m.role === "user");
      const last = users[users.length - 1];
      if (last) prompt = typeof last.content === "string" ? last.content : JSON.stringify(last.content);
    } catch {
      notice("The record has no request body (server.log.bodies is off).", "warn");
    }
    chosen = [r.requested_model || r.model, ...DEFAULT_MODELS].filter(Boolean).slice(0, 2);
  }
  const fromPrompt = params.get("prompt");
  if (fromPrompt) {
    // "Open in playground" from a prompt: its version's messages as they are written.
    try {
      const v = await api(`/prompts/${encodeURIComponent(fromPrompt)}/versions/${encodeURIComponent(params.get("version") || "1")}?workspace=${encodeURIComponent(params.get("workspace") || "default")}`);
      const text = (m) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content));
      system = v.messages.filter((m) => m.role === "system").map(text).join("\n");
      prompt = v.messages.filter((m) => m.role === "user").map(text).join("\n") || prompt;
      if (v.model) chosen = [v.model, ...DEFAULT_MODELS].slice(0, 2);
    } catch (err) {
      notice(err.message, "error");
    }
  }
  const list = h("datalist", { id: "pg-models" }, models.map((m) => h("option", { value: m })));
  const ws = h("select", { id: "pg-ws" }, usable.map((w) => h("option", { value: w.id }, w.name)));
  const sys = h("input", { id: "pg-system", value: system, autocomplete: "off" });
  const text = h("textarea", { id: "pg-prompt", rows: "4" }, prompt);
  const columns = h("div", { class: "pg-columns" });
  const modelInputs = [];
  const addColumn = (model) => {
    if (modelInputs.length >= 4) return;
    const i = modelInputs.length + 1;
    const input = h("input", { id: `pg-model-${i}`, list: "pg-models", value: model, autocomplete: "off" });
    modelInputs.push(input);
    columns.append(h("section", { class: "card pg-col", "aria-label": `Model ${i}` },
      h("label", { for: `pg-model-${i}` }, `Model ${i}`, input),
      h("p", { class: "pg-stats muted", "aria-live": "polite" }),
      h("pre", { class: "pg-out" })));
  };
  chosen.forEach(addColumn);
  const form = h("form", { class: "card", "aria-label": "Ask the models", onsubmit: async (e) => {
    e.preventDefault();
    const messages = [];
    if (sys.value.trim()) messages.push({ role: "system", content: sys.value });
    messages.push({ role: "user", content: text.value });
    const cols = [...columns.children];
    await Promise.all(cols.map((col, i) => runColumn(col, { model: modelInputs[i].value.trim(), messages, workspace: ws.value })
      .catch((err) => { put(col.querySelector(".pg-stats"), err.message); col.dataset.state = "error"; })));
  } },
  h("div", { class: "filters" }, h("label", { for: "pg-ws" }, "Workspace", ws), h("label", { for: "pg-system" }, "System prompt", sys)),
  h("label", { for: "pg-prompt" }, "Prompt", text),
  h("div", { class: "filters" },
    h("button", { type: "submit" }, "Run"),
    h("button", { type: "button", class: "secondary", onclick: () => addColumn("") }, "Add a model")));
  // "Save as prompt": the system and user text (and the first model) as a new prompt, or as
  // the next version of one that exists.
  const saveId = h("input", { id: "pg-save-id", autocomplete: "off", placeholder: "my-prompt" });
  const save = h("form", { class: "filters", "aria-label": "Save as prompt", onsubmit: async (e) => {
    e.preventDefault();
    const id = saveId.value.trim();
    const messages = [];
    if (sys.value.trim()) messages.push({ role: "system", content: sys.value });
    messages.push({ role: "user", content: text.value });
    const version = { messages, model: modelInputs[0]?.value.trim() || undefined };
    const q = `?workspace=${encodeURIComponent(ws.value)}`;
    try {
      let n = 1;
      const exists = (await api(`/prompts${q}`)).data.some((p) => p.id === id);
      if (exists) {
        n = (await api(`/prompts/${encodeURIComponent(id)}/versions${q}`, { method: "POST", body: version })).version;
      } else {
        await api("/prompts", { method: "POST", body: { id, workspace: ws.value, version } });
      }
      notice(`Saved as prompt ${id}, version ${n}`);
    } catch (err) {
      notice(err.message, "error");
    }
  } }, h("label", { for: "pg-save-id" }, "Prompt id", saveId), h("button", { type: "submit", class: "secondary" }, "Save as prompt"));
  put(main, h("h1", {}, "Playground"), list, form, save, columns);
}
