// The Analytics page's numbers, from the buckets of GET /analytics/counts: in, out and net per
// interval on a full slot grid (empty intervals count 0), occupancy, totals per line and zone,
// and the rows the table view and the CSV share (one source, so they always agree).
import { stamp } from "./analytics_time.js";

/** The index of the slot that holds instant ``t`` (slots ascending; -1 before the first). */
export function slotOf(slots, t) {
  let lo = 0;
  let hi = slots.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (slots[mid] <= t) { found = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return found;
}

/**
 * The traffic of one camera and period on ``slots`` (ms), counted up to ``now``:
 * { in, out, net, occupancy } per slot (null for slots that start after now), totals,
 * per line { name, in, out, inLabel, outLabel } and per zone { name, entries }, and the
 * buckets per line direction or zone for the per-class charts (``series``).
 *
 * "In" and "out" add up every line of the camera, each by its own direction; occupancy is
 * in minus out since the start of the period.
 */
export function traffic(items, slots, lines, now) {
  const size = slots.length;
  const live = slots.map((t) => t <= now);
  const zeros = () => slots.map((_, i) => (live[i] ? 0 : null));
  const result = { in: zeros(), out: zeros(), lines: new Map(), zones: new Map(), series: new Map() };
  const labels = new Map(lines.map((l) => [l.name, { in: l.in_label || "in", out: l.out_label || "out" }]));
  for (const b of items) {
    const i = slotOf(slots, Date.parse(b.start));
    if (i < 0 || i >= size) continue;
    if (b.direction) {
      const own = labels.get(b.name) ?? { in: "in", out: "out" };
      if (!result.lines.has(b.name)) result.lines.set(b.name, { name: b.name, in: 0, out: 0, inLabel: own.in, outLabel: own.out });
      result.lines.get(b.name)[b.direction] += b.count;
      result[b.direction][i] = (result[b.direction][i] ?? 0) + b.count;
      const key = `Line ${b.name} · ${own[b.direction]}`;
      if (!result.series.has(key)) result.series.set(key, []);
      result.series.get(key).push(b);
    } else {
      if (!result.zones.has(b.name)) result.zones.set(b.name, { name: b.name, entries: 0 });
      result.zones.get(b.name).entries += b.count;
      const key = `Zone ${b.name} · entries`;
      if (!result.series.has(key)) result.series.set(key, []);
      result.series.get(key).push(b);
    }
  }
  result.net = slots.map((_, i) => (live[i] ? result.in[i] - result.out[i] : null));
  let running = 0;
  result.occupancy = result.net.map((v) => (v === null ? null : (running += v)));
  const sum = (values) => values.reduce((a, v) => a + (v ?? 0), 0);
  result.totals = { in: sum(result.in), out: sum(result.out), net: sum(result.in) - sum(result.out) };
  return result;
}

/** Per slot, the counts of one class series (bucket list) on ``slots``. */
export function perClass(buckets, slots) {
  const classes = [...new Set(buckets.map((b) => b.class_name))].sort();
  return classes.map((c) => {
    const values = slots.map(() => 0);
    for (const b of buckets) {
      if (b.class_name !== c) continue;
      const i = slotOf(slots, Date.parse(b.start));
      if (i >= 0) values[i] += b.count;
    }
    return { name: c, values, total: values.reduce((a, v) => a + v, 0) };
  });
}

/**
 * The table's and the CSV's rows: a header, then one row per slot up to now.
 * ``a`` is { name, slots, data } (``data`` from ``traffic``); ``b`` optional, aligned slot by slot.
 */
export function rowsOf(tz, a, b = null) {
  const header = [`Start (${tz})`, "Start (UTC)", "In", "Out", "Net", "Occupancy"];
  const lineNames = [...a.data.lines.values()];
  for (const l of lineNames) header.push(`${l.name} ${l.inLabel}`, `${l.name} ${l.outLabel}`);
  if (b) header.push(`${b.name}: start (${tz})`, `${b.name}: in`, `${b.name}: out`, `${b.name}: net`, `${b.name}: occupancy`);
  const rows = [header];
  a.slots.forEach((t, i) => {
    if (a.data.in[i] === null) return;
    const row = [stamp(tz, t), new Date(t).toISOString(), a.data.in[i], a.data.out[i], a.data.net[i], a.data.occupancy[i]];
    const perLine = a.perLine?.[i] ?? new Map();
    for (const l of lineNames) row.push(perLine.get(`${l.name}/in`) ?? 0, perLine.get(`${l.name}/out`) ?? 0);
    if (b) {
      const live = i < b.slots.length && b.data.in[i] !== null;
      row.push(i < b.slots.length ? stamp(tz, b.slots[i]) : "",
        live ? b.data.in[i] : "", live ? b.data.out[i] : "", live ? b.data.net[i] : "", live ? b.data.occupancy[i] : "");
    }
    rows.push(row);
  });
  return rows;
}

/** Crossings per slot and line direction: a Map "line/in" → count, per slot. */
export function perLine(items, slots) {
  const out = slots.map(() => new Map());
  for (const b of items) {
    if (!b.direction) continue;
    const i = slotOf(slots, Date.parse(b.start));
    if (i < 0) continue;
    const key = `${b.name}/${b.direction}`;
    out[i].set(key, (out[i].get(key) ?? 0) + b.count);
  }
  return out;
}

/** RFC 4180 CSV of ``rows`` (CRLF line ends, fields quoted when they need it). */
export function csvOf(rows) {
  const cell = (v) => {
    let text = String(v ?? "");
    // A name that a spreadsheet would run as a formula is kept as text.
    if (typeof v === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return `${rows.map((r) => r.map(cell).join(",")).join("\r\n")}\r\n`;
}
