// Periods of the Analytics page on the site's clock (an IANA zone from GET /site), not the browser's:
// "today" at a store in New York starts at New York's midnight wherever the manager sits.
// Plain Intl, no library: a zone's offset at an instant is read from formatToParts.

const FORMATS = new Map();
function parts(tz, t) {
  if (!FORMATS.has(tz)) {
    FORMATS.set(tz, new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric",
      month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" }));
  }
  const out = {};
  for (const p of FORMATS.get(tz).formatToParts(new Date(t))) if (p.type !== "literal") out[p.type] = Number(p.value);
  out.hour %= 24;
  return out;
}

/** The wall clock of ``tz`` at instant ``t`` (ms): { year, month (1-12), day, hour, minute, second, weekday (0 = Sunday) }. */
export function wallOf(tz, t) {
  const p = parts(tz, t);
  return { ...p, weekday: new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay() };
}

/** How far the wall clock of ``tz`` is ahead of UTC at instant ``t``, in ms. */
function offsetAt(tz, t) {
  const p = parts(tz, t);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(t / 1000) * 1000;
}

/**
 * The instant at which the clock of ``tz`` shows the given wall time (fields overflow like
 * Date.UTC: day 0 is the last day of the month before). A time skipped by a DST change maps
 * to the instant after the gap.
 */
export function zonedInstant(tz, year, month, day, hour = 0, minute = 0) {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const first = wall - offsetAt(tz, wall);
  return wall - offsetAt(tz, first);
}

const DAY = { today: 0, yesterday: -1 };

/**
 * A preset period on the clock of ``tz`` as { start, end } (ms, end exclusive): "today" and
 * "yesterday" are whole days and "week" is this ISO week from Monday; they may reach past ``now``.
 */
export function presetPeriod(preset, tz, now = Date.now()) {
  const w = wallOf(tz, now);
  if (preset === "week") {
    const monday = w.day - ((w.weekday + 6) % 7);
    return { start: zonedInstant(tz, w.year, w.month, monday), end: zonedInstant(tz, w.year, w.month, monday + 7) };
  }
  const day = w.day + (DAY[preset] ?? 0);
  return { start: zonedInstant(tz, w.year, w.month, day), end: zonedInstant(tz, w.year, w.month, day + 1) };
}

/** The period just before: the day before a day, the week before a week, else the same length before. */
export function previousPeriod(preset, period, tz) {
  const w = wallOf(tz, period.start);
  const back = preset === "week" ? 7 : preset === "custom" ? null : 1;
  if (back === null) return { start: period.start - (period.end - period.start), end: period.start };
  return { start: zonedInstant(tz, w.year, w.month, w.day - back, w.hour, w.minute),
    end: period.start };
}

/** A ``datetime-local`` value ("2026-12-06T14:30") read on the clock of ``tz``; NaN when empty. */
export function instantOfLocal(tz, value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value ?? "");
  if (!m) return NaN;
  return zonedInstant(tz, Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
}

const pad = (n) => String(n).padStart(2, "0");

/** The ``datetime-local`` value of instant ``t`` on the clock of ``tz``. */
export function localOfInstant(tz, t) {
  const w = wallOf(tz, t);
  return `${w.year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}`;
}

/** "2026-12-06 14:00" on the clock of ``tz`` (the CSV's and table's time). */
export function stamp(tz, t) {
  return localOfInstant(tz, t).replace("T", " ");
}

/** Human text of an instant on the clock of ``tz`` ("Sun 6 Dec, 14:00"). */
export function label(tz, t, options) {
  return new Intl.DateTimeFormat(undefined, { timeZone: tz, hourCycle: "h23", ...options }).format(new Date(t));
}

const STEP_MS = { minute: 60_000, hour: 3_600_000 };

/**
 * The starts of the intervals that tile ``[start, end)`` on the clock of ``tz`` (ms): minutes,
 * local full hours, or local midnights (a day with a DST change lasts 23 or 25 hours, as the
 * server's buckets do). The first starts at or before ``start``.
 */
export function slotStarts(start, end, interval, tz, limit = 3000) {
  const w = wallOf(tz, start);
  const slots = [];
  if (interval === "day") {
    for (let i = 0; slots.length < limit; i += 1) {
      const t = zonedInstant(tz, w.year, w.month, w.day + i);
      if (t >= end) break;
      slots.push(t);
    }
    return slots;
  }
  const step = STEP_MS[interval];
  const first = interval === "hour" ? start - w.minute * 60_000 - w.second * 1000 - (start % 1000)
    : start - w.second * 1000 - (start % 1000);
  for (let t = first; t < end && slots.length < limit; t += step) slots.push(t);
  return slots;
}

/** The interval a period reads best in: minutes up to 3 hours, hours up to 2 days, else days. */
export function autoInterval(span) {
  if (span <= 3 * 3_600_000) return "minute";
  if (span <= 2 * 86_400_000) return "hour";
  return "day";
}

/** The longest period (ms) the server answers per interval (MAX_SPAN of services/analytics.py). */
export const MAX_SPAN_MS = { minute: 2 * 86_400_000, hour: 93 * 86_400_000, day: 366 * 86_400_000 };
