// SVG time charts with labelled axes (values, hour labels), drawn at the width they are shown at
// so that text stays 11-12 px on a phone; and a PNG of several charts through a canvas.
//
// Colours are SVG presentation attributes (a light theme: what a PNG or a printout shows); the
// page's stylesheet (css/analytics.css) restyles them for the dark screen.
import { h } from "../dom.js";
import { label, wallOf } from "./analytics_time.js";

const SVG = "http://www.w3.org/2000/svg";
const FONT = "system-ui, sans-serif";
const INK = "#1f2933";
const GRID = "#d5dae1";
const MARGIN = { left: 52, right: 12, top: 14, bottom: 46 };

function svgEl(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** A step of 1, 2 or 5 times a power of ten (at least ``min``) that splits ``span`` into about ``ticks``. */
function niceStep(span, ticks, min = 1) {
  const raw = Math.max(span / ticks, min);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw - 1e-9);
  return Math.max(min, step);
}

/**
 * The value axis of some data: { low, high, step } with round ticks, 0 always on it.
 * Give every chart that must be compared the same axis (one scale).
 */
export function valueAxis(values, ticks = 4) {
  const finite = values.filter((v) => Number.isFinite(v));
  const low = Math.min(0, ...finite);
  const high = Math.max(1, ...finite);
  const step = niceStep(high - low, ticks);
  return { low: Math.floor(low / step) * step, high: Math.ceil(high / step) * step, step };
}

const PER = { minute: "minute", hour: "hour", day: "day" };

/** Label steps per interval, in slots: round clock times (every 15 minutes, 3 hours, a week). */
const LABEL_STEPS = { minute: [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720], hour: [1, 2, 3, 4, 6, 12, 24, 48, 72, 168],
  day: [1, 2, 7, 14, 28, 56, 91] };

/** Which slots get a time label: those on a round clock time, at least ``gap`` px apart. */
function labelled(slots, interval, tz, stepPx, gap) {
  const steps = LABEL_STEPS[interval];
  const every = steps.find((k) => k * stepPx >= gap) ?? steps[steps.length - 1];
  if (interval === "day") return (t, i) => i % every === 0;
  const minutes = every * (interval === "hour" ? 60 : 1);
  return (t) => {
    const w = wallOf(tz, t);
    const ofDay = w.hour * 60 + w.minute;
    if (minutes <= 1440) return ofDay % minutes === 0;
    return ofDay === 0 && Math.round((t - slots[0]) / 86_400_000) % (minutes / 1440) === 0;
  };
}

function slotText(t, interval, tz, multiDay) {
  if (interval === "day") return label(tz, t, { weekday: "short", day: "numeric", month: "short" });
  const clock = label(tz, t, { hour: "2-digit", minute: "2-digit" });
  if (multiDay && clock === "00:00") return label(tz, t, { weekday: "short", day: "numeric" });
  return clock;
}

/**
 * A time chart: one slot per interval (``slots``, ms), ``series`` of { name, colour, values }
 * drawn as bars side by side ("group"), stacked bars ("stack") or lines ("line"), on ``axis``
 * (from ``valueAxis``). ``values[i]`` null: nothing to draw for slot ``i`` (the future).
 * Every bar carries data-slot and a <title> with its time and value.
 */
export function timeChart({ title, slots, interval, tz, series, mode = "group", axis, yTitle,
  width = 640, height = 220, className = "trend" }) {
  const plotW = Math.max(40, width - MARGIN.left - MARGIN.right);
  const plotH = Math.max(40, height - MARGIN.top - MARGIN.bottom);
  const n = Math.max(1, slots.length);
  const step = plotW / n;
  const y = (v) => MARGIN.top + plotH - ((v - axis.low) / (axis.high - axis.low)) * plotH;
  const x = (i) => MARGIN.left + i * step;
  const multiDay = slots.length > 1 && slots[slots.length - 1] - slots[0] >= 86_400_000;
  const total = series.reduce((sum, s) => sum + s.values.reduce((a, v) => a + (v ?? 0), 0), 0);
  const peak = Math.max(0, ...series.flatMap((s) => s.values.filter((v) => v !== null)));
  const summary = mode === "line" ? `from ${axis.low} to ${axis.high}`
    : `${total} in the period, at most ${peak} per ${PER[interval]}`;
  const svg = svgEl("svg", { xmlns: SVG, viewBox: `0 0 ${width} ${height}`, width, height, class: className,
    role: "img", "aria-label": `${title}: ${summary}`, "font-family": FONT, "font-size": 12 });
  // Value axis: gridlines with their values, and its title.
  for (let v = axis.low; v <= axis.high + 1e-9; v += axis.step) {
    svg.append(svgEl("line", { x1: MARGIN.left, x2: MARGIN.left + plotW, y1: y(v), y2: y(v),
      stroke: v === 0 ? INK : GRID, class: v === 0 ? "axis" : "grid" }));
    svg.append(svgEl("text", { x: MARGIN.left - 6, y: y(v) + 4, "text-anchor": "end", fill: INK, class: "tick" },
      String(Math.round(v * 100) / 100)));
  }
  svg.append(svgEl("text", { x: 12, y: MARGIN.top + plotH / 2, "text-anchor": "middle", fill: INK, class: "axis-title",
    transform: `rotate(-90 12 ${MARGIN.top + plotH / 2})` }, yTitle));
  // Time axis: a tick and a label every few slots, and its title (with the zone).
  const shows = labelled(slots, interval, tz, step, interval === "day" ? 84 : 52);
  slots.forEach((t, i) => {
    if (!shows(t, i)) return;
    const cx = mode === "line" ? x(i) : x(i) + step / 2;
    svg.append(svgEl("line", { x1: cx, x2: cx, y1: MARGIN.top + plotH, y2: MARGIN.top + plotH + 4, stroke: INK, class: "axis" }));
    svg.append(svgEl("text", { x: cx, y: MARGIN.top + plotH + 17, "text-anchor": "middle", fill: INK, class: "tick",
      "data-time": new Date(t).toISOString() }, slotText(t, interval, tz, multiDay)));
  });
  svg.append(svgEl("text", { x: MARGIN.left + plotW / 2, y: height - 6, "text-anchor": "middle", fill: INK,
    class: "axis-title" }, `${interval === "day" ? "Day" : "Time"} (${tz})`));
  const tip = (t, s, v) => `${label(tz, t, { weekday: "short", day: "numeric", month: "short", hour: "2-digit",
    minute: "2-digit" })}: ${v} ${s.name}`;
  if (mode === "line") {
    for (const s of series) {
      // A level holds at the end of its interval: the line starts at 0 and steps at each boundary.
      const points = s.values.map((v, i) => (v === null ? null : `${x(i + 1)},${y(v)}`)).filter(Boolean);
      if (points.length) svg.append(svgEl("polyline", { points: [`${x(0)},${y(0)}`, ...points].join(" "), fill: "none",
        stroke: s.colour, "stroke-width": 2, "data-series": s.name }));
      s.values.forEach((v, i) => {
        if (v === null || step < 6) return;
        const dot = svgEl("circle", { cx: x(i + 1), cy: y(v), r: 2.5, fill: s.colour });
        const end = i + 1 < slots.length ? slots[i + 1] : null;
        dot.append(svgEl("title", {}, end === null ? `${v} ${s.name} at the end` : tip(end, s, v)));
        svg.append(dot);
      });
    }
    return svg;
  }
  const gap = Math.min(2, step / 4);
  const barW = (step - 2 * gap) / (mode === "group" ? series.length : 1);
  const valued = step >= 22 && (mode === "stack" || barW >= 16);
  slots.forEach((t, i) => {
    let base = 0;
    series.forEach((s, k) => {
      const v = s.values[i];
      if (!v) return;
      const from = mode === "stack" ? base : 0;
      base = mode === "stack" ? base + v : base;
      const left = x(i) + gap + (mode === "group" ? k * barW : 0);
      const rect = svgEl("rect", { x: left, y: y(from + v), width: Math.max(1, barW - (mode === "group" ? 1 : 0)),
        height: Math.max(0, y(from) - y(from + v)), fill: s.colour, "data-slot": i, "data-series": s.name });
      rect.append(svgEl("title", {}, tip(t, s, v)));
      svg.append(rect);
      if (valued && mode === "group") {
        svg.append(svgEl("text", { x: left + barW / 2, y: y(v) - 3, "text-anchor": "middle", fill: INK,
          class: "value", "font-size": 11 }, String(v)));
      }
    });
    if (valued && mode === "stack" && base) {
      svg.append(svgEl("text", { x: x(i) + step / 2, y: y(base) - 3, "text-anchor": "middle", fill: INK,
        class: "value", "font-size": 11 }, String(base)));
    }
  });
  return svg;
}

/** A chart in a figure with its caption and a legend of its series. */
export function chartFigure(caption, svg, series, legendName) {
  return h("figure", { class: "chart-box" }, h("figcaption", {}, caption), svg,
    h("ul", { class: "legend", "aria-label": legendName },
      series.map((s) => h("li", {}, h("span", { class: "swatch", style: `background:${s.colour}` }), s.legend ?? s.name))));
}

function loadImage(url) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error("chart image failed to load"));
    image.src = url;
  });
}

/**
 * One PNG of ``figures`` (chart figures) stacked under a ``heading``: each chart's SVG is
 * drawn onto a canvas (white, 2x for sharpness) with its caption. A Blob of type image/png.
 */
export async function chartsPng(heading, figures) {
  const scale = 2;
  const pad = 16;
  const parts = [];
  for (const figure of figures) {
    const svg = figure.querySelector("svg");
    if (!svg) continue;
    const width = Number(svg.getAttribute("width"));
    const height = Number(svg.getAttribute("height"));
    const text = new XMLSerializer().serializeToString(svg);
    const url = URL.createObjectURL(new Blob([text], { type: "image/svg+xml" }));
    try {
      parts.push({ caption: figure.querySelector("figcaption")?.textContent ?? "", width, height, image: await loadImage(url) });
    } finally {
      URL.revokeObjectURL(url);
    }
  }
  const width = Math.max(320, ...parts.map((p) => p.width)) + 2 * pad;
  const height = pad + 28 + parts.reduce((sum, p) => sum + 24 + p.height + pad, 0);
  const canvas = document.createElement("canvas");
  canvas.width = width * scale;
  canvas.height = height * scale;
  const ctx = canvas.getContext("2d");
  ctx.scale(scale, scale);
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = INK;
  let size = 16;  // the heading shrinks to fit the image (a long camera name and period)
  do {
    ctx.font = `600 ${size}px ${FONT}`;
    size -= 1;
  } while (size >= 10 && ctx.measureText(heading).width > width - 2 * pad);
  ctx.fillText(heading, pad, pad + 16);
  let top = pad + 28;
  for (const p of parts) {
    ctx.font = `14px ${FONT}`;
    ctx.fillText(p.caption, pad, top + 16);
    ctx.drawImage(p.image, pad, top + 24, p.width, p.height);
    top += 24 + p.height + pad;
  }
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("no PNG"))), "image/png");
  });
}

/** Save ``blob`` as ``name`` through a temporary link. */
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
