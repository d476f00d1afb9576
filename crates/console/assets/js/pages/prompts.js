// Prompts: the workspace's prompts; one prompt's editor (a new version from the messages,
// model, parameters and variables), a live render as variables are typed (the server fills
// the template: POST /prompts/{id}/render), the version history with diffs, label moves, and
// "Open in playground".

import { api, query } from "../api.js";
import { h, put, fmt, notice } from "../dom.js";

const ROLES = ["system", "developer", "user", "assistant"];

function workspaceSelect(workspaces, ws, onChange) {
  return h("label", { for: "pr-ws" }, "Workspace",
    h("select", { id: "pr-ws", onchange: (e) => onChange(e.target.value) },
      workspaces.map((w) => h("option", { value: w.id, selected: w.id === ws }, w.name))));
}

function jsonOr(text, fallback) {
  if (!text.trim()) return fallback;
  return JSON.parse(text);
}

/** The list, and a form for a new prompt. */
async function list(main, ws, workspaces, go) {
  const prompts = (await api(`/prompts${query({ workspace: ws })}`)).data;
  const id = h("input", { id: "pr-new-id", required: true, autocomplete: "off", placeholder: "support-answer" });
  const system = h("textarea", { id: "pr-new-system", rows: "2" }, "You are the support agent of {{company}}.");
  const user = h("textarea", { id: "pr-new-user", rows: "2" }, "{{question}}");
  const model = h("input", { id: "pr-new-model", autocomplete: "off", value: "openai/gpt-4o-mini" });
  const form = h("form", { class: "card", "aria-label": "New prompt", onsubmit: async (e) => {
    e.preventDefault();
    const messages = [];
    if (system.value.trim()) messages.push({ role: "system", content: system.value });
    messages.push({ role: "user", content: user.value });
    try {
      await api("/prompts", { method: "POST", body: { id: id.value.trim(), workspace: ws, version: { messages, model: model.value.trim() || undefined } } });
      go(new URLSearchParams({ workspace: ws, id: id.value.trim() }));
    } catch (err) {
      notice(err.message, "error");
    }
  } },
  h("h2", {}, "New prompt"),
  h("label", { for: "pr-new-id" }, "Id", id),
  h("label", { for: "pr-new-system" }, "System message", system),
  h("label", { for: "pr-new-user" }, "User message", user),
  h("label", { for: "pr-new-model" }, "Model", model),
  h("button", { type: "submit" }, "Create prompt"));
  put(main,
    h("h1", {}, "Prompts"),
    h("form", { class: "filters", "aria-label": "Workspace", onsubmit: (e) => e.preventDefault() },
      workspaceSelect(workspaces, ws, (w) => go(new URLSearchParams({ workspace: w })))),
    prompts.length ? h("table", { class: "grid-table left", "aria-label": "Prompts" },
      h("thead", {}, h("tr", {}, ["Prompt", "Description", "Latest", "Labels", "Updated"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, prompts.map((p) => h("tr", {},
        h("th", { scope: "row" }, h("a", { href: `#/prompts${query({ workspace: ws, id: p.id })}` }, p.id)),
        h("td", {}, p.description || ""), h("td", {}, String(p.latest)),
        h("td", {}, Object.entries(p.labels).map(([l, n]) => `${l} → ${n}`).join(", ")),
        h("td", {}, fmt.time(p.updated_ms)))))) : h("p", {}, "No prompts in this workspace yet."),
    form);
}

/** One message row of the editor. */
function messageRow(i, m, rows) {
  const role = h("select", { id: `pr-role-${i}`, "aria-label": `Message ${i + 1} role` },
    ROLES.map((r) => h("option", { value: r, selected: r === m.role }, r)));
  const content = h("textarea", { id: `pr-content-${i}`, rows: "3", "aria-label": `Message ${i + 1}` },
    typeof m.content === "string" ? m.content : JSON.stringify(m.content, null, 2));
  const row = h("div", { class: "pr-msg" }, role, content,
    h("button", { type: "button", class: "link", onclick: () => { row.remove(); rows.splice(rows.indexOf(row), 1); } }, "Remove"));
  row.read = () => {
    const text = content.value;
    let c = text;
    if (text.trim().startsWith("[")) {
      try { c = JSON.parse(text); } catch { c = text; }
    }
    return { role: role.value, content: c };
  };
  return row;
}

function diffView(d) {
  return h("section", { class: "card", "aria-label": "Differences" },
    h("h2", {}, `Version ${d.from} → ${d.to}`),
    d.messages.map((m) => h("div", {},
      h("h3", {}, `Message ${m.index + 1}${m.changed ? "" : " (unchanged)"}`),
      h("pre", { class: "diff" }, m.lines.map((l) => h("span", { class: l.op === "+" ? "diff-add" : l.op === "-" ? "diff-del" : "" }, `${l.op === "=" ? " " : l.op} ${l.line}\n`))))),
    Object.keys(d.settings).length ? h("table", { class: "grid-table left", "aria-label": "Settings that differ" },
      h("thead", {}, h("tr", {}, ["Setting", "From", "To"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, Object.entries(d.settings).map(([k, v]) => h("tr", {},
        h("th", { scope: "row" }, k), h("td", {}, JSON.stringify(v.from)), h("td", {}, JSON.stringify(v.to)))))) : null);
}

/** One prompt: editor, live render, history, labels, diff. */
async function detail(main, ws, id, params, go, me) {
  const p = await api(`/prompts/${encodeURIComponent(id)}${query({ workspace: ws })}`);
  const n = Number(params.get("version")) || p.latest;
  const v = n ? await api(`/prompts/${encodeURIComponent(id)}/versions/${n}${query({ workspace: ws })}`) : null;
  const role = me.org_admin ? "admin" : me.workspaces[ws];
  const mayEdit = role === "admin" || role === "member";
  const rows = [];
  const msgs = h("div", { class: "pr-msgs" });
  const addRow = (m) => { const r = messageRow(rows.length, m, rows); rows.push(r); msgs.append(r); };
  (v ? v.messages : [{ role: "user", content: "" }]).forEach(addRow);
  const model = h("input", { id: "pr-model", autocomplete: "off", value: v?.model || "" });
  const paramsBox = h("textarea", { id: "pr-params", rows: "2" }, v?.params ? JSON.stringify(v.params) : "");
  const varsBox = h("textarea", { id: "pr-variables", rows: "3" }, v?.variables ? JSON.stringify(v.variables) : "");
  const note = h("input", { id: "pr-note", autocomplete: "off" });
  const editor = h("form", { class: "card", "aria-label": "New version", onsubmit: async (e) => {
    e.preventDefault();
    try {
      const body = { messages: rows.map((r) => r.read()), model: model.value.trim() || undefined,
        params: jsonOr(paramsBox.value, undefined), variables: jsonOr(varsBox.value, undefined), note: note.value || undefined };
      const made = await api(`/prompts/${encodeURIComponent(id)}/versions${query({ workspace: ws })}`, { method: "POST", body });
      notice(`Version ${made.version} made`);
      go(new URLSearchParams({ workspace: ws, id, version: String(made.version) }));
    } catch (err) {
      notice(err.message, "error");
    }
  } },
  h("h2", {}, v ? `Version ${v.version}` : "First version"),
  v ? h("p", { class: "muted" }, `by ${v.created_by}, ${fmt.time(v.created_ms)}${v.note ? ` — ${v.note}` : ""}`) : null,
  msgs,
  mayEdit ? h("button", { type: "button", class: "secondary", onclick: () => addRow({ role: "user", content: "" }) }, "Add a message") : null,
  h("div", { class: "filters" },
    h("label", { for: "pr-model" }, "Model", model),
    h("label", { for: "pr-params" }, "Parameters (JSON)", paramsBox),
    h("label", { for: "pr-variables" }, "Variables (JSON: name, type, required, default)", varsBox)),
  mayEdit ? h("label", { for: "pr-note" }, "Note", note) : null,
  mayEdit ? h("button", { type: "submit" }, `Save as version ${p.latest + 1}`) : null);

  // Live render of the version shown.
  const names = new Set();
  for (const m of v ? v.messages : []) {
    const text = typeof m.content === "string" ? m.content : JSON.stringify(m.content);
    for (const t of text.matchAll(/\{\{\s*([A-Za-z_][\w]*)/g)) names.add(t[1]);
  }
  const sample = Object.fromEntries([...names].map((k) => [k, ""]));
  const vars = h("textarea", { id: "pr-render-vars", rows: "4" }, JSON.stringify(sample, null, 2));
  const rendered = h("div", { class: "pr-rendered", "aria-live": "polite" });
  let timer = null;
  const render = async () => {
    if (!v) return;
    try {
      const r = await api(`/prompts/${encodeURIComponent(id)}/render${query({ workspace: ws })}`,
        { method: "POST", body: { version: v.version, variables: jsonOr(vars.value, {}) } });
      put(rendered, r.messages.map((m) => h("div", { class: "pr-filled" }, h("strong", {}, m.role), h("pre", {},
        typeof m.content === "string" ? m.content : JSON.stringify(m.content, null, 2)))));
    } catch (err) {
      put(rendered, h("p", { class: "notice error", role: "alert" }, err.message));
    }
  };
  vars.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(render, 250); });

  // History and labels.
  const versions = p.versions || [];
  const history = h("table", { class: "grid-table left", "aria-label": "Versions" },
    h("thead", {}, h("tr", {}, ["Version", "By", "When", "Note", "Labels", ""].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, [...versions].reverse().map((x) => h("tr", { "aria-current": x.version === n ? "true" : undefined },
      h("th", { scope: "row" }, h("a", { href: `#/prompts${query({ workspace: ws, id, version: x.version })}` }, String(x.version))),
      h("td", {}, x.created_by), h("td", {}, fmt.time(x.created_ms)), h("td", {}, x.note || ""),
      h("td", {}, Object.entries(p.labels).filter(([, m]) => m === x.version).map(([l]) => l).join(", ")),
      h("td", {}, x.version > 1 ? h("a", { href: `#/prompts${query({ workspace: ws, id, version: x.version, diff: x.version - 1 })}` }, `Diff with ${x.version - 1}`) : "")))));
  const labelName = h("input", { id: "pr-label", autocomplete: "off", value: "production" });
  const labelVersion = h("select", { id: "pr-label-version" }, [...versions].reverse().map((x) => h("option", { value: x.version }, String(x.version))));
  const labels = mayEdit ? h("form", { class: "filters", "aria-label": "Move a label", onsubmit: async (e) => {
    e.preventDefault();
    try {
      await api(`/prompts/${encodeURIComponent(id)}/labels/${encodeURIComponent(labelName.value.trim())}${query({ workspace: ws })}`,
        { method: "PUT", body: { version: Number(labelVersion.value) } });
      notice(`${labelName.value} → ${labelVersion.value}`);
      go(new URLSearchParams({ workspace: ws, id, version: String(n) }));
    } catch (err) {
      notice(err.message, "error");
    }
  } }, h("label", { for: "pr-label" }, "Label", labelName), h("label", { for: "pr-label-version" }, "Version", labelVersion),
  h("button", { type: "submit" }, "Move label")) : null;
  const diffFrom = Number(params.get("diff"));
  const diff = diffFrom && v ? diffView(await api(`/prompts/${encodeURIComponent(id)}/diff${query({ workspace: ws, from: diffFrom, to: n })}`)) : null;
  put(main,
    h("h1", {}, `Prompt ${id}`),
    h("p", {}, h("a", { href: `#/prompts${query({ workspace: ws })}` }, "All prompts"), " · ",
      Object.entries(p.labels).map(([l, m]) => `${l} → ${m}`).join(", ") || "no labels", " · ",
      v ? h("a", { href: `#/playground${query({ workspace: ws, prompt: id, version: v.version })}` }, "Open in playground") : null),
    diff,
    h("div", { class: "pr-grid" }, editor,
      h("section", { class: "card", "aria-label": "Live render" }, h("h2", {}, "Live render"),
        h("label", { for: "pr-render-vars" }, "Variables (JSON)", vars), rendered)),
    h("section", { "aria-label": "History" }, h("h2", {}, "History"), history, labels));
  await render();
}

export async function show(main, params, { me, go }) {
  const workspaces = (await api("/workspaces")).data;
  const ws = params.get("workspace") || workspaces[0]?.id || "default";
  const id = params.get("id");
  if (id) await detail(main, ws, id, params, go, me);
  else await list(main, ws, workspaces, go);
}
