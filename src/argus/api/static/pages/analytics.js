// Analytics: counts over time (SVG bars), heatmap over the camera image, dwell table.
import { blobUrl, get } from "../api.js";
import { field, h } from "../dom.js";

const SVG = "http://www.w3.org/2000/svg";

const SECONDS = { minute: 60, hour: 3600, day: 86400 };

/** One bar per interval of the period (empty intervals stay empty), on a shared time axis. */
function barChart(title, buckets, since, until, interval) {
  const width = 600;
  const height = 160;
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height + 20}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `${title}: ${buckets.map((b) => b.count).join(", ")}`);
  const span = SECONDS[interval] * 1000;
  const slots = Math.max(1, Math.min(500, Math.ceil((until - since) / span)));
  const step = width / slots;
  buckets.forEach((b) => {
    const i = Math.min(slots - 1, Math.max(0, Math.floor((new Date(b.start) - since) / span)));
    const rect = document.createElementNS(SVG, "rect");
    const bar = (b.count / max) * height;
    Object.entries({ x: i * step + 1, y: height - bar, width: Math.max(1, step - 2), height: bar })
      .forEach(([k, v]) => rect.setAttribute(k, v));
    const tip = document.createElementNS(SVG, "title");
    tip.textContent = `${new Date(b.start).toLocaleString()}: ${b.count}`;
    rect.append(tip);
    svg.append(rect);
  });
  const label = document.createElementNS(SVG, "text");
  label.setAttribute("x", "0");
  label.setAttribute("y", String(height + 15));
  label.textContent = `max ${max} per ${interval}`;
  svg.append(label);
  return h("figure", {}, h("figcaption", {}, title), svg);
}

export async function analyticsView() {
  const cameras = (await get("/cameras")).items;
  const camera = h("select", { name: "camera" }, cameras.map((c) => h("option", { value: c.id }, c.name)));
  const interval = h("select", { name: "interval" }, ["minute", "hour", "day"].map((i) => h("option", { value: i }, i)));
  const hours = h("input", { name: "hours", type: "number", min: "1", max: "720", value: "1" });
  const out = h("div", {});
  async function load() {
    if (!camera.value) { out.replaceChildren(h("p", {}, "No cameras.")); return; }
    const since = new Date(Date.now() - Number(hours.value) * 3600_000).toISOString();
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const q = new URLSearchParams({ camera_id: camera.value, interval: interval.value, since, tz });
    const [counts, dwell] = await Promise.all([get(`/analytics/counts?${q}`),
      get(`/analytics/dwell?${new URLSearchParams({ camera_id: camera.value, since })}`)]);
    const series = new Map();
    for (const b of counts.items) {
      const key = `${b.name}${b.direction ? ` ${b.direction}` : ""} · ${b.class_name}`;
      if (!series.has(key)) series.set(key, []);
      series.get(key).push(b);
    }
    const [snapshot, heat] = await Promise.all([
      blobUrl(`/cameras/${camera.value}/snapshot`).catch(() => null),
      blobUrl(`/cameras/${camera.value}/heatmap.png?${new URLSearchParams({ since })}`).catch(() => null)]);
    out.replaceChildren(...[
      h("h2", {}, "Counts"),
      series.size ? [...series].map(([k, v]) => barChart(k, v, new Date(counts.since), new Date(counts.until), interval.value)) : h("p", {}, "No counts in this period."),
      h("h2", {}, "Heatmap"),
      h("div", { class: "heat" }, snapshot && h("img", { src: snapshot, alt: "Camera image" }),
        heat && h("img", { class: snapshot ? "overlay" : "", src: heat, alt: "Heatmap of where objects stood" })),
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
      field("Camera", camera), field("Interval", interval), field("Last hours", hours)), out) };
}
