// Guardrail policies: the config file's and those set through the API, each with its checks;
// a dry run sends a text through chosen policies (nothing is sent anywhere) and shows the
// verdicts, the action that would be taken and the text as a redaction would leave it.

import { api } from "../api.js";
import { h, put, notice } from "../dom.js";

const SAMPLE = { id: "no-secrets", action: "deny", stages: ["input"], checks: [{ check: "aws_keys" }, { check: "private_key" }] };

/** Create or change a policy set through the API, as JSON (the config file's shape). */
function editor(refresh, editing) {
  const area = h("textarea", { id: "gr-json", rows: "10", spellcheck: "false" },
    JSON.stringify(editing || SAMPLE, null, 2));
  return h("form", { class: "card", "aria-label": editing ? `Edit ${editing.id}` : "New policy", onsubmit: async (e) => {
    e.preventDefault();
    let body;
    try {
      body = JSON.parse(area.value);
    } catch (err) {
      notice(`Not JSON: ${err.message}`, "error");
      return;
    }
    try {
      if (editing) {
        delete body.id;
        await api(`/guardrails/policies/${encodeURIComponent(editing.id)}`, { method: "PATCH", body });
      } else {
        await api("/guardrails/policies", { method: "POST", body });
      }
      notice("Policy saved");
      await refresh();
    } catch (err) {
      notice(err.message, "error");
    }
  } },
  h("h2", {}, editing ? `Edit ${editing.id}` : "New policy"),
  h("label", { for: "gr-json" }, "Policy (JSON, as the config file defines one: docs/guardrails.md)", area),
  h("button", { type: "submit" }, "Save policy"));
}

function editable(p) {
  const out = {};
  for (const k of ["action", "stages", "checks", "on_error", "refusal", "reversible", "max_retries", "description", "attach"]) {
    if (p[k] !== undefined && p[k] !== null) out[k] = p[k];
  }
  return { id: p.id, ...out };
}

export async function show(main, params, { me, go }) {
  const refresh = () => show(main, params, { me, go });
  const policies = (await api("/guardrails/policies")).data;
  const editId = params.get("edit");
  const mayEdit = me.org_admin || Object.values(me.workspaces).includes("admin");
  const text = h("textarea", { id: "gr-text", rows: "5", required: true },
    "Contact me at jane.doe@example.com or +1 415 555 0100.");
  const stage = h("select", { id: "gr-stage" }, ["input", "output"].map((s) => h("option", { value: s }, s)));
  const chosen = policies.map((p) => h("input", { type: "checkbox", id: `gr-p-${p.id}`, value: p.id, checked: true }));
  const result = h("div", { id: "gr-result", "aria-live": "polite" });
  const form = h("form", { class: "card", "aria-label": "Dry run", onsubmit: async (e) => {
    e.preventDefault();
    const ids = chosen.filter((c) => c.checked).map((c) => c.value);
    try {
      const r = await api("/guardrails/test", { method: "POST", body: { text: text.value, policies: ids, stage: stage.value } });
      put(result,
        h("p", {}, h("strong", {}, "Action: "), r.action || "none (the text passes)",
          r.decided_by ? ` — decided by ${r.decided_by.policy} / ${r.decided_by.check}` : ""),
        r.redacted ? h("div", {}, h("h3", {}, "As redacted"), h("pre", {}, r.redacted)) : null,
        h("table", { class: "grid-table left" },
          h("thead", {}, h("tr", {}, ["Policy", "Check", "Fired", "Action", "Score"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", {}, r.verdicts.map((v) => h("tr", {}, h("td", {}, v.policy), h("td", {}, v.check),
            h("td", {}, v.fired ? "yes" : "no"), h("td", {}, v.action || "—"), h("td", {}, v.score ?? "—"))))));
    } catch (err) {
      notice(err.message, "error");
    }
  } },
  h("h2", {}, "Dry run"),
  h("label", { for: "gr-text" }, "Text", text),
  h("label", { for: "gr-stage" }, "Stage", stage),
  h("fieldset", {}, h("legend", {}, "Policies"), policies.map((p, i) =>
    h("label", { for: `gr-p-${p.id}`, class: "inline" }, chosen[i], ` ${p.id}`))),
  h("button", { type: "submit" }, "Run"),
  result);
  put(main,
    h("h1", {}, "Guardrails"),
    policies.length ? h("table", { class: "grid-table left" },
      h("thead", {}, h("tr", {}, ["Policy", "Source", "Stages", "Action", "Checks", mayEdit ? "" : null]
        .filter((c) => c !== null).map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, policies.map((p) => h("tr", {},
        h("th", { scope: "row" }, p.id), h("td", {}, p.source), h("td", {}, (p.stages || []).join(", ")),
        h("td", {}, p.action), h("td", {}, (p.checks || []).map((c) => c.check).join(", ")),
        mayEdit ? h("td", { class: "actions" }, p.source === "api" ? [
          h("button", { type: "button", class: "secondary", onclick: () => go(new URLSearchParams({ edit: p.id })) }, "Edit"),
          h("button", { type: "button", class: "danger", onclick: async () => {
            if (!confirm(`Delete the policy ${p.id}?`)) return;
            try {
              await api(`/guardrails/policies/${encodeURIComponent(p.id)}`, { method: "DELETE" });
              go(new URLSearchParams());
            } catch (err) {
              notice(err.message, "error");
            }
          } }, "Delete")] : "in the config file") : null)))) : h("p", {}, "No policies."),
    policies.length ? form : null,
    mayEdit ? editor(refresh, editId ? editable(policies.find((p) => p.id === editId) || { id: editId }) : null) : null);
}
