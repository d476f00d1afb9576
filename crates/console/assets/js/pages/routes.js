// Routes and models: every route target's health (circuit state, in flight, latency, successes
// and failures) from /admin/v1/health, and the models and routes the gateway sends to, with
// the catalog's prices, from /admin/v1/models.

import { api } from "../api.js";
import { h, put, fmt } from "../dom.js";

function price(p, k) {
  return p && p[k] !== undefined && p[k] !== null ? `$${p[k]}` : "—";
}

export async function show(main) {
  const [health, models] = await Promise.all([api("/health"), api("/models")]);
  const routes = models.data.filter((m) => m.owned_by === "switchyard");
  const priced = models.data.filter((m) => m.owned_by !== "switchyard");
  put(main,
    h("h1", {}, "Routes and models"),
    h("h2", {}, "Targets"),
    health.targets.length ? h("table", { class: "grid-table left" },
      h("thead", {}, h("tr", {}, ["Target", "Circuit", "In flight", "Latency", "Successes", "Failures", "Failures in a row"]
        .map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, health.targets.map((t) => h("tr", {},
        h("th", { scope: "row" }, t.target),
        h("td", {}, h("span", { class: t.state === "closed" ? "up" : "down" }, t.state === "closed" ? "closed (in rotation)" : t.state)),
        h("td", {}, fmt.int(t.in_flight)), h("td", {}, fmt.ms(t.latency_ms)),
        h("td", {}, fmt.int(t.successes)), h("td", {}, fmt.int(t.failures)), h("td", {}, fmt.int(t.consecutive_failures))))))
      : h("p", {}, "No route targets yet (they appear once routes are configured or models used)."),
    h("h2", {}, "Routes"),
    routes.length ? h("ul", {}, routes.map((r) => h("li", {}, h("code", {}, r.id)))) : h("p", {}, "No named routes."),
    h("h2", {}, `Models (${priced.length})`),
    h("table", { class: "grid-table left" },
      h("thead", {}, h("tr", {}, ["Model", "Provider", "Input / 1M", "Output / 1M", "Context window"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, priced.slice(0, 500).map((m) => h("tr", {},
        h("th", { scope: "row" }, m.id), h("td", {}, m.owned_by), h("td", {}, price(m.pricing, "input")),
        h("td", {}, price(m.pricing, "output")), h("td", {}, fmt.int(m.context_window)))))));
}
