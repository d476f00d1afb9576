// Guardrail policies: the config file's and those set through the API, each with its checks;
// a dry run sends a text through chosen policies (nothing is sent anywhere) and shows the
// verdicts, the action that would be taken and the text as a redaction would leave it.

import { api } from "../api.js";
import { h, put, notice } from "../dom.js";

export async function show(main, params, { me }) {
  const policies = (await api("/guardrails/policies")).data;
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
      h("thead", {}, h("tr", {}, ["Policy", "Source", "Stages", "Action", "Checks"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, policies.map((p) => h("tr", {},
        h("th", { scope: "row" }, p.id), h("td", {}, p.source), h("td", {}, (p.stages || []).join(", ")),
        h("td", {}, p.action), h("td", {}, (p.checks || []).map((c) => c.check).join(", ")))))) : h("p", {}, "No policies."),
    policies.length ? form : null);
  void params;
  void me;
}
