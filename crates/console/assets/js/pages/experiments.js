// Experiments: each experiment on a prompt's label, and one experiment's results per variant
// (observations, the mean outcome with its intervals, the probability it is best, its share of
// traffic, requests, errors, cost, latency), with stop and promote. The server computes every
// figure (GET /experiments/{id}/results).

import { api, query } from "../api.js";
import { h, put, fmt, notice } from "../dom.js";

const interval = (i) => (i ? `${fmt.pct(i[0])} – ${fmt.pct(i[1])}` : "—");
const num = (x, metric) => (x === null || x === undefined ? "—" : metric === "rate" ? fmt.pct(x) : x.toFixed(3));

async function results(main, ws, id, go, me) {
  const e = await api(`/experiments/${encodeURIComponent(id)}${query({ workspace: ws })}`);
  const r = await api(`/experiments/${encodeURIComponent(id)}/results${query({ workspace: ws })}`);
  const role = me.org_admin ? "admin" : me.workspaces[ws];
  const mayRun = role === "admin" || (role === "member" && e.label !== "production");
  const act = async (action, body) => {
    try {
      await api(`/experiments/${encodeURIComponent(id)}/${action}${query({ workspace: ws })}`, { method: "POST", body });
      notice(`Experiment ${action === "stop" ? "stopped" : "promoted"}`);
      go(new URLSearchParams({ workspace: ws, id }));
    } catch (err) {
      notice(err.message, "error");
    }
  };
  put(main,
    h("h1", {}, `Experiment ${id}`),
    h("p", {}, h("a", { href: `#/experiments${query({ workspace: ws })}` }, "All experiments"), " · ",
      `${e.route ? `route ${e.route}` : `${e.prompt}:${e.label}`} · ${e.mode} · ${e.metric} by ${e.unit.replace("_", " ")} · status ${r.status}`,
      r.winner ? ` · winner ${r.winner}` : "", ` · ${fmt.int(r.observations)} observations`),
    h("table", { class: "grid-table left", "aria-label": "Results per variant" },
      h("thead", {}, h("tr", {}, ["Variant", "Version", "Traffic now", "Requests", "Observations", "Mean", `${Math.round(e.confidence * 100)}% interval`,
        "Anytime interval", "P(best)", "Errors", "Cost", "p50", "p95"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, r.variants.map((v, i) => h("tr", { class: r.winner === v.name ? "winner" : undefined },
        h("th", { scope: "row" }, v.name), h("td", {}, String(e.variants[i]?.model || e.variants[i]?.version || "")),
        h("td", {}, fmt.pct(r.weights[i])), h("td", {}, fmt.int(v.requests)), h("td", {}, fmt.int(v.n)),
        h("td", {}, num(v.mean, e.metric)), h("td", {}, e.metric === "rate" ? interval(v.interval) : JSON.stringify(v.interval)),
        h("td", {}, e.metric === "rate" ? interval(v.anytime) : JSON.stringify(v.anytime)),
        h("td", {}, fmt.pct(v.p_best)), h("td", {}, fmt.pct(v.error_rate)), h("td", {}, fmt.usd(v.cost_usd)),
        h("td", {}, fmt.ms(v.latency_ms.p50)), h("td", {}, fmt.ms(v.latency_ms.p95)))))),
    mayRun && e.status !== "stopped" ? h("div", { class: "filters" },
      h("button", { type: "button", onclick: () => act("promote", r.winner ? {} : { variant: r.variants[0].name }) },
        r.winner ? `Promote ${r.winner} to ${e.label}` : `Promote ${r.variants[0].name} to ${e.label}`),
      h("button", { type: "button", class: "secondary", onclick: () => act("stop") }, "Stop")) : null,
    h("p", { class: "muted" }, "The anytime interval stays valid however often you look; a winner is declared once one variant's lies above every other's (docs/experiments.md)."));
}

async function list(main, ws, workspaces, go) {
  const exps = (await api(`/experiments${query({ workspace: ws })}`)).data;
  const id = h("input", { id: "ex-id", required: true, autocomplete: "off" });
  const prompt = h("input", { id: "ex-prompt", required: true, autocomplete: "off" });
  const label = h("input", { id: "ex-label", autocomplete: "off", value: "production" });
  const variants = h("input", { id: "ex-variants", required: true, autocomplete: "off", placeholder: "a:1, b:2" });
  const mode = h("select", { id: "ex-mode" }, ["fixed", "adaptive"].map((m) => h("option", { value: m }, m)));
  const form = h("form", { class: "filters", "aria-label": "New experiment", onsubmit: async (e) => {
    e.preventDefault();
    try {
      const vs = variants.value.split(",").map((s) => s.trim()).filter(Boolean).map((s) => {
        const [name, version] = s.split(":");
        return { name: name.trim(), version: Number(version) };
      });
      await api("/experiments", { method: "POST", body: { id: id.value.trim(), workspace: ws, prompt: prompt.value.trim(),
        label: label.value.trim() || undefined, variants: vs, mode: mode.value } });
      go(new URLSearchParams({ workspace: ws, id: id.value.trim() }));
    } catch (err) {
      notice(err.message, "error");
    }
  } },
  h("label", { for: "ex-id" }, "Id", id), h("label", { for: "ex-prompt" }, "Prompt", prompt),
  h("label", { for: "ex-label" }, "Label", label), h("label", { for: "ex-variants" }, "Variants (name:version)", variants),
  h("label", { for: "ex-mode" }, "Mode", mode), h("button", { type: "submit" }, "Start"));
  put(main,
    h("h1", {}, "Experiments"),
    h("form", { class: "filters", "aria-label": "Workspace", onsubmit: (e) => e.preventDefault() },
      h("label", { for: "ex-ws" }, "Workspace", h("select", { id: "ex-ws", onchange: (e) => go(new URLSearchParams({ workspace: e.target.value })) },
        workspaces.map((w) => h("option", { value: w.id, selected: w.id === ws }, w.name))))),
    exps.length ? h("table", { class: "grid-table left", "aria-label": "Experiments" },
      h("thead", {}, h("tr", {}, ["Experiment", "Prompt and label", "Variants", "Mode", "Status", "Winner", "Started"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, exps.map((x) => h("tr", {},
        h("th", { scope: "row" }, h("a", { href: `#/experiments${query({ workspace: ws, id: x.id })}` }, x.id)),
        h("td", {}, x.route ? `route ${x.route}` : `${x.prompt}:${x.label}`), h("td", {}, x.variants.map((v) => `${v.name}:${v.model || v.version}`).join(", ")),
        h("td", {}, x.mode), h("td", {}, x.status), h("td", {}, x.winner || "—"), h("td", {}, fmt.time(x.started_ms)))))) : h("p", {}, "No experiments in this workspace."),
    h("h2", {}, "New experiment"), form);
}

export async function show(main, params, { me, go }) {
  const workspaces = (await api("/workspaces")).data;
  const ws = params.get("workspace") || workspaces[0]?.id || "default";
  const id = params.get("id");
  if (id) await results(main, ws, id, go, me);
  else await list(main, ws, workspaces, go);
}
