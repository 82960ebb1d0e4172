// Live: a wall of camera tiles (pages/live_tile.js) in 1, 4, 9 or 16 per screen, paged when
// there are more cameras; a tile enlarges on click (or #/live?camera=ID) and goes full screen.
// Video over MJPEG plays only for the tiles on screen; overlays (tracks, counts, status) come
// from /ws. Status (with the offline and tamper badges) is also polled: edge cameras report
// through their node's health, which no local pipeline announces on /ws.
import { get } from "../api.js";
import { on, subscribe, unsubscribe } from "../live.js";
import { play } from "../mjpeg.js";
import { h, hashRoute } from "../dom.js";
import { buildTile, countsSince, drawOverlay, showCounts, showStatus } from "./live_tile.js";

const VIDEO_FPS = 10;
const STATUS_POLL_MS = 5000;
/** Cameras per screen the wall offers. */
export const LAYOUTS = [1, 4, 9, 16];
const SAVED = "argus.wall.layout";

/** The saved layout, else the smallest that shows all ``count`` cameras at once. */
function firstLayout(count) {
  const saved = Number(localStorage.getItem(SAVED));
  if (LAYOUTS.includes(saved)) return saved;
  return LAYOUTS.find((n) => n >= count) ?? LAYOUTS[LAYOUTS.length - 1];
}

/** Builds the wall's tiles (their lines, zones and first status read in parallel). */
async function tilesOf(cameras, onEnlarge) {
  return Promise.all(cameras.map(async (camera) => {
    const [lines, zones, status] = await Promise.all([
      get(`/cameras/${camera.id}/lines`), get(`/cameras/${camera.id}/zones`),
      get(`/cameras/${camera.id}/status`).catch(() => null),
    ]);
    return buildTile(camera, lines.items, zones.items, status, onEnlarge);
  }));
}

export async function liveView() {
  const cameras = (await get("/cameras")).items;
  if (!cameras.length) {
    return { node: h("div", {}, h("h1", {}, "Live"), h("p", {}, "No cameras yet. Add one under Configuration.")) };
  }
  const state = { layout: firstLayout(cameras.length), page: 0, focus: null };
  const list = await tilesOf(cameras, (tile) => enlarge(state.focus === tile ? null : tile));
  const tiles = new Map(list.map((t) => [t.camera.id, t]));
  const wall = h("section", { class: "wall", "aria-label": "Cameras" }, list.map((t) => t.article));

  const layoutButtons = LAYOUTS.map((n) => h("button", {
    type: "button", "aria-label": `${n} per screen`, "aria-pressed": "false", "data-layout": String(n),
    onclick: () => { state.layout = n; state.page = 0; localStorage.setItem(SAVED, String(n)); enlarge(null); },
  }, String(n)));
  const where = h("span", { class: "wall-page", "aria-live": "polite" });
  const previous = h("button", { type: "button", "aria-label": "Previous cameras", onclick: () => turn(-1) }, "‹ Previous");
  const next = h("button", { type: "button", "aria-label": "Next cameras", onclick: () => turn(1) }, "Next ›");
  const pager = h("div", { class: "wall-pager" }, previous, where, next);
  const back = h("button", { type: "button", class: "wall-back", onclick: () => enlarge(null) }, "Back to the wall");
  const bar = h("div", { class: "wall-bar" },
    h("div", { class: "layouts", role: "group", "aria-label": "Cameras per screen" },
      h("span", { class: "muted" }, "Per screen"), layoutButtons),
    pager, back);

  const pages = () => Math.max(1, Math.ceil(list.length / state.layout));
  const onScreen = () => (state.focus ? [state.focus]
    : list.slice(state.page * state.layout, (state.page + 1) * state.layout));
  function turn(step) {
    state.page = (state.page + step + pages()) % pages();
    render();
  }
  function enlarge(tile) {
    const was = state.focus;
    state.focus = tile;
    // The address names the enlarged camera (a link to it), without routing anew.
    history.replaceState(null, "", tile ? `#/live?camera=${encodeURIComponent(tile.camera.id)}` : "#/live");
    if (!tile && was) state.page = Math.floor(list.indexOf(was) / state.layout);
    render();
    (tile ?? was)?.enlarge.focus({ preventScroll: !tile });
  }
  function render() {
    const shown = new Set(onScreen());
    wall.dataset.layout = String(state.focus ? 1 : state.layout);
    wall.classList.toggle("focused", Boolean(state.focus));
    for (const tile of list) {
      const visible = shown.has(tile);
      tile.article.hidden = !visible;
      tile.enlarge.setAttribute("aria-pressed", String(state.focus === tile));
      if (visible && !tile.player) startVideo(tile);
      if (!visible && tile.player) { tile.player(); tile.player = null; }
    }
    for (const button of layoutButtons) {
      button.setAttribute("aria-pressed", String(!state.focus && Number(button.dataset.layout) === state.layout));
    }
    const first = state.page * state.layout + 1;
    const last = Math.min(list.length, first + state.layout - 1);
    where.textContent = first === last ? `Camera ${first} of ${list.length}` : `Cameras ${first}–${last} of ${list.length}`;
    pager.hidden = Boolean(state.focus) || list.length <= state.layout;
    back.hidden = !state.focus;
  }
  function startVideo(tile) {
    tile.player = play(tile.camera.id, VIDEO_FPS, (url) => {
      tile.img.src = url;
      tile.img.hidden = false;
      tile.waiting.hidden = true;
      tile.video.textContent = "";
    }, (text) => { tile.video.textContent = text; });
  }

  // Labels are sized for the tile as shown: redraw when a tile changes size.
  const resized = new ResizeObserver((entries) => {
    for (const entry of entries) {
      const tile = list.find((t) => t.canvas === entry.target);
      if (tile && !tile.article.hidden) drawOverlay(tile);
    }
  });
  list.forEach((t) => resized.observe(t.canvas));
  const onKey = (event) => { if (event.key === "Escape" && state.focus && !document.fullscreenElement) enlarge(null); };
  document.addEventListener("keydown", onKey);

  const channels = cameras.flatMap((c) => [`camera.${c.id}.tracks`, `camera.${c.id}.counts`]);
  subscribe(["system", ...channels]);
  const stops = [
    on("tracks", (m) => { const t = tiles.get(m.camera_id); if (t) { t.frame = m; drawOverlay(t); } }),
    on("counts", (m) => {
      const t = tiles.get(m.camera_id);
      if (!t) return;
      t.counts = m.counts;
      t.since = countsSince(m) ?? t.since;
      showCounts(t);
    }),
    on("camera.status", (m) => { const t = tiles.get(m.camera_id); if (t) showStatus(t, m); }),
  ];
  let polling = true;
  let poll = null;
  const pollStatus = async () => {
    await Promise.all(list.map(async (tile) => {
      const status = await get(`/cameras/${tile.camera.id}/status`).catch(() => null);
      if (polling && status) showStatus(tile, status);
      if (polling && tile.since) showCounts(tile);  // "since … (5 minutes ago)" moves on
    }));
    if (polling) poll = setTimeout(pollStatus, STATUS_POLL_MS);
  };
  poll = setTimeout(pollStatus, STATUS_POLL_MS);

  const wanted = tiles.get(hashRoute().query.get("camera") ?? "");
  state.focus = wanted ?? null;
  render();
  const node = h("div", { class: "live" }, h("h1", {}, "Live"), bar, wall);
  return { node, cleanup() {
    polling = false;
    clearTimeout(poll);
    resized.disconnect();
    document.removeEventListener("keydown", onKey);
    if (document.fullscreenElement && wall.contains(document.fullscreenElement)) document.exitFullscreen().catch(() => {});
    list.forEach((tile) => { tile.player?.(); tile.player = null; });
    unsubscribe(channels);
    stops.forEach((s) => s());
  } };
}
