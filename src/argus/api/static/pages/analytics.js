// Analytics for a store manager: a period on the site's clock (today, yesterday, this week or a
// custom range), in / out / net totals, in and out per interval and occupancy on labelled axes,
// another camera or the period before on the same scale, a table view, CSV and PNG export and a
// print layout; then counts per line and class, the heatmap and dwell (H6's panels) and the re-count panel.
// `#/analytics?camera=<id>` opens a camera.
import { get } from "../api.js";
import { field, h, hashRoute } from "../dom.js";
import { csvOf, perClass, perLine, rowsOf, traffic } from "./analytics_data.js";
import { MAX_SPAN_MS, autoInterval, instantOfLocal, label, localOfInstant, presetPeriod, previousPeriod,
  slotStarts } from "./analytics_time.js";
import { chartFigure, chartsPng, download, timeChart, valueAxis } from "./charts.js";
import { dwellPanel } from "./dwell.js";
import { heatmapPanel } from "./heatmap.js";
import { recountPanel } from "./recount.js";

const PRESETS = [["today", "Today"], ["yesterday", "Yesterday"], ["week", "This week"], ["custom", "Custom range"]];
const BEFORE = { today: "Yesterday", yesterday: "Day before", week: "Last week", custom: "Period before" };
const COLOURS = { in: "#2f6fdf", out: "#d97706", a: "#2f6fdf", b: "#9b4dca", occupancy: "#0f8a5f" };
const PALETTE = ["#3d8bfd", "#f5a524", "#4cc38a", "#e5484d", "#a78bfa", "#2dd4bf", "#f472b6", "#94a3b8"];
const classColours = new Map();
function classColour(name) {
  if (!classColours.has(name)) classColours.set(name, PALETTE[classColours.size % PALETTE.length]);
  return classColours.get(name);
}

/** The site's zones (GET /site); the browser's clock when the site cannot be read. */
async function siteZones() {
  try {
    return await get("/site");
  } catch {
    return { timezone: Intl.DateTimeFormat().resolvedOptions().timeZone, camera_timezones: {} };
  }
}

const REFRESH_MS = 60_000;
const PER = { minute: "per minute", hour: "per hour", day: "per day" };
const periodText = (tz, p) => `${label(tz, p.start, { weekday: "short", day: "numeric", month: "short", hour: "2-digit",
  minute: "2-digit" })} – ${label(tz, p.end, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" })}`;

/** One camera's counts of one period on its slot grid (counted up to now). */
async function load(cameraId, period, interval, tz, now, lines) {
  const until = Math.min(period.end, now);
  const q = new URLSearchParams({ camera_id: cameraId, interval, tz, since: new Date(period.start).toISOString(),
    until: new Date(until).toISOString() });
  const counts = await get(`/analytics/counts?${q}`);
  const axisEnd = interval === "minute" ? until : period.end;  // minutes: no empty rest of the day
  const slots = slotStarts(period.start, axisEnd, interval, tz);
  return { slots, items: counts.items, data: traffic(counts.items, slots, lines, now), perLine: perLine(counts.items, slots) };
}

function totalsTable(a, b) {
  const cols = ["", a.name, ...(b ? [b.name] : [])];
  const row = (name, key) => h("tr", {}, h("th", { scope: "row" }, name),
    [a, b].filter(Boolean).map((s) => h("td", { "data-total": key }, String(s.data.totals[key]))));
  return h("table", { class: "totals", "aria-label": "Totals" },
    h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, row("In", "in"), row("Out", "out"), row("Net (in − out)", "net")));
}

function linesTable(data) {
  const lines = [...data.lines.values()];
  const zones = [...data.zones.values()];
  if (!lines.length && !zones.length) return h("p", {}, "Nothing was counted in this period.");
  return h("div", { class: "scroll" }, h("table", { "aria-label": "Per line and zone" },
    h("thead", {}, h("tr", {}, ["Line or zone", "In", "Out", "Net"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, lines.map((l) => h("tr", {}, h("th", { scope: "row" }, `Line ${l.name}`),
      h("td", {}, `${l.in} ${l.inLabel}`), h("td", {}, `${l.out} ${l.outLabel}`), h("td", {}, String(l.in - l.out)))),
    zones.map((z) => h("tr", {}, h("th", { scope: "row" }, `Zone ${z.name}`), h("td", {}, `${z.entries} entries`),
      h("td", {}, "–"), h("td", {}, "–"))))));
}

/** The charts of ``a`` (and ``b``), ``width`` px wide, on shared scales. */
function charts(a, b, interval, tz, width) {
  const height = width < 500 ? 190 : 230;
  const common = { slots: a.slots, interval, tz, width, height };
  const figures = [];
  const flows = b ? [["In", "in"], ["Out", "out"]] : [];
  const countAxis = valueAxis([a, b].filter(Boolean).flatMap((s) => [...s.data.in, ...s.data.out]));
  const yTitle = `Crossings ${PER[interval]}`;  // every counted class, not only people
  if (!b) {
    const series = [{ name: "in", legend: `In: ${a.data.totals.in}`, colour: COLOURS.in, values: a.data.in },
      { name: "out", legend: `Out: ${a.data.totals.out}`, colour: COLOURS.out, values: a.data.out }];
    figures.push(chartFigure(`In and out ${PER[interval]}`,
      timeChart({ ...common, title: `In and out ${PER[interval]}`, series, axis: countAxis, yTitle }), series, "Series of In and out"));
  }
  for (const [name, key] of flows) {
    const series = [{ name: a.name, legend: `${a.name}: ${a.data.totals[key]}`, colour: COLOURS.a, values: a.data[key] },
      { name: b.name, legend: `${b.name}: ${b.data.totals[key]}`, colour: COLOURS.b, values: b.data[key].slice(0, a.slots.length) }];
    figures.push(chartFigure(`${name} ${PER[interval]}`,
      timeChart({ ...common, title: `${name} ${PER[interval]}`, series, axis: countAxis, yTitle }), series, `Series of ${name}`));
  }
  const occupancy = [{ name: a.name, colour: b ? COLOURS.a : COLOURS.occupancy, values: a.data.occupancy },
    ...(b ? [{ name: b.name, colour: COLOURS.b, values: b.data.occupancy.slice(0, a.slots.length) }] : [])];
  figures.push(chartFigure("Occupancy (in − out since the start of the period)",
    timeChart({ ...common, title: "Occupancy", series: occupancy, mode: "line",
      axis: valueAxis(occupancy.flatMap((s) => s.values)), yTitle: "In − out" }), occupancy, "Series of Occupancy"));
  return figures;
}

/** Per line direction and zone, counts stacked by class, all on one scale. */
function classCharts(a, interval, tz, width) {
  const groups = [...a.data.series].map(([title, buckets]) => [title, perClass(buckets, a.slots)]);
  const stacked = groups.flatMap(([, classes]) => a.slots.map((_, i) => classes.reduce((n, c) => n + c.values[i], 0)));
  const axis = valueAxis(stacked);
  return groups.map(([title, classes]) => {
    const total = classes.reduce((n, c) => n + c.total, 0);
    const series = classes.map((c) => ({ name: c.name, legend: `${c.name}: ${c.total}`, colour: classColour(c.name), values: c.values }));
    const svg = timeChart({ title, slots: a.slots, interval, tz, series, mode: "stack", axis, yTitle: `Count ${PER[interval]}`,
      width, height: width < 500 ? 170 : 190, className: "chart" });
    return chartFigure(`${title} · ${total} in the period`, svg, series, `Classes of ${title}`);
  });
}

function dataTable(rows) {
  const [header, ...body] = rows;
  return h("div", { class: "scroll" }, h("table", { "aria-label": "Counts per interval", class: "counts-table" },
    h("thead", {}, h("tr", {}, header.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, body.map((r) => h("tr", {}, r.map((c) => h("td", {}, String(c))))))));
}

export async function analyticsView() {
  const [cameras, site] = await Promise.all([get("/cameras").then((r) => r.items), siteZones()]);
  // A camera elsewhere counts its days on its own clock (the site's camera_timezones).
  const zoneOf = (cameraId) => site.camera_timezones?.[cameraId] || site.timezone;
  const names = new Map(cameras.map((c) => [c.id, c.name]));
  const wanted = hashRoute().query.get("camera");
  const camera = h("select", { name: "camera" }, cameras.map((c) => h("option", { value: c.id, selected: c.id === wanted }, c.name)));
  const preset = h("select", { name: "period" }, PRESETS.map(([v, t]) => h("option", { value: v }, t)));
  const from = h("input", { type: "datetime-local", name: "from" });
  const until = h("input", { type: "datetime-local", name: "until" });
  const custom = h("span", { class: "filters custom-range", hidden: true }, field("From", from), field("Until", until));
  const interval = h("select", { name: "interval" }, [["auto", "Automatic"], ["minute", "minute"], ["hour", "hour"], ["day", "day"]]
    .map(([v, t]) => h("option", { value: v }, t)));
  const compare = h("select", { name: "compare" }, h("option", { value: "" }, "Nothing"),
    h("option", { value: "previous" }, "The period before"),
    cameras.map((c) => h("option", { value: `camera:${c.id}` }, `Camera ${c.name}`)));
  const view = h("select", { name: "view" }, h("option", { value: "charts" }, "Charts"), h("option", { value: "table" }, "Table"));
  const periodLine = h("p", { class: "period", "aria-live": "polite" });
  const summary = h("section", { "aria-label": "Totals of the period", class: "summary" });
  const chartBox = h("section", { "aria-label": "Charts", class: "charts" });
  const tableBox = h("section", { "aria-label": "Table", class: "table-view", hidden: true });
  const detail = h("div", {});
  let heatPanel = null;  // the heatmap panel shown ({ node, cleanup })
  let latest = 0;
  let state = null;  // what the charts and exports draw from
  let tz = zoneOf(camera.value);  // the clock of the chosen camera

  function period(now) {
    if (preset.value !== "custom") return presetPeriod(preset.value, tz, now);
    return { start: instantOfLocal(tz, from.value), end: instantOfLocal(tz, until.value) };
  }

  function drawCharts() {
    if (!state) return;
    const width = Math.max(280, Math.min(1100, chartBox.clientWidth || 640));
    state.width = width;
    const { a, b, interval: every, tz: zone } = state;
    chartBox.replaceChildren(...charts(a, b, every, zone, width),
      ...(a.data.series.size ? [h("h2", {}, "Counts per line and class"), ...classCharts(a, every, zone, width)] : []));
  }

  async function refresh() {
    const mine = ++latest;
    if (!camera.value) { summary.replaceChildren(h("p", {}, "No cameras.")); return; }
    if (hashRoute().page === "analytics") {  // a link to this camera's analytics, without a new navigation
      history.replaceState(null, "", `#/analytics?${new URLSearchParams({ camera: camera.value })}`);
    }
    custom.hidden = preset.value !== "custom";
    tz = zoneOf(camera.value);
    const now = Date.now();
    const p = period(now);
    const chosen = interval.value === "auto" ? autoInterval(Math.min(p.end, now) - p.start) : interval.value;
    const problem = !(p.start < p.end) ? "Choose a range whose end is after its start."
      : p.start >= now ? "This period has not started yet."
        : p.end - p.start > MAX_SPAN_MS[chosen] ? `A period this long needs a longer interval than ${chosen}s.` : null;
    periodLine.dataset.since = Number.isFinite(p.start) ? new Date(p.start).toISOString() : "";
    periodLine.dataset.until = Number.isFinite(p.end) ? new Date(p.end).toISOString() : "";
    periodLine.textContent = problem ?? `${names.get(camera.value)} · ${periodText(tz, p)} (${tz}) · ${PER[chosen]}`;
    if (problem) {
      state = null;
      [summary, chartBox, tableBox, detail].forEach((box) => box.replaceChildren());
      return;
    }
    const other = compare.value.startsWith("camera:") ? compare.value.slice(7) : camera.value;
    const q = previousPeriod(preset.value, p, tz);
    if (compare.value) {
      periodLine.textContent += ` · compared with ${compare.value === "previous" ? periodText(tz, q) : `camera ${names.get(other)}`}`;
    }
    const [lines, otherLines] = await Promise.all([get(`/cameras/${camera.value}/lines`), get(`/cameras/${other}/lines`)]);
    const [a, b] = await Promise.all([load(camera.value, p, chosen, tz, now, lines.items),
      compare.value ? load(other, compare.value === "previous" ? q : p, chosen, tz, now, otherLines.items) : null]);
    if (mine !== latest) return;  // a newer choice is loading
    const presetName = PRESETS.find(([v]) => v === preset.value)[1];
    a.name = compare.value === "previous" ? presetName : names.get(camera.value);
    if (b) b.name = compare.value === "previous" ? BEFORE[preset.value] : names.get(other);
    state = { a, b, interval: chosen, period: p, now, tz };
    summary.replaceChildren(h("h2", {}, "Totals"), totalsTable(a, b), linesTable(a.data));
    drawCharts();
    tableBox.replaceChildren(dataTable(rowsOf(tz, a, b)));
    await details(mine, p, now);
  }

  /** The heatmap and dwell panels of H6 (pages/heatmap.js, pages/dwell.js) for the period so far. */
  async function details(mine, p, now) {
    const since = new Date(p.start).toISOString();
    const end = new Date(Math.min(p.end, now)).toISOString();
    const cameraId = camera.value;
    const [heat, dwell] = await Promise.all([
      heatmapPanel({ cameraId, cameraName: names.get(cameraId), since, until: end }),
      dwellPanel({ cameraId, since, until: end })]);
    if (mine !== latest) { heat.cleanup(); return; }  // a newer choice is loading
    heatPanel?.cleanup();
    heatPanel = heat;
    detail.replaceChildren(heat.node, dwell);
  }

  /** ``refresh`` for an event: a failure is shown on the period line, not thrown into the void. */
  const reload = () => refresh().catch((err) => {
    periodLine.textContent = `The counts could not be loaded: ${err.message}`;
  });

  function fileName(ext) {
    const day = periodLine.dataset.since.slice(0, 10);
    return `analytics-${camera.value}-${preset.value}-${day}.${ext}`;
  }

  const csvButton = h("button", { type: "button", onclick: () => {
    if (!state) return;
    download(new Blob([csvOf(rowsOf(state.tz, state.a, state.b))], { type: "text/csv" }), fileName("csv"));
  } }, "Download CSV");
  const pngButton = h("button", { type: "button", onclick: async () => {
    if (!state) return;
    download(await chartsPng(periodLine.textContent, [...chartBox.querySelectorAll("figure")]), fileName("png"));
  } }, "Download PNG");
  const printButton = h("button", { type: "button", onclick: () => window.print() }, "Print");

  const showView = () => {
    chartBox.hidden = view.value !== "charts";
    tableBox.hidden = view.value !== "table";
    if (!chartBox.hidden) drawCharts();  // drawn at the width it is shown at
  };
  view.addEventListener("change", showView);
  preset.addEventListener("change", () => {
    if (preset.value === "custom" && !from.value) {
      const today = presetPeriod("today", tz);
      from.value = localOfInstant(tz, today.start);
      until.value = localOfInstant(tz, Date.now());
    }
    reload();
  });
  [camera, from, until, interval, compare].forEach((c) => c.addEventListener("change", reload));
  // The charts are drawn at the width they are shown at: again when the page is placed or resized.
  let resized = null;
  const watcher = new ResizeObserver(() => {
    clearTimeout(resized);
    resized = setTimeout(() => {
      if (state && !chartBox.hidden && Math.abs((chartBox.clientWidth || 0) - state.width) > 8) drawCharts();
    }, 100);
  });
  watcher.observe(chartBox);
  // A period that is still running ("today") is counted again every minute.
  const ticker = setInterval(() => {
    if (state && state.period.end > Date.now() && !document.hidden) reload();
  }, REFRESH_MS);

  const node = h("div", { class: "analytics" }, h("h1", {}, "Analytics"),
    h("form", { class: "filters", "aria-label": "Analytics period", onsubmit: (e) => e.preventDefault() },
      field("Camera", camera), field("Period", preset), custom, field("Interval", interval),
      field("Compare with", compare), field("View", view)),
    h("div", { class: "exports", role: "group", "aria-label": "Export" }, csvButton, pngButton, printButton),
    periodLine, summary, chartBox, tableBox, detail, recountPanel(cameras));
  await refresh();
  return { node, cleanup: () => {
    latest += 1;
    watcher.disconnect();
    clearInterval(ticker);
    clearTimeout(resized);
    heatPanel?.cleanup();
  } };
}
