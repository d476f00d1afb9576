// Line charts as SVG, drawn from series of [x, y] points: one axis of time, one of values,
// a legend, and a title a screen reader reads (the figures are also in a table beside it).

const NS = "http://www.w3.org/2000/svg";
const COLORS = ["#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#be185d", "#4d7c0f"];

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function ticks(lo, hi, n) {
  if (hi <= lo) return [lo];
  const step0 = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) || step0;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step / 1e6; v += step) out.push(v);
  return out;
}

/** `series`: [{name, points: [[xMs, y], ...]}]; `format` renders a value. */
export function lineChart({ title, series, format = (v) => String(v), width = 520, height = 180 }) {
  const pad = { l: 56, r: 12, t: 10, b: 26 };
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => v !== null);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height + 24}`, role: "img", class: "chart" });
  root.append(svg("title", {}, title));
  if (!xs.length || !ys.length) {
    root.append(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "empty" }, "No data in this range"));
    return root;
  }
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [0, Math.max(...ys) || 1];
  const X = (x) => pad.l + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * (width - pad.l - pad.r);
  const Y = (y) => pad.t + (1 - (y - y0) / (y1 - y0)) * (height - pad.t - pad.b);
  for (const t of ticks(y0, y1, 4)) {
    root.append(svg("line", { x1: pad.l, x2: width - pad.r, y1: Y(t), y2: Y(t), class: "grid" }));
    root.append(svg("text", { x: pad.l - 6, y: Y(t) + 4, "text-anchor": "end", class: "tick" }, format(t)));
  }
  const span = x1 - x0;
  [[x0, "start"], [x0 + span / 2, "middle"], [x1, "end"]].forEach(([t, anchor]) => {
    const d = new Date(t);
    const label = span > 2 * 86400e3 ? d.toISOString().slice(5, 10) : d.toISOString().slice(11, 16);
    root.append(svg("text", { x: X(t), y: height - 6, "text-anchor": anchor, class: "tick" }, label));
  });
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => p[1] !== null);
    if (!pts.length) return;
    const color = COLORS[i % COLORS.length];
    const d = pts.map((p, j) => `${j ? "L" : "M"}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join("");
    root.append(svg("path", { d, fill: "none", stroke: color, "stroke-width": 2 }));
    if (pts.length === 1) root.append(svg("circle", { cx: X(pts[0][0]), cy: Y(pts[0][1]), r: 3, fill: color }));
    const lx = pad.l + (i % 4) * 120;
    const ly = height + 8 + Math.floor(i / 4) * 14;
    root.append(svg("rect", { x: lx, y: ly - 8, width: 10, height: 10, fill: color }));
    root.append(svg("text", { x: lx + 14, y: ly + 1, class: "legend" }, (s.name || "all").slice(0, 16)));
  });
  return root;
}
