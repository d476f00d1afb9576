// The response cache: this replica's figures (requests by status, hit rate, dollars saved,
// what the store holds) and purges (organisation admins).

import { api } from "../api.js";
import { h, put, fmt, notice } from "../dom.js";

export async function show(main, params, { me }) {
  let st;
  try {
    st = await api("/cache/stats");
  } catch (e) {
    if (e.status === 404) {
      put(main, h("h1", {}, "Cache"), h("p", {}, e.message));
      return;
    }
    throw e;
  }
  const refresh = () => show(main, params, { me });
  const ws = h("input", { id: "purge-ws", autocomplete: "off" });
  const age = h("input", { id: "purge-age", type: "number", min: "0", autocomplete: "off" });
  const purge = h("form", { class: "filters", "aria-label": "Purge", onsubmit: async (e) => {
    e.preventDefault();
    const body = {};
    if (ws.value.trim()) body.workspace = ws.value.trim();
    if (age.value !== "") body.older_than_secs = Number(age.value);
    if (!Object.keys(body).length) {
      if (!confirm("Purge every cached answer?")) return;
      body.all = true;
    }
    try {
      const r = await api("/cache/purge", { method: "POST", body });
      notice(`Purged ${r.purged} entries`);
      await refresh();
    } catch (err) {
      notice(err.message, "error");
    }
  } },
  h("label", { for: "purge-ws" }, "Workspace (empty: all)", ws),
  h("label", { for: "purge-age" }, "Older than (seconds)", age),
  h("button", { type: "submit", class: "danger" }, "Purge"));
  const cards = [
    ["Backend", st.backend], ["Entries", fmt.int(st.entries)], ["Hit rate", fmt.pct(st.hit_rate)],
    ["Saved", fmt.usd(st.saved_usd)], ["Hits", fmt.int(st.requests.hit)], ["Semantic hits", fmt.int(st.requests.semantic_hit)],
    ["Misses", fmt.int(st.requests.miss)], ["Bypassed", fmt.int(st.requests.bypass)],
    ["Memory", `${(st.memory_bytes / 1048576).toFixed(1)} of ${(st.memory_max_bytes / 1048576).toFixed(0)} MiB`],
    ["Semantic index", st.semantic ? `${fmt.int(st.semantic.vectors)} prompts` : "off"],
  ];
  put(main,
    h("h1", {}, "Cache"),
    h("section", { class: "cards", "aria-label": "Figures" },
      cards.map(([k, v]) => h("div", { class: "card stat" }, h("div", { class: "stat-label" }, k), h("div", { class: "stat-value" }, v)))),
    h("h2", {}, "Purge"), purge);
}
