// One metric as a hand-drawn SVG line over [start, end] (no library needed
// for three small series).
import { h } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";
const svg = (tag, attrs, ...kids) => {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...kids);
  return el;
};

export function metricsChart(title, points, start, end) {
  const W = 600, H = 140, L = 44, B = 18;
  const t0 = start.getTime(), t1 = end.getTime();
  const max = points.length ? Math.max(1e-9, ...points.map((p) => p[1])) : 1;
  const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - 4);
  const y = (v) => 6 + (1 - v / max) * (H - B - 10);
  const path = points.filter((p) => p[0] >= t0).sort((a, b) => a[0] - b[0])
    .map((p, i) => `${i ? "L" : "M"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ");
  const fmt = (v) => (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toPrecision(2));
  const last = points.length ? points[points.length - 1][1] : null;
  const summary = points.length ? `${points.length} point${points.length === 1 ? "" : "s"}, latest ${fmt(last)}, highest ${fmt(max)}` : "no data yet";
  return h("figure", { class: "chart" },
    h("figcaption", {}, `${title}: ${summary}`),
    svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${title}: ${summary}` },
      svg("line", { x1: L, y1: H - B, x2: W - 4, y2: H - B, class: "axis" }),
      svg("line", { x1: L, y1: 6, x2: L, y2: H - B, class: "axis" }),
      svg("text", { x: L - 4, y: 12, "text-anchor": "end" }, fmt(max)),
      svg("text", { x: L - 4, y: H - B, "text-anchor": "end" }, "0"),
      svg("text", { x: L, y: H - 4 }, "-15 min"),
      svg("text", { x: W - 4, y: H - 4, "text-anchor": "end" }, "now"),
      path ? svg("path", { d: path, class: "series" }) : ""));
}
