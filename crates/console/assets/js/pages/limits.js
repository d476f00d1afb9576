// Budgets and limits: each limit the caller may see (the config file's and those set through
// the API), with its counter now: used against the amount, reserved, and when it resets.

import { api } from "../api.js";
import { h, put, fmt } from "../dom.js";

function amount(l, v) {
  return l.dimension === "cost_usd" ? fmt.usd(v) : fmt.int(v);
}

function bar(used, total) {
  const share = total > 0 ? Math.min(used / total, 1) : 0;
  const level = share >= 1 ? "over" : share >= 0.8 ? "near" : "ok";
  return h("div", { class: `meter ${level}`, role: "meter", "aria-valuemin": "0", "aria-valuemax": String(total),
    "aria-valuenow": String(Math.min(used, total)), "aria-label": "Used of the amount" },
  h("div", { class: "meter-fill", style: { width: `${(share * 100).toFixed(1)}%` } }));
}

function resets(ms) {
  // 0: nothing counted yet in this window.
  if (ms === undefined || ms === null || ms <= 0) return "—";
  const s = ms / 1000;
  if (s < 120) return `in ${Math.round(s)} s`;
  if (s < 7200) return `in ${Math.round(s / 60)} min`;
  if (s < 172800) return `in ${Math.round(s / 3600)} h`;
  return `in ${Math.round(s / 86400)} days`;
}

export async function show(main) {
  const limits = (await api("/limits")).data;
  // One read per limit for its counter; a limit on each value of a kind (`*`) has no single one.
  const states = await Promise.all(limits.map((l) => (l.scope.includes("*")
    ? Promise.resolve(null)
    : api(`/limits/${encodeURIComponent(l.id)}`).then((r) => r.state).catch(() => null))));
  put(main,
    h("h1", {}, "Budgets and limits"),
    limits.length ? h("table", { class: "grid-table left" },
      h("thead", {}, h("tr", {}, ["Limit", "Scope", "Dimension", "Window", "Used", "Amount", "", "Reserved", "Resets", "Source"]
        .map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, limits.map((l, i) => {
        const st = states[i];
        return h("tr", {},
          h("th", { scope: "row" }, l.id), h("td", {}, l.scope), h("td", {}, l.dimension), h("td", {}, l.window),
          h("td", {}, st ? amount(l, st.used) : "per value"), h("td", {}, amount(l, l.amount)),
          h("td", { class: "meter-cell" }, st ? bar(st.used, l.amount) : null),
          h("td", {}, st ? amount(l, st.reserved) : "—"), h("td", {}, st ? resets(st.resets_in_ms) : "—"),
          h("td", {}, l.source));
      }))) : h("p", {}, "No limits are set (limits: in the config, or POST /admin/v1/limits)."));
}
