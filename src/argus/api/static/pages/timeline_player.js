// The player of the recordings page (pages/recordings.js): plays a camera's MP4 segments one
// after the other as if they were one video, in wall-clock time.
//
//   const player = segmentPlayer({ cameraId, cameraName, onPosition(ms), onStatus(text) });
//   player.setSegments(segments);   // [{ id, start, end }] (ms since the epoch), sorted by start
//   player.seek(ms);                // plays (or shows, when paused) the recording at that moment
//   player.toggle(); player.setRate(2); player.step(+1);  // play/pause, speed, next segment
//   player.cleanup();               // pauses and frees the fetched segments
//
// The dashboard authenticates by a bearer header, which a <video src> cannot send, so each
// segment is fetched as a blob (api.js blobUrl). Two <video> elements take turns: while one
// plays, the other has the next segment loaded, and when the first ends the other starts at
// once (a seamless advance; a gap between segments is skipped and said). A segment's media time
// starts at zero (the recorder rebases it), so wall time = segment start + currentTime.
// ``node`` carries data-at (the position, ISO), data-segment (the playing segment's id) and
// data-state (idle, loading, playing, paused, ended) for styles and tests.
import { blobUrl } from "../api.js";
import { h } from "../dom.js";
import { clock, span } from "./timeline.js";

export const SPEEDS = [0.5, 1, 2, 4, 8];
const KEEP = 4;  // segment blobs kept fetched (the current one, its neighbours)
const GAP_SAY_MS = 1500;  // a break longer than this between two segments is announced

/** The player (see the top of this file). */
export function segmentPlayer({ cameraId, cameraName, onPosition, onStatus }) {
  const video = () => h("video", {
    class: "rec-video", muted: true, playsinline: true, preload: "auto", hidden: true,
    "aria-label": `Recording of ${cameraName}`,
  });
  let active = video();
  let standby = video();
  active.hidden = false;
  const node = h("div", { class: "rec-screen", "data-state": "idle" }, active, standby,
    h("p", { class: "rec-empty" }, "Choose a moment on the timeline."));
  let segments = [];
  let index = -1;          // the segment in ``active``
  let standbyIndex = -1;   // the segment loaded in ``standby``
  let rate = 1;
  let playing = false;     // what the user asked for (a segment change keeps it)
  let following = false;   // played to the last segment: go on when the next one is listed
  let loading = 0;         // the latest load; older ones give up
  const urls = new Map();  // segment id -> Promise of its blob URL

  const state = (name) => { node.dataset.state = name; };

  function urlOf(segment) {
    if (!urls.has(segment.id)) {
      const url = blobUrl(`/cameras/${encodeURIComponent(cameraId)}/recordings/${encodeURIComponent(segment.id)}`);
      url.catch(() => urls.delete(segment.id));
      urls.set(segment.id, url);
    }
    return urls.get(segment.id);
  }

  /** Frees fetched segments far from the one playing (never the two loaded in the videos). */
  function prune() {
    const wanted = new Set([index - 1, index, index + 1, standbyIndex].map((i) => segments[i]?.id));
    for (const [id, url] of urls) {
      if (urls.size <= KEEP) break;
      if (wanted.has(id)) continue;
      urls.delete(id);
      url.then((u) => URL.revokeObjectURL(u), () => {});
    }
  }

  function report() {
    const segment = segments[index];
    if (!segment) return;
    const ms = segment.start + active.currentTime * 1000;
    node.dataset.at = new Date(ms).toISOString();
    node.dataset.segment = segment.id;
    onPosition(ms);
  }

  const ready = (v) => (v.readyState >= 1 ? Promise.resolve() : new Promise((resolve, reject) => {
    v.addEventListener("loadedmetadata", resolve, { once: true });
    v.addEventListener("error", () => reject(new Error("this segment cannot be played")), { once: true });
  }));

  function swap() {
    active.pause();
    [active, standby] = [standby, active];
    active.hidden = false;
    standby.hidden = true;
    standbyIndex = -1;
  }

  async function preload(i) {
    if (i >= segments.length || standbyIndex === i) return;
    standbyIndex = i;
    try {
      const url = await urlOf(segments[i]);
      if (standbyIndex === i) standby.src = url;
    } catch { standbyIndex = -1; }  // fetched again when it is reached
  }

  /** Shows segment ``i`` from ``offset`` seconds, playing if the user wants it. */
  async function show(i, offset) {
    const mine = ++loading;
    const segment = segments[i];
    state("loading");
    try {
      if (standbyIndex === i && standby.src) swap();
      else {
        const url = await urlOf(segment);
        if (mine !== loading) return;
        if (active.src !== url) active.src = url;
      }
      index = i;
      node.querySelector(".rec-empty").hidden = true;
      await ready(active);
      if (mine !== loading) return;
      active.currentTime = Math.max(0, offset);
      active.defaultPlaybackRate = rate;
      active.playbackRate = rate;
      report();
      if (playing) await active.play();
      state(playing ? "playing" : "paused");
    } catch (err) {
      if (mine !== loading) return;
      playing = false;
      state("paused");
      onStatus(`The recording from ${clock(segment.start)} could not be played: ${err.message}`);
      return;
    }
    prune();
    preload(i + 1);
  }

  function onEnded(event) {
    if (event.target !== active) return;
    const next = index + 1;
    if (next >= segments.length) {
      playing = false;
      following = true;
      state("ended");
      onStatus("End of the recordings in this range (playback goes on if more is recorded).");
      return;
    }
    const gap = segments[next].start - segments[index].end;
    if (gap > GAP_SAY_MS) onStatus(`Skipped ${span(gap)} without recording (${clock(segments[index].end)} – ${clock(segments[next].start)}).`);
    show(next, 0);
  }

  for (const v of [active, standby]) {
    v.addEventListener("timeupdate", (event) => { if (event.target === active) report(); });
    v.addEventListener("ended", onEnded);
  }

  /** The segment at ``ms``; else the first one after it (with a note); else null. */
  function find(ms) {
    const inside = segments.findIndex((s) => s.start <= ms && ms < s.end);
    if (inside >= 0) return { i: inside, offset: (ms - segments[inside].start) / 1000 };
    const after = segments.findIndex((s) => s.start > ms);
    if (after < 0) return null;
    onStatus(`No recording at ${clock(ms)}: playing from ${clock(segments[after].start)}, the next recording.`);
    return { i: after, offset: 0 };
  }

  return {
    node,
    get playing() { return playing; },
    get video() { return active; },
    setSegments(list) {
      const current = segments[index]?.id;
      const loaded = segments[standbyIndex]?.id;
      segments = list;
      index = segments.findIndex((s) => s.id === current);
      standbyIndex = segments.findIndex((s) => s.id === loaded);
      if (following && index >= 0 && index + 1 < segments.length) {
        following = false;  // a segment recorded since playback reached the end: play it
        playing = true;
        onStatus("Playing what was recorded since.");
        show(index + 1, 0);
      } else if (index >= 0 && standbyIndex < 0) preload(index + 1);
    },
    seek(ms) {
      following = false;
      const found = find(ms);
      if (!found) {
        onStatus(`No recording at or after ${clock(ms)} in this range.`);
        return false;
      }
      if (found.i === index && active.readyState >= 1) {
        active.currentTime = found.offset;
        if (node.dataset.state === "ended") state("paused");
        report();
      } else show(found.i, found.offset);
      return true;
    },
    toggle() {
      if (index < 0) { playing = true; return this.seek(segments[0]?.start ?? 0); }
      playing = !playing;
      if (!playing) { active.pause(); state("paused"); return true; }
      following = false;
      if (node.dataset.state === "ended") { show(index, 0); return true; }  // again from the last segment
      active.play().then(() => state("playing"), (err) => { playing = false; state("paused"); onStatus(err.message); });
      return true;
    },
    setRate(value) {
      rate = value;
      for (const v of [active, standby]) { v.defaultPlaybackRate = value; v.playbackRate = value; }
    },
    step(direction) {
      following = false;
      const to = index + direction;
      if (to < 0 || to >= segments.length) return false;
      show(to, 0);
      return true;
    },
    cleanup() {
      loading += 1;
      for (const v of [active, standby]) { v.pause(); v.removeAttribute("src"); }
      for (const url of urls.values()) url.then((u) => URL.revokeObjectURL(u), () => {});
      urls.clear();
    },
  };
}
