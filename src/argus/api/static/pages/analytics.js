// Analytics: counts over time (SVG bars), heatmap over the camera image, dwell table.
import { blobUrl, get } from "../api.js";
import { field, h } from "../dom.js";
import { recountPanel } from "./recount.js";

const SVG = "http://www.w3.org/2000/svg";

const SECONDS = { minute: 60, hour: 3600, day: 86400 };

const PALETTE = ["#3d8bfd", "#f5a524", "#4cc38a", "#e5484d", "#a78bfa", "#2dd4bf", "#f472b6", "#94a3b8"];
const colours = new Map();
function colour(className) {
  if (!colours.has(className)) colours.set(className, PALETTE[colours.size % PALETTE.length]);
  return colours.get(className);
}

function svgEl(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/**
 * One chart per line direction or zone: a bar per interval of the period
 * (empty intervals stay empty) on a shared time axis, stacked by class.
 */
function barChart(title, buckets, since, until, interval) {
  const width = 600;
  const height = 140;
  const span = SECONDS[interval] * 1000;
  // The axis starts at the interval boundary at or before `since`, in the buckets'
  // own phase (days start at local midnight), so every bucket has its own slot.
  const phase = buckets.length ? ((new Date(buckets[0].start) % span) + span) % span : 0;
  const start = since - ((((since - phase) % span) + span) % span);
  const slots = Math.max(1, Math.min(500, Math.ceil((until - start) / span)));
  const step = width / slots;
  const bySlot = new Map();
  for (const b of buckets) {
    const i = Math.min(slots - 1, Math.max(0, Math.round((new Date(b.start) - start) / span)));
    if (!bySlot.has(i)) bySlot.set(i, []);
    bySlot.get(i).push(b);
  }
  const totals = [...bySlot.values()].map((list) => list.reduce((n, b) => n + b.count, 0));
  const max = Math.max(1, ...totals);
  const classes = [...new Set(buckets.map((b) => b.class_name))].sort();
  const total = buckets.reduce((n, b) => n + b.count, 0);
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height + 20}`, class: "chart", role: "img",
    "aria-label": `${title}: ${total} in the period, at most ${max} per ${interval}` });
  svg.append(svgEl("line", { x1: 0, y1: height + 0.5, x2: width, y2: height + 0.5, class: "axis" }));
  for (const [i, list] of bySlot) {
    let y = height;
    for (const b of list.sort((a, c) => a.class_name.localeCompare(c.class_name))) {
      const bar = (b.count / max) * height;
      y -= bar;
      const rect = svgEl("rect", { x: i * step + Math.min(1, step / 4), y, width: Math.max(1, step - Math.min(2, step / 2)), height: bar,
        fill: colour(b.class_name), "data-slot": i });
      rect.append(svgEl("title", {}, `${new Date(b.start).toLocaleString()}: ${b.count} ${b.class_name}`));
      svg.append(rect);
    }
  }
  const clock = (t) => new Date(t).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  svg.append(svgEl("text", { x: 0, y: height + 15, "text-anchor": "start" }, clock(start)));
  svg.append(svgEl("text", { x: width / 2, y: height + 15, "text-anchor": "middle" }, `max ${max} per ${interval}`));
  svg.append(svgEl("text", { x: width, y: height + 15, "text-anchor": "end" }, clock(start + slots * span)));
  const legend = h("ul", { class: "legend", "aria-label": `Classes of ${title}` }, classes.map((c) => {
    const n = buckets.filter((b) => b.class_name === c).reduce((k, b) => k + b.count, 0);
    return h("li", {}, h("span", { class: "swatch", style: `background:${colour(c)}` }), `${c}: ${n}`);
  }));
  return h("figure", { class: "chart-box" }, h("figcaption", {}, `${title} · ${total} in the period`), svg, legend);
}

export async function analyticsView() {
  const cameras = (await get("/cameras")).items;
  const camera = h("select", { name: "camera" }, cameras.map((c) => h("option", { value: c.id }, c.name)));
  const interval = h("select", { name: "interval" }, ["minute", "hour", "day"].map((i) => h("option", { value: i }, i)));
  const hours = h("input", { name: "hours", type: "number", min: "1", max: "720", value: "1" });
  const out = h("div", {});
  let latest = 0;
  let shown = null;
  async function load() {
    const mine = ++latest;
    if (!camera.value) { out.replaceChildren(h("p", {}, "No cameras.")); return; }
    const since = new Date(Date.now() - Number(hours.value) * 3600_000).toISOString();
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const q = new URLSearchParams({ camera_id: camera.value, interval: interval.value, since, tz });
    const [counts, dwell, lines] = await Promise.all([get(`/analytics/counts?${q}`),
      get(`/analytics/dwell?${new URLSearchParams({ camera_id: camera.value, since })}`),
      get(`/cameras/${camera.value}/lines`)]);
    // A line's directions by its own labels (eastbound / westbound), as configured.
    const labels = new Map(lines.items.map((l) => [l.name, { in: l.in_label, out: l.out_label }]));
    const series = new Map();
    for (const b of counts.items) {
      const direction = labels.get(b.name)?.[b.direction] ?? b.direction;
      const key = b.direction ? `Line ${b.name} · ${direction}` : `Zone ${b.name} · entries`;
      if (!series.has(key)) series.set(key, []);
      series.get(key).push(b);
    }
    // The server blends the period's heatmap over the camera's latest frame.
    const heat = await blobUrl(`/cameras/${camera.value}/heatmap.png?${new URLSearchParams({ since })}`).catch(() => null);
    if (mine !== latest) { if (heat) URL.revokeObjectURL(heat); return; }  // a newer choice is loading
    if (shown) URL.revokeObjectURL(shown);
    shown = heat;
    out.replaceChildren(...[
      h("h2", {}, "Counts"),
      series.size ? [...series].map(([k, v]) => barChart(k, v, new Date(counts.since), new Date(counts.until), interval.value)) : h("p", {}, "No counts in this period."),
      h("h2", {}, "Heatmap"),
      h("div", { class: "heat" }, heat ? h("img", { src: heat, alt: "Heatmap of where objects stood" }) : h("p", {}, "No heatmap for this period.")),
      h("h2", {}, "Dwell"),
      h("table", { "aria-label": "Dwell statistics" },
        h("thead", {}, h("tr", {}, ["Zone", "Class", "Exits", "Mean s", "Max s"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, dwell.items.map((d) => h("tr", {}, h("td", {}, d.zone), h("td", {}, d.class_name),
          h("td", {}, String(d.count)), h("td", {}, d.mean_seconds.toFixed(1)), h("td", {}, d.max_seconds.toFixed(1))))))].flat());
  }
  [camera, interval, hours].forEach((i) => i.addEventListener("change", load));
  await load();
  return { node: h("div", {}, h("h1", {}, "Analytics"),
    h("form", { class: "filters", "aria-label": "Analytics period", onsubmit: (e) => e.preventDefault() },
      field("Camera", camera), field("Interval", interval), field("Last hours", hours)), out,
    recountPanel(cameras)) };
}
