// Building the page from data without ever parsing it as HTML: every text goes in as text.

/** An element: `h("a", {href: "#/"}, "Home", child)`. Attributes starting with `on` are
 *  listeners; `style` is an object of properties, set through the CSSOM (the console's CSP
 *  forbids style attributes); the rest are set as attributes. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "value") el.value = v;
    else if (k === "style") Object.assign(el.style, v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces what `el` holds. */
export function put(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== undefined && c !== null && c !== false)
    .map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
  return el;
}

export const fmt = {
  int: (n) => (n === null || n === undefined ? "—" : Math.round(n).toLocaleString("en-US")),
  usd: (n) => (n === null || n === undefined ? "—" : n < 0.01 && n > 0 ? `$${n.toPrecision(2)}` : `$${n.toFixed(2)}`),
  ms: (n) => (n === null || n === undefined ? "—" : n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${n.toFixed(n < 10 ? 1 : 0)} ms`),
  pct: (n) => (n === null || n === undefined ? "—" : `${(n * 100).toFixed(1)}%`),
  time: (ms) => new Date(ms).toISOString().replace("T", " ").slice(0, 19),
};

/** A message in the page's live region (screen readers announce it). */
export function notice(text, kind = "info") {
  let box = document.getElementById("notice");
  if (!box) {
    box = h("div", { id: "notice", role: "status", "aria-live": "polite" });
    document.body.append(box);
  }
  put(box, text ? h("p", { class: `notice ${kind}` }, text) : null);
}
