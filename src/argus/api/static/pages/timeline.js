// The timeline bar of the recordings page (pages/recordings.js): recorded segments filled,
// stretches without recording (gaps, up to now) faintly hatched, alert markers coloured by
// severity and event markers above them, a playhead, and time ticks below. Clicking the bar or
// a marker seeks there; the bar is a keyboard slider (arrows move 10 s, Shift+arrows a minute,
// Home/End the first/last recording, N/P the next/previous marker, Space plays or pauses).
//
//   const bar = timelineBar({ onSeek(ms), onToggle() });
//   bar.show({ start, end, segments, gaps, markers });  // ms since the epoch; the API's lists
//   bar.setPosition(ms);  // the playhead (null hides it)
// Times are milliseconds since the epoch throughout; ``at`` turns the API's ISO strings into them.
import { h } from "../dom.js";

const STEP_MS = 10_000;
const BIG_STEP_MS = 60_000;
const TICK_STEPS_MIN = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360];

/** An ISO instant as milliseconds since the epoch. */
export const at = (iso) => Date.parse(iso);

/** A time of day for the bar and the clock: "10:04:23" (local time, seconds shown). */
export const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });

/** A duration for people: "45 s", "3 min 20 s", "2 h 5 min". */
export function span(ms) {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ""}`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ""}`;
}

/** The share (0..1, clamped) of the range ``[start, end)`` at which ``ms`` lies. */
export function share(ms, start, end) {
  return Math.min(1, Math.max(0, (ms - start) / (end - start)));
}

/** Tick times (whole minutes, local) for a range: about ``count`` of them, evenly stepped. */
export function ticks(start, end, count = 6) {
  const wanted = (end - start) / 60_000 / count;
  const step = (TICK_STEPS_MIN.find((m) => m >= wanted) ?? TICK_STEPS_MIN.at(-1)) * 60_000;
  const offset = new Date(start).getTimezoneOffset() * 60_000;  // align on local minutes/hours
  const out = [];
  for (let t = Math.ceil((start - offset) / step) * step + offset; t <= end; t += step) out.push(t);
  return out;
}

const percent = (x) => `${(x * 100).toFixed(3)}%`;

/** A marker's accessible name: "High alert, North line crossed, 10:04:23". */
export function markerName(marker) {
  const what = marker.kind === "alert"
    ? `${marker.severity ? `${marker.severity[0].toUpperCase()}${marker.severity.slice(1)} alert` : "Alert"}`
    : "Event";
  return `${what}, ${marker.label || marker.type}, ${clock(at(marker.time))}`;
}

/** The timeline bar (see the top of this file). */
export function timelineBar({ onSeek, onToggle }) {
  let range = { start: 0, end: 1, segments: [], gaps: [], markers: [] };
  let position = null;
  const lane = h("div", { class: "tl-markers" });
  const track = h("div", { class: "tl-track" });
  const head = h("div", { class: "tl-playhead", hidden: true, "aria-hidden": "true" });
  const scale = h("div", { class: "tl-ticks", "aria-hidden": "true" });
  const bar = h("div", {
    class: "tl-bar", role: "slider", tabindex: "0", "aria-label": "Timeline",
    "aria-valuemin": "0", "aria-valuemax": "0", "aria-valuenow": "0",
  }, lane, track, head);
  const node = h("div", { class: "timeline" }, bar, scale);

  const seekAtX = (clientX) => {
    const box = track.getBoundingClientRect();
    onSeek(range.start + share(clientX - box.left, 0, box.width) * (range.end - range.start));
  };
  bar.addEventListener("click", (event) => {
    if (event.target.closest(".tl-marker")) return;  // the marker seeks to its own time
    seekAtX(event.clientX);
  });
  bar.addEventListener("keydown", (event) => {
    const now = position ?? range.segments[0]?.start ?? range.start;
    const step = event.shiftKey ? BIG_STEP_MS : STEP_MS;
    const to = {
      ArrowLeft: () => now - step, ArrowDown: () => now - step,
      ArrowRight: () => now + step, ArrowUp: () => now + step,
      PageDown: () => now - BIG_STEP_MS, PageUp: () => now + BIG_STEP_MS,
      Home: () => range.segments[0]?.start,
      End: () => range.segments.at(-1) && Math.max(range.segments.at(-1).start, range.segments.at(-1).end - 1000),
      n: () => range.markers.map((m) => m.at).find((t) => t > now + 500),
      p: () => range.markers.map((m) => m.at).findLast((t) => t < now - 500),
    }[event.key.length === 1 ? event.key.toLowerCase() : event.key];
    if (event.key === " " || event.key === "k") {
      event.preventDefault();
      onToggle();
      return;
    }
    if (!to) return;
    event.preventDefault();
    const target = to();
    if (target !== undefined && target !== null) onSeek(Math.min(range.end, Math.max(range.start, target)));
  });

  const place = (el, from, to) => {
    const left = share(from, range.start, range.end);
    el.style.left = percent(left);
    el.style.width = percent(Math.max(share(to, range.start, range.end) - left, 0.002));
    return el;
  };

  function show(next) {
    range = next;
    node.dataset.start = new Date(range.start).toISOString();
    node.dataset.end = new Date(range.end).toISOString();
    const total = Math.round((range.end - range.start) / 1000);
    const now = Date.now();
    bar.setAttribute("aria-valuemax", String(total));
    track.replaceChildren(
      ...range.segments.map((s) => place(h("div", {
        class: "tl-segment", "data-segment": s.id, title: `Recorded ${clock(s.start)} – ${clock(s.end)}`,
      }), s.start, s.end)),
      ...range.gaps.filter((g) => g.start < now).map((g) => place(h("div", {
        class: "tl-gap", "data-start": new Date(g.start).toISOString(),
        title: `No recording ${clock(g.start)} – ${clock(Math.min(g.end, now))}`,
      }), g.start, Math.min(g.end, now))));  // the future is no gap
    lane.replaceChildren(...range.markers.map((m) => h("button", {
      type: "button", class: "tl-marker", tabindex: "-1", "data-kind": m.kind, "data-id": m.id,
      "data-severity": m.severity ?? "", "data-time": m.time, "aria-label": markerName(m), title: markerName(m),
      style: `left:${percent(share(m.at, range.start, range.end))}`,
      onclick: (event) => { event.stopPropagation(); onSeek(m.at); },
    })));
    const few = window.matchMedia("(max-width: 480px)").matches;
    const inner = (t) => share(t, range.start, range.end) > 0.04 && share(t, range.start, range.end) < 0.96;
    scale.replaceChildren(...ticks(range.start, range.end, few ? 3 : 6).filter(inner).map((t) => h("span", {
      style: `left:${percent(share(t, range.start, range.end))}`,
    }, new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }))));
    setPosition(position);
  }

  function setPosition(ms) {
    position = ms;
    const inside = ms !== null && ms >= range.start && ms <= range.end;
    head.hidden = !inside;
    if (inside) head.style.left = percent(share(ms, range.start, range.end));
    const value = ms === null ? 0 : Math.round((Math.min(range.end, Math.max(range.start, ms)) - range.start) / 1000);
    bar.setAttribute("aria-valuenow", String(value));
    bar.setAttribute("aria-valuetext", ms === null ? "Nothing chosen" : `${new Date(ms).toLocaleDateString()} ${clock(ms)}`);
  }

  return { node, show, setPosition, focus: () => bar.focus() };
}
