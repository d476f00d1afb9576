// Keys and workspaces: the workspaces the caller reaches, each one's virtual keys (create, show
// the new key once, rotate, disable, delete, model allow-lists). What the caller's role cannot
// do is not offered; the admin API refuses it anyway.

import { api } from "../api.js";
import { h, put, fmt, notice } from "../dom.js";

const ROLE_RANK = { viewer: 1, member: 2, admin: 3 };

function roleIn(me, ws) {
  return me.org_admin ? "admin" : me.workspaces[ws] || null;
}

/** The new secret, shown once, with a copy button. */
function secretBox(title, key) {
  const out = h("input", { id: "new-secret", readonly: true, value: key, "aria-label": "The new key" });
  return h("div", { class: "card secret", role: "alert" },
    h("h2", {}, title),
    h("p", {}, "Copy it now: it is shown this once and stored only as a hash."),
    h("div", { class: "row" }, out,
      h("button", { type: "button", class: "secondary", onclick: () => { out.select(); navigator.clipboard?.writeText(key); notice("Copied"); } }, "Copy")));
}

export async function show(main, params, { me, go }) {
  const workspaces = (await api("/workspaces")).data;
  const ws = workspaces.find((w) => w.id === params.get("workspace")) || workspaces[0];
  const role = ws ? roleIn(me, ws.id) : null;
  const canEdit = role && ROLE_RANK[role] >= ROLE_RANK.member;
  const banner = h("div", { id: "secret-slot" });
  const pick = h("label", { for: "ws" }, "Workspace",
    h("select", { id: "ws", onchange: (e) => go(new URLSearchParams({ workspace: e.target.value })) },
      workspaces.map((w) => h("option", { value: w.id, selected: ws && w.id === ws.id }, w.name))));
  const newWs = me.org_admin ? newWorkspaceForm(go) : null;
  if (!ws) {
    put(main, h("h1", {}, "Keys and workspaces"), h("p", {}, "No workspace is visible to you."), newWs);
    return;
  }
  const keys = (await api(`/workspaces/${encodeURIComponent(ws.id)}/keys`)).data;
  const refresh = () => show(main, params, { me, go });
  const act = (label, fn, cls = "secondary") => h("button", { type: "button", class: cls, onclick: async () => {
    try {
      await fn();
    } catch (e) {
      notice(e.message, "error");
    }
  } }, label);
  const rows = keys.map((k) => h("tr", {},
    h("th", { scope: "row" }, k.name),
    h("td", {}, h("code", {}, k.id)),
    h("td", {}, k.models.length ? k.models.join(", ") : "any"),
    h("td", {}, k.disabled ? "disabled" : k.expires_ms && k.expires_ms < Date.now() ? "expired" : "active"),
    h("td", {}, fmt.time(k.created_ms)),
    h("td", {}, k.last_used_ms ? fmt.time(k.last_used_ms) : "never"),
    canEdit ? h("td", { class: "actions" },
      act("Rotate", async () => {
        const r = await api(`/keys/${k.id}/rotate`, { method: "POST", body: { grace_ms: 0 } });
        await refresh();
        put(main.querySelector("#secret-slot"), secretBox(`New secret for ${k.name}`, r.key));
      }),
      act(k.disabled ? "Enable" : "Disable", async () => {
        await api(`/keys/${k.id}`, { method: "PATCH", body: { disabled: !k.disabled } });
        await refresh();
      }),
      act("Revoke", async () => {
        if (!confirm(`Revoke ${k.name}? Requests with it are refused from now on.`)) return;
        await api(`/keys/${k.id}`, { method: "DELETE" });
        await refresh();
        notice(`Revoked ${k.name}`);
      }, "danger")) : null));
  const name = h("input", { id: "key-name", required: true, autocomplete: "off" });
  const models = h("input", { id: "key-models", placeholder: "gpt-4o*, claude-*", autocomplete: "off" });
  const create = canEdit ? h("form", { class: "filters", "aria-label": "New key", onsubmit: async (e) => {
    e.preventDefault();
    try {
      const body = { name: name.value.trim(), models: models.value.split(",").map((m) => m.trim()).filter(Boolean) };
      const k = await api(`/workspaces/${encodeURIComponent(ws.id)}/keys`, { method: "POST", body });
      await refresh();
      put(main.querySelector("#secret-slot"), secretBox(`Key ${k.name} created`, k.key));
    } catch (err) {
      notice(err.message, "error");
    }
  } },
    h("label", { for: "key-name" }, "New key name", name),
    h("label", { for: "key-models" }, "Models allowed (comma-separated patterns; empty: any)", models),
    h("button", { type: "submit" }, "Create key")) : null;
  put(main,
    h("h1", {}, "Keys and workspaces"),
    h("div", { class: "filters" }, pick, h("p", { class: "muted" }, `Your role here: ${role || "none"}`)),
    banner,
    h("h2", {}, `Keys of ${ws.name}`),
    keys.length ? h("table", { class: "grid-table left" },
      h("thead", {}, h("tr", {}, ["Name", "Id", "Models", "Status", "Created", "Last used", canEdit ? "Actions" : null]
        .filter(Boolean).map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows)) : h("p", {}, "No keys yet."),
    create,
    newWs);
}

function newWorkspaceForm(go) {
  const name = h("input", { id: "ws-name", required: true, autocomplete: "off" });
  return h("form", { class: "filters", "aria-label": "New workspace", onsubmit: async (e) => {
    e.preventDefault();
    try {
      const w = await api("/workspaces", { method: "POST", body: { name: name.value.trim() } });
      go(new URLSearchParams({ workspace: w.id }));
    } catch (err) {
      notice(err.message, "error");
    }
  } }, h("h2", {}, "New workspace"), h("label", { for: "ws-name" }, "Name", name), h("button", { type: "submit" }, "Create workspace"));
}
