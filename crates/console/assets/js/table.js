// A table that renders only the rows in view (plus a few around them), so a log of millions
// of records scrolls with a few dozen rows in the page. Rows have one fixed height; the body
// is a spacer as tall as all of them, with the visible ones placed at their offsets.

import { h, put } from "./dom.js";

const OVERSCAN = 8;

export class VirtualTable {
  /** `columns`: [{key, title, width, render(row) → text}]; `onEnd` is called when the view
   *  nears the last row (to fetch the next page); `onOpen(row)` when a row is chosen. */
  constructor({ columns, rowHeight = 32, height = 560, label, onEnd, onOpen }) {
    this.columns = columns;
    this.rowHeight = rowHeight;
    this.rows = [];
    this.onEnd = onEnd;
    this.onOpen = onOpen;
    this.total = null;
    const template = columns.map((c) => c.width || "1fr").join(" ");
    this.head = h("div", { class: "vt-row vt-head", role: "row", style: { gridTemplateColumns: template } },
      columns.map((c) => h("div", { role: "columnheader", class: "vt-cell" }, c.title)));
    this.spacer = h("div", { class: "vt-spacer", role: "presentation" });
    this.body = h("div", { class: "vt-body", style: { height: `${height}px` }, tabindex: "0", role: "rowgroup",
      "aria-label": `${label} (scroll for more)` }, this.spacer);
    this.el = h("div", { class: "vt", role: "table", "aria-label": label, "aria-rowcount": "-1" },
      h("div", { role: "rowgroup" }, this.head), this.body);
    this.template = template;
    this.body.addEventListener("scroll", () => this.draw());
    this.drawn = "";
  }

  set(rows) {
    this.rows = rows;
    this.body.scrollTop = 0;
    this.draw(true);
  }

  append(rows) {
    this.rows = this.rows.concat(rows);
    this.draw(true);
  }

  prepend(rows) {
    if (!rows.length) return;
    const atTop = this.body.scrollTop < this.rowHeight;
    this.rows = rows.concat(this.rows);
    if (!atTop) this.body.scrollTop += rows.length * this.rowHeight;
    this.draw(true);
  }

  /** Rows now in the page (a test reads it: the DOM stays small). */
  rendered() {
    return this.spacer.childElementCount;
  }

  draw(force = false) {
    const n = this.rows.length;
    this.spacer.style.height = `${n * this.rowHeight}px`;
    this.el.setAttribute("aria-rowcount", String(this.total ?? n));
    const top = this.body.scrollTop;
    const view = this.body.clientHeight || 560;
    const first = Math.max(0, Math.floor(top / this.rowHeight) - OVERSCAN);
    const last = Math.min(n, Math.ceil((top + view) / this.rowHeight) + OVERSCAN);
    const key = `${first}:${last}:${n}`;
    if (!force && key === this.drawn) return;
    this.drawn = key;
    const out = [];
    for (let i = first; i < last; i++) {
      const row = this.rows[i];
      const open = () => this.onOpen && this.onOpen(row);
      out.push(h("div", {
        class: "vt-row", role: "row", tabindex: "0", "aria-rowindex": String(i + 2),
        style: { top: `${i * this.rowHeight}px`, height: `${this.rowHeight}px`, gridTemplateColumns: this.template },
        onclick: open,
        onkeydown: (ev) => { if (ev.key === "Enter") open(); },
      }, this.columns.map((c) => h("div", { role: "cell", class: `vt-cell ${c.class || ""}` }, c.render(row)))));
    }
    put(this.spacer, out);
    if (last >= n - OVERSCAN && this.onEnd) this.onEnd();
  }
}
