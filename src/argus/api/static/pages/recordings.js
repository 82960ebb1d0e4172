// Recordings: play back a camera's continuous recording on a timeline (issue 19).
// #/recordings?camera=<id>[&start=<ISO>&span=<seconds>][&at=<ISO>] opens a camera's range, or
// the moment ``at`` (the range around it). The timeline (timeline.js) shows what was recorded,
// the gaps, and the alerts and events of the range; the player (timeline_player.js) plays the
// segments in turn at 0.5x to 8x and shows the wall-clock time. Operators and admins export a
// range (at most an hour) as a signed evidence bundle that `argus evidence verify` checks.
// Data: GET /cameras/{id}/recordings?start&end (segments, gaps, markers; at most 24 h),
// GET /cameras/{id}/recordings/{segment} (the MP4), POST /cameras/{id}/recordings/export.
import { get, postRaw } from "../api.js";
import { field, h, hashRoute, human } from "../dom.js";
import { statusLine } from "./kit.js";
import { download } from "./admin_kit.js";
import { at, clock, markerName, span, timelineBar } from "./timeline.js";
import { SPEEDS, segmentPlayer } from "./timeline_player.js";

const SPANS = [[120, "2 minutes"], [600, "10 minutes"], [1800, "30 minutes"], [3600, "1 hour"], [10_800, "3 hours"],
  [21_600, "6 hours"], [43_200, "12 hours"], [86_400, "24 hours"]];
const DEFAULT_SPAN = 3600;
const MAX_EXPORT_MS = 3600_000;
const REFRESH_MS = 15_000;  // a range that reaches the present is read again this often
const LISTED = 300;         // markers listed under the timeline (all are on the bar)

const pad = (n) => String(n).padStart(2, "0");
/** ``ms`` as the value of a date input, a time input and a datetime-local input (local time). */
const dayOf = (ms) => { const d = new Date(ms); return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`; };
const timeOf = (ms) => { const d = new Date(ms); return `${pad(d.getHours())}:${pad(d.getMinutes())}`; };
const localOf = (ms) => { const d = new Date(ms); return `${dayOf(ms)}T${timeOf(ms)}:${pad(d.getSeconds())}`; };

const STATE_TEXT = {
  recording: "Recording now.",
  reconnecting: "Recording is waiting for the camera: reconnecting.",
  off: "This camera is not recorded (recording is off for it, or it is disabled or runs on an edge node).",
  error: "Recording of this camera failed; see the camera's health.",
};

function recordingNote(recording) {
  if (!recording?.enabled) {
    return "Continuous recording is switched off on this server (ARGUS_RECORDING); recordings made before can still be played.";
  }
  return STATE_TEXT[recording.state] ?? `Recording: ${human(recording.state ?? "unknown")}.`;
}

/** Whether this browser plays H.265 in MP4 (the recorder copies the camera's codec as it is). */
const canPlayHevc = () => ["hvc1", "hev1"].some((tag) => document.createElement("video").canPlayType(`video/mp4; codecs="${tag}"`));

/** The API's answer with times in ms and markers sorted, for the timeline and the player. */
function adopt(data, start, end) {
  return {
    start, end,
    segments: data.segments.map((s) => ({ ...s, start: at(s.start), end: at(s.end) })),
    gaps: data.gaps.map((g) => ({ start: at(g.start), end: at(g.end) })),
    markers: data.markers.map((m) => ({ ...m, at: at(m.time) })).sort((a, b) => a.at - b.at),
    truncated: Boolean(data.markers_truncated),
    recording: data.recording,
  };
}

/** Whether a re-read range shows the same as before (then nothing is redrawn). */
function sameAs(before, after) {
  const key = (r) => JSON.stringify([r.segments.map((s) => [s.id, s.end]), r.gaps, r.markers.map((m) => m.id), r.recording]);
  return Boolean(before) && before.start === after.start && key(before) === key(after);
}

function summary(range) {
  const recorded = range.segments.reduce((sum, s) => sum + Math.max(0, Math.min(s.end, range.end) - Math.max(s.start, range.start)), 0);
  const alerts = range.markers.filter((m) => m.kind === "alert").length;
  const events = range.markers.length - alerts;
  const gaps = range.gaps.filter((g) => g.start < Date.now()).length;  // what lies ahead is no gap
  return `${range.segments.length} segment(s), ${span(recorded)} recorded, ${gaps} gap(s), `
    + `${alerts} alert(s) and ${events} event(s)${range.truncated ? " (markers capped: narrow the range to see all)" : ""}.`;
}

/** The range a route asks for: ``start``/``span``, or around ``at``, or the last hour. */
function rangeOf(query) {
  const seconds = Number(query.get("span")) || DEFAULT_SPAN;
  const length = (SPANS.find(([s]) => s === seconds)?.[0] ?? DEFAULT_SPAN) * 1000;
  const focus = at(query.get("at") ?? "");
  const start = at(query.get("start") ?? "");
  if (!Number.isNaN(start)) return { start, length, focus: Number.isNaN(focus) ? null : focus };
  if (!Number.isNaN(focus)) return { start: focus - length / 2, length, focus };
  return { start: Math.floor((Date.now() - length) / 60_000) * 60_000 + 60_000, length, focus: null };
}

function exportForm(me, cameraOf, position) {
  const status = statusLine();
  if (!me.can("act")) {
    return h("section", { class: "card rec-export", "aria-label": "Export range" }, h("h2", {}, "Export range"),
      h("p", { class: "legend" }, "Operators and admins can export a range as a signed evidence bundle."));
  }
  const from = h("input", { type: "datetime-local", name: "export_start", step: "1", required: true });
  const to = h("input", { type: "datetime-local", name: "export_end", step: "1", required: true });
  const mark = (input, name) => h("button", { type: "button", onclick: () => {
    const ms = position();
    if (ms !== null) input.value = localOf(ms);
  } }, name);
  const submit = h("button", { type: "submit", class: "primary" }, "Export range");
  const form = h("form", { class: "rec-export-form", "aria-label": "Export range" },
    h("div", { class: "rec-export-row" }, field("Export from", from), mark(from, "Start here")),
    h("div", { class: "rec-export-row" }, field("Export to", to), mark(to, "End here")),
    submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.clear();
    const start = new Date(from.value).getTime();
    const end = new Date(to.value).getTime();
    if (!(end > start)) { status.fail("The range must end after it starts."); return; }
    if (end - start > MAX_EXPORT_MS) { status.fail("Export at most one hour at a time."); return; }
    submit.disabled = true;
    status.ok("Cutting the recording and sealing the bundle…");
    try {
      const id = cameraOf();
      const res = await postRaw(`/cameras/${encodeURIComponent(id)}/recordings/export`,
        { start: new Date(start).toISOString(), end: new Date(end).toISOString() });
      const name = `argus-recording-${id}-${new Date(start).toISOString().replace(/[-:]/g, "").slice(0, 15)}.zip`;
      download(await res.blob(), name);
      status.ok(`Bundle downloaded (${name}): ${clock(start)} – ${clock(end)}, signed; check it with \`argus evidence verify ${name}\`.`);
    } catch (err) { status.fail(err); } finally { submit.disabled = false; }
  });
  return h("section", { class: "card rec-export", "aria-label": "Export range" }, h("h2", {}, "Export range"),
    h("p", { class: "legend" }, "At most one hour, cut from the recording without re-encoding (it starts at the keyframe "
      + "before From) and sealed with this installation's signing key, with the audit records of the export."),
    form, status.node);
}

export async function recordingsView(me) {
  const query = hashRoute().query;
  const cameras = (await get("/cameras?limit=1000")).items;
  if (!cameras.length) {
    return { node: h("div", { class: "recordings-page" }, h("h1", {}, "Recordings"), h("p", { class: "card" }, "No cameras yet.")) };
  }
  const chosen = query.get("camera");
  const cameraSelect = h("select", { name: "camera" }, cameras.map((c) => h("option", { value: c.id, selected: c.id === chosen }, c.name)));
  const cameraName = () => cameras.find((c) => c.id === cameraSelect.value)?.name ?? cameraSelect.value;
  const wanted = rangeOf(query);
  const day = h("input", { type: "date", name: "day", required: true, value: dayOf(wanted.start) });
  const from = h("input", { type: "time", name: "from", required: true, value: timeOf(wanted.start) });
  const length = h("select", { name: "span" }, SPANS.map(([s, text]) => h("option", { value: String(s), selected: s * 1000 === wanted.length }, text)));
  const shift = (direction) => h("button", { type: "button", onclick: () => move(direction) }, direction < 0 ? "◀ Earlier" : "Later ▶");
  const picker = h("form", { class: "filters rec-picker", "aria-label": "Choose a camera and a time range" },
    field("Camera", cameraSelect), field("Day", day), field("From", from), field("Length", length),
    h("button", { type: "submit", class: "primary" }, "Show"), shift(-1), shift(1),
    h("button", { type: "button", onclick: () => latest() }, "Latest"));

  const status = statusLine();
  const note = h("p", { class: "rec-state", role: "status" });
  const totals = h("p", { class: "rec-summary" });
  // Not a live region: it changes four times a second while playing (the slider says it too).
  const clockOut = h("output", { class: "rec-clock", "aria-label": "Position", "aria-live": "off" }, "—");
  const said = h("p", { class: "rec-said", role: "status", "aria-live": "polite" });
  let position = null;
  let range = null;
  let player = null;
  let loaded = 0;
  let timer = null;

  const bar = timelineBar({ onSeek: (ms) => seekTo(ms), onToggle: () => toggle() });
  const playButton = h("button", { type: "button", class: "rec-play", onclick: () => toggle() }, "Play");
  const speed = h("select", { name: "speed", onchange: () => player?.setRate(Number(speed.value)) },
    SPEEDS.map((s) => h("option", { value: String(s), selected: s === 1 }, `${s}×`)));
  const prev = h("button", { type: "button", onclick: () => player?.step(-1) }, "Previous segment");
  const next = h("button", { type: "button", onclick: () => player?.step(1) }, "Next segment");
  const screen = h("div", { class: "rec-player" });
  const markerList = h("ol", { class: "rec-markers", "aria-label": "Alerts and events" });

  function showPosition(ms) {
    position = ms;
    clockOut.textContent = `${new Date(ms).toLocaleDateString()} ${clock(ms)}`;
    clockOut.dataset.at = new Date(ms).toISOString();
    bar.setPosition(ms);
  }
  function showPlaying() {
    playButton.textContent = player?.playing ? "Pause" : "Play";
    playButton.setAttribute("aria-pressed", String(Boolean(player?.playing)));
  }
  function seekTo(ms) {
    said.textContent = "";
    if (!player?.seek(ms)) return;
    showPosition(Math.max(ms, range.segments.find((s) => s.end > ms)?.start ?? ms));
  }
  function toggle() {
    if (!player) return;
    said.textContent = "";
    player.toggle();
    showPlaying();
  }

  function newPlayer() {
    player?.cleanup();
    player = segmentPlayer({
      cameraId: cameraSelect.value, cameraName: cameraName(),
      onPosition: showPosition, onStatus: (text) => { said.textContent = text; showPlaying(); },
    });
    player.setRate(Number(speed.value));
    screen.replaceChildren(player.node);
    position = null;
    clockOut.textContent = "—";
    showPlaying();
  }

  function listMarkers() {
    markerList.replaceChildren(...range.markers.slice(0, LISTED).map((m) => h("li", { "data-kind": m.kind, "data-severity": m.severity ?? "" },
      h("button", { type: "button", class: "link", "data-id": m.id, onclick: () => seekTo(m.at) },
        h("time", { datetime: m.time }, clock(m.at)), " ", m.kind === "alert" ? h("span", { class: "sev" }, m.severity ?? "alert") : "event",
        " ", m.label || m.type),
      m.kind === "alert" ? h("a", { href: `#/alerts/${encodeURIComponent(m.id)}`, "aria-label": `Open alert: ${markerName(m)}` }, "open") : "")));
    if (range.markers.length > LISTED) markerList.append(h("li", {}, `… and ${range.markers.length - LISTED} more on the timeline.`));
  }

  /** Reads the chosen range; ``fresh`` starts a new player (a new camera or range). */
  async function load(fresh) {
    const mine = ++loaded;
    const start = new Date(`${day.value}T${from.value}`).getTime();
    if (Number.isNaN(start)) { status.fail("Choose a day and a time."); return; }
    const end = start + Number(length.value) * 1000;
    const params = new URLSearchParams({ start: new Date(start).toISOString(), end: new Date(end).toISOString() });
    const id = cameraSelect.value;
    const data = await get(`/cameras/${encodeURIComponent(id)}/recordings?${params}`);
    if (mine !== loaded) return;
    const before = range;
    range = adopt(data, start, end);
    if (!fresh && sameAs(before, range)) { schedule(end); return; }  // keep focus and hover
    if (fresh) {
      newPlayer();
      history.replaceState(null, "", `#/recordings?camera=${encodeURIComponent(id)}&start=${encodeURIComponent(new Date(start).toISOString())}&span=${length.value}`);
    }
    player.setSegments(range.segments);
    bar.show(range);
    note.textContent = recordingNote(range.recording);
    note.dataset.state = range.recording?.enabled ? range.recording.state ?? "" : "disabled";
    totals.textContent = summary(range);
    listMarkers();
    status.clear();
    if (!range.segments.length) status.ok("Nothing was recorded in this range: choose another one, or Latest.");
    else if (range.segments.some((seg) => seg.codec === "hevc") && !canPlayHevc()) {
      status.fail("This browser cannot play H.265 (HEVC) video: export the range and play it with a desktop player.");
    }
    schedule(end);
  }
  /** Reads a range that reaches the present again in a while (new segments, new markers). */
  function schedule(end) {
    clearTimeout(timer);
    if (end > Date.now() - REFRESH_MS) timer = setTimeout(() => load(false).catch(() => {}), REFRESH_MS);
  }
  const reload = (fresh = true) => load(fresh).catch((err) => status.fail(err));

  function move(direction) {
    const start = new Date(`${day.value}T${from.value}`).getTime() + direction * Number(length.value) * 1000;
    day.value = dayOf(start);
    from.value = timeOf(start);
    reload();
  }
  function latest() {
    const start = Math.floor((Date.now() - Number(length.value) * 1000) / 60_000) * 60_000 + 60_000;
    day.value = dayOf(start);
    from.value = timeOf(start);
    reload();
  }
  picker.addEventListener("submit", (event) => { event.preventDefault(); reload(); });
  cameraSelect.addEventListener("change", () => reload());
  // A range that reached the present stays the latest one when its length changes.
  length.addEventListener("change", () => { if (range && range.end >= Date.now() - REFRESH_MS) latest(); else reload(); });

  await load(true);
  if (wanted.focus !== null) seekTo(wanted.focus);
  const node = h("div", { class: "recordings-page" },
    h("h1", {}, "Recordings"),
    h("p", { class: "legend" }, "Continuous recording, played back on a timeline with the alerts and events of the range."),
    h("section", { class: "card", "aria-label": "Range" }, picker, status.node, note, totals),
    h("section", { class: "card rec-playback", "aria-label": "Playback" },
      bar.node,
      h("div", { class: "rec-controls" }, playButton, field("Speed", speed), prev, next, clockOut),
      said,
      screen,
      h("p", { class: "legend rec-keys" }, "On the timeline: ←/→ move 10 s (Shift: 1 min), Home/End the first/last recording, "
        + "N/P the next/previous marker, Space plays or pauses. Click the bar or a marker to go there.")),
    h("section", { class: "card", "aria-label": "Markers" }, h("h2", {}, "Alerts and events"), markerList),
    exportForm(me, () => cameraSelect.value, () => position));
  return { node, cleanup() { loaded += 1; clearTimeout(timer); player?.cleanup(); } };
}
