// Dataset runs: datasets and runs of a prompt's variants over them. A run's page shows its
// progress while it runs, then per variant each evaluator's mean with its interval, tokens,
// cost and latency, and the rows side by side with each variant's output and scores.

import { api, query } from "../api.js";
import { h, put, fmt, notice } from "../dom.js";

const interval = (s) => (s && s.interval ? `${s.mean.toFixed(3)} [${s.interval[0].toFixed(3)}, ${s.interval[1].toFixed(3)}]` : s && s.mean !== null ? s.mean.toFixed(3) : "—");

async function run(main, ws, id, go, leaving) {
  const r = await api(`/runs/${encodeURIComponent(id)}${query({ workspace: ws })}`);
  const head = [h("h1", {}, `Run ${id}`),
    h("p", {}, h("a", { href: `#/runs${query({ workspace: ws })}` }, "All runs"), " · ",
      `dataset ${r.dataset} · prompt ${r.prompt} · ${r.status} · ${fmt.int(r.done)} done, ${fmt.int(r.failed)} failed of ${fmt.int(r.total)}`)];
  if (r.status === "running") {
    put(main, head, h("progress", { max: String(r.total), value: String(r.done + r.failed), "aria-label": "Progress" }),
      h("button", { type: "button", class: "danger", onclick: async () => {
        try { await api(`/runs/${encodeURIComponent(id)}/cancel${query({ workspace: ws })}`, { method: "POST" }); } catch (err) { notice(err.message, "error"); }
        go(new URLSearchParams({ workspace: ws, id }));
      } }, "Cancel"));
    // Poll until done, unless the page was left.
    setTimeout(() => { if (!leaving()) go(new URLSearchParams({ workspace: ws, id })); }, 1000);
    return;
  }
  const s = r.summary || { variants: [] };
  const evals = r.evaluators.map((e) => e.name || e.type);
  const rows = (await api(`/runs/${encodeURIComponent(id)}/results${query({ workspace: ws, limit: 50 })}`)).data;
  put(main, head,
    h("table", { class: "grid-table left", "aria-label": "Summary per variant" },
      h("thead", {}, h("tr", {}, ["Variant", "Requests", "Errors", ...evals.map((e) => `${e} (mean, ${Math.round(r.confidence * 100)}% interval)`), "Tokens in/out", "Cost", "p50", "p95"]
        .map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, s.variants.map((v) => h("tr", {},
        h("th", { scope: "row" }, v.name), h("td", {}, fmt.int(v.requests)), h("td", {}, fmt.int(v.errors)),
        evals.map((e) => h("td", {}, interval(v.evaluators[e]))),
        h("td", {}, `${fmt.int(v.input_tokens)} / ${fmt.int(v.output_tokens)}`), h("td", {}, fmt.usd(v.cost_usd)),
        h("td", {}, fmt.ms(v.latency_ms.p50)), h("td", {}, fmt.ms(v.latency_ms.p95)))))),
    h("h2", {}, "Rows side by side"),
    h("table", { class: "grid-table left runs-rows", "aria-label": "Rows side by side" },
      h("thead", {}, h("tr", {}, ["Row", ...r.variants.map((v) => v.name)].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows.map((row) => h("tr", {},
        h("th", { scope: "row" }, String(row.row)),
        r.variants.map((v) => {
          const o = row.outputs[v.name];
          if (!o) return h("td", {}, "—");
          return h("td", {}, o.error ? h("span", { class: "down" }, o.error) : h("pre", { class: "run-out" }, o.output),
            h("div", { class: "muted" }, Object.entries(o.scores).map(([k, x]) => `${k} ${x === null ? "—" : Number(x).toFixed(2)}`).join(" · ")));
        }))))));
}

async function list(main, ws, workspaces, go) {
  const [datasets, runs, prompts] = await Promise.all([
    api(`/datasets${query({ workspace: ws })}`).then((d) => d.data),
    api(`/runs${query({ workspace: ws })}`).then((d) => d.data),
    api(`/prompts${query({ workspace: ws })}`).then((d) => d.data),
  ]);
  const dsId = h("input", { id: "ds-id", required: true, autocomplete: "off" });
  const jsonl = h("textarea", { id: "ds-jsonl", rows: "4", placeholder: '{"variables": {"question": "..."}, "expected": "..."}' });
  const upload = h("form", { class: "card", "aria-label": "New dataset", onsubmit: async (e) => {
    e.preventDefault();
    try {
      await api("/datasets", { method: "POST", body: { id: dsId.value.trim(), workspace: ws, jsonl: jsonl.value } });
      notice(`Dataset ${dsId.value} uploaded`);
      go(new URLSearchParams({ workspace: ws }));
    } catch (err) {
      notice(err.message, "error");
    }
  } }, h("h2", {}, "New dataset"), h("label", { for: "ds-id" }, "Id", dsId), h("label", { for: "ds-jsonl" }, "Rows (JSONL)", jsonl),
  h("button", { type: "submit" }, "Upload"));
  const dsSel = h("select", { id: "run-dataset" }, datasets.map((d) => h("option", { value: d.id }, `${d.id} (${d.rows} rows)`)));
  const prSel = h("select", { id: "run-prompt" }, prompts.map((p) => h("option", { value: p.id }, p.id)));
  const variants = h("input", { id: "run-variants", autocomplete: "off", placeholder: "a:1, b:2" });
  const evals = h("input", { id: "run-evals", autocomplete: "off", value: "exact, similarity" });
  const estimate = h("p", { class: "muted", "aria-live": "polite" });
  const body = () => ({
    workspace: ws, dataset: dsSel.value, prompt: prSel.value,
    variants: variants.value.split(",").map((s) => s.trim()).filter(Boolean).map((s) => {
      const [name, version] = s.split(":");
      return { name: name.trim(), version: Number(version) };
    }),
    evaluators: evals.value.split(",").map((s) => s.trim()).filter(Boolean).map((type) => ({ type })),
  });
  const start = h("form", { class: "card", "aria-label": "New run", onsubmit: async (e) => {
    e.preventDefault();
    try {
      const r = await api("/runs", { method: "POST", body: body() });
      go(new URLSearchParams({ workspace: ws, id: r.id }));
    } catch (err) {
      notice(err.message, "error");
    }
  } }, h("h2", {}, "New run"),
  h("div", { class: "filters" }, h("label", { for: "run-dataset" }, "Dataset", dsSel), h("label", { for: "run-prompt" }, "Prompt", prSel),
    h("label", { for: "run-variants" }, "Variants (name:version)", variants), h("label", { for: "run-evals" }, "Evaluators", evals)),
  estimate,
  h("div", { class: "filters" },
    h("button", { type: "button", class: "secondary", onclick: async () => {
      try {
        const r = await api("/runs", { method: "POST", body: { ...body(), dry_run: true } });
        const x = r.estimate || {};
        put(estimate, `${fmt.int(x.requests)} requests, about ${fmt.int(x.input_tokens)} input tokens, at most ${fmt.int(x.output_tokens_at_most)} output tokens, at most ${fmt.usd(x.cost_usd_at_most)}`);
      } catch (err) {
        notice(err.message, "error");
      }
    } }, "Estimate"),
    h("button", { type: "submit" }, "Run")));
  put(main,
    h("h1", {}, "Dataset runs"),
    h("form", { class: "filters", "aria-label": "Workspace", onsubmit: (e) => e.preventDefault() },
      h("label", { for: "run-ws" }, "Workspace", h("select", { id: "run-ws", onchange: (e) => go(new URLSearchParams({ workspace: e.target.value })) },
        workspaces.map((w) => h("option", { value: w.id, selected: w.id === ws }, w.name))))),
    runs.length ? h("table", { class: "grid-table left", "aria-label": "Runs" },
      h("thead", {}, h("tr", {}, ["Run", "Dataset", "Prompt", "Variants", "Status", "Done", "Started"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, runs.map((r) => h("tr", {},
        h("th", { scope: "row" }, h("a", { href: `#/runs${query({ workspace: ws, id: r.id })}` }, r.id)),
        h("td", {}, r.dataset), h("td", {}, r.prompt), h("td", {}, r.variants.map((v) => v.name).join(", ")),
        h("td", {}, r.status), h("td", {}, `${fmt.int(r.done)} / ${fmt.int(r.total)}`), h("td", {}, fmt.time(r.created_ms)))))) : h("p", {}, "No runs in this workspace."),
    h("div", { class: "pr-grid" }, upload, start));
}

let left = false;

export function leave() {
  left = true;
}

export async function show(main, params, { go }) {
  left = false;
  const workspaces = (await api("/workspaces")).data;
  const ws = params.get("workspace") || workspaces[0]?.id || "default";
  const id = params.get("id");
  if (id) await run(main, ws, id, go, () => left);
  else await list(main, ws, workspaces, go);
}
