// Budgets and limits: each limit the caller may see (the config file's and those set through
// the API), with its counter now: used against the amount, reserved, and when it resets.

import { api } from "../api.js";
import { h, put, fmt, notice } from "../dom.js";

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

const DIMENSIONS = ["requests", "cost_usd", "input_tokens", "output_tokens", "total_tokens", "concurrent"];
const WINDOWS = ["minute", "hour", "day", "calendar_day", "week", "month", "second"];

/** A form for a new limit; the API decides whether the caller may set it. */
function newLimitForm(refresh) {
  const field = (id, label, input) => h("label", { for: id }, label, input);
  const id = h("input", { id: "lim-id", required: true, autocomplete: "off", placeholder: "team-a-monthly" });
  const scope = h("input", { id: "lim-scope", required: true, autocomplete: "off", placeholder: "org, workspace:ID, key:ID" });
  const dim = h("select", { id: "lim-dim" }, DIMENSIONS.map((d) => h("option", { value: d }, d)));
  const amount = h("input", { id: "lim-amount", type: "number", min: "0", step: "any", required: true });
  const win = h("select", { id: "lim-window" }, WINDOWS.map((w) => h("option", { value: w }, w)));
  return h("form", { class: "filters", "aria-label": "New limit", onsubmit: async (e) => {
    e.preventDefault();
    const body = { id: id.value.trim(), scope: scope.value.trim(), dimension: dim.value, amount: Number(amount.value) };
    if (dim.value !== "concurrent") body.window = win.value;
    try {
      await api("/limits", { method: "POST", body });
      notice(`Limit ${body.id} set`);
      await refresh();
    } catch (err) {
      notice(err.message, "error");
    }
  } },
  field("lim-id", "Id", id), field("lim-scope", "Scope", scope), field("lim-dim", "Dimension", dim),
  field("lim-amount", "Amount", amount), field("lim-window", "Window", win),
  h("button", { type: "submit" }, "Set limit"));
}

export async function show(main, params, ctx) {
  const refresh = () => show(main, params, ctx);
  const me = ctx?.me;
  const mayEdit = me && (me.org_admin || Object.values(me.workspaces).includes("admin"));
  const limits = (await api("/limits")).data;
  // One read per limit for its counter; a limit on each value of a kind (`*`) has no single one.
  const states = await Promise.all(limits.map((l) => (l.scope.includes("*")
    ? Promise.resolve(null)
    : api(`/limits/${encodeURIComponent(l.id)}`).then((r) => r.state).catch(() => null))));
  put(main,
    h("h1", {}, "Budgets and limits"),
    limits.length ? h("table", { class: "grid-table left" },
      h("thead", {}, h("tr", {}, ["Limit", "Scope", "Dimension", "Window", "Used", "Amount", "", "Reserved", "Resets", "Source", mayEdit ? "" : null]
        .filter((c) => c !== null).map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, limits.map((l, i) => {
        const st = states[i];
        return h("tr", {},
          h("th", { scope: "row" }, l.id), h("td", {}, l.scope), h("td", {}, l.dimension), h("td", {}, l.window),
          h("td", {}, st ? amount(l, st.used) : "per value"), h("td", {}, amount(l, l.amount)),
          h("td", { class: "meter-cell" }, st ? bar(st.used, l.amount) : null),
          h("td", {}, st ? amount(l, st.reserved) : "—"), h("td", {}, st ? resets(st.resets_in_ms) : "—"),
          h("td", {}, l.source),
          mayEdit ? h("td", {}, l.source === "api" ? h("button", { type: "button", class: "danger", onclick: async () => {
            if (!confirm(`Remove the limit ${l.id}?`)) return;
            try {
              await api(`/limits/${encodeURIComponent(l.id)}`, { method: "DELETE" });
              await refresh();
            } catch (err) {
              notice(err.message, "error");
            }
          } }, "Remove") : "in the config file") : null);
      }))) : h("p", {}, "No limits are set (limits: in the config, or POST /admin/v1/limits)."),
    mayEdit ? h("h2", {}, "New limit") : null,
    mayEdit ? newLimitForm(refresh) : null);
}
