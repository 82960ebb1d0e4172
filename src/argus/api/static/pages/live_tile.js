// One camera tile of the live wall: video, overlay (zones, lines, tracks), status, badges,
// counts with the time they count from, and the tile's controls (enlarge, full screen,
// the camera's alert inbox and charts). pages/live.js arranges the tiles.
import { h, timeAgo } from "../dom.js";

const DOWN = ["offline", "error"];
const TAMPER_ALARMS = ["covered", "blurred", "moved", "frozen", "black", "white", "noise"];
const COLOURS = { zone: "#f5a524", line: "#3d8bfd", track: "#4cc38a" };

/**
 * Overlay text size in CSS pixels for a tile ``cssWidth`` wide: it grows with the tile
 * (a 4×4 wall cell, an enlarged tile, full screen), never below what a phone can read.
 */
export function labelPx(cssWidth) {
  return Math.round(Math.min(30, Math.max(12, cssWidth / 42)));
}

/** A label on a dark plate so that it reads over any video; ``x``, ``y``: its baseline start. */
function label(g, text, x, y, colour, px) {
  const pad = px * 0.25;
  const width = g.measureText(text).width;
  const left = Math.max(0, Math.min(x, g.canvas.width - width - 2 * pad));
  const base = Math.max(px + pad, Math.min(y, g.canvas.height - pad));
  g.fillStyle = "rgba(11,13,16,0.72)";
  g.fillRect(left, base - px - pad * 0.5, width + 2 * pad, px + 1.5 * pad);
  g.fillStyle = colour;
  g.fillText(text, left + pad, base);
}

/** Draws zones, lines (with their tallies) and tracked boxes over the tile's video. */
export function drawOverlay(tile) {
  const { canvas, frame, lines, zones, counts } = tile;
  const width = frame?.width ?? tile.width;
  const height = frame?.height ?? tile.height;
  if (!width || !height || !canvas.clientWidth) return;
  canvas.width = width;
  canvas.height = height;
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, width, height);
  // Frame pixels per CSS pixel: strokes and text are sized for the tile as shown.
  const scale = width / canvas.clientWidth;
  const shown = labelPx(canvas.clientWidth);
  canvas.dataset.labelPx = String(shown);  // the labels' on-screen size, for tests and styles
  const px = shown * scale;
  g.lineWidth = Math.max(2, px / 6);
  g.font = `600 ${Math.round(px)}px system-ui, sans-serif`;
  g.textBaseline = "alphabetic";
  for (const zone of zones) {
    g.strokeStyle = COLOURS.zone;
    g.fillStyle = "rgba(245,165,36,0.15)";
    g.beginPath();
    zone.polygon.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y)));
    g.closePath();
    g.fill();
    g.stroke();
    const n = counts?.[zone.name]?.occupancy;
    label(g, `${zone.name}${n === undefined ? "" : `: ${n} inside`}`,
      zone.polygon[0][0] + px * 0.3, zone.polygon[0][1] + px * 1.3, COLOURS.zone, px);
  }
  for (const line of lines) {
    g.strokeStyle = COLOURS.line;
    g.beginPath();
    g.moveTo(...line.start);
    g.lineTo(...line.end);
    g.stroke();
    const c = counts?.[line.name];
    const tally = c ? ` ${line.in_label} ${c[line.in_label] ?? 0} / ${line.out_label} ${c[line.out_label] ?? 0}` : "";
    label(g, `${line.name}${tally}`, line.start[0] + px * 0.3, line.start[1] - px * 0.5, COLOURS.line, px);
  }
  for (const track of frame?.tracks ?? []) {
    const [x1, y1, x2, y2] = track.box;
    g.strokeStyle = COLOURS.track;
    g.strokeRect(x1, y1, x2 - x1, y2 - y1);
    label(g, `${track.class_name} #${track.id}`, x1, y1 - px * 0.35, COLOURS.track, px * 0.85);
  }
}

/** "14:05" today, "3 Dec, 14:05" before: when counting started. */
function clock(iso) {
  const at = new Date(iso);
  const today = new Date().toDateString() === at.toDateString();
  return at.toLocaleString(undefined, today
    ? { hour: "2-digit", minute: "2-digit" }
    : { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

/**
 * When the tile's counts started: the counts message's ``since`` (an ISO time, added by
 * the live counts of issue 23), else the earliest ``since`` of a single count.
 */
export function countsSince(message) {
  if (message?.since) return message.since;
  const each = Object.values(message?.counts ?? {}).map((c) => c?.since).filter(Boolean);
  return each.length ? each.sort()[0] : null;
}

/** The legend under the video: line and zone counts, and since when they count. */
export function showCounts(tile) {
  const items = [];
  for (const line of tile.lines) {
    const c = tile.counts?.[line.name] ?? {};
    items.push(h("li", { "data-line": line.name }, `Line ${line.name}: ${line.in_label} ${c[line.in_label] ?? 0}, ${line.out_label} ${c[line.out_label] ?? 0}`));
  }
  for (const zone of tile.zones) {
    const c = tile.counts?.[zone.name] ?? {};
    items.push(h("li", { "data-zone": zone.name }, `Zone ${zone.name}: ${c.occupancy ?? 0} inside (max ${c.max_occupancy ?? 0}, visits ${c.visits ?? 0})`));
  }
  tile.legend.replaceChildren(...items);
  if (tile.since) {
    const time = timeAgo(tile.since);
    time.textContent = clock(tile.since);
    tile.sinceLine.replaceChildren("Counting since ", time, " (", timeAgo(tile.since), ")");
  }
  tile.sinceLine.hidden = !tile.since || !items.length;
}

function showBadges(tile, status) {
  const isDown = DOWN.includes(status.state);
  tile.down.hidden = !isDown;
  tile.down.textContent = isDown ? status.state.toUpperCase() : "";
  const tampered = TAMPER_ALARMS.includes(status.tamper);
  tile.tamper.hidden = !tampered;
  tile.tamper.textContent = tampered ? `TAMPER: ${status.tamper}` : "";
  tile.tamper.dataset.tamper = status.tamper ?? "";
  tile.tamper.title = tampered && status.tamper_score !== undefined ? `score ${Number(status.tamper_score).toFixed(2)}` : "";
}

/** Shows a status (polled, or a /ws message, which carries no tamper fields: those are kept). */
export function showStatus(tile, update) {
  if (!update) { if (!tile.status) tile.state.textContent = "status unknown"; return; }
  const status = { ...tile.status, ...update };
  tile.status = status;
  showBadges(tile, status);
  tile.state.dataset.state = status.state;
  tile.article.dataset.state = status.state;
  tile.waiting.textContent = DOWN.includes(status.state) ? `No video: the camera is ${status.state === "error" ? "failing" : "offline"}` : "Waiting for video…";
  const fps = (v) => Number(v ?? 0).toFixed(1);
  // A saturated box analyses fewer frames per camera (evenly spaced): say so, with the grant.
  const saturated = status.saturated && status.granted_fps != null && status.target_fps != null
    ? ` · analysing ${fps(status.granted_fps)} of ${fps(status.target_fps)} fps — box saturated`
    : "";
  tile.state.textContent = `${status.state} · ${fps(status.fps_in)} fps in, ${fps(status.fps_detected)} analysed`
    + saturated + (status.last_error ? ` · ${status.last_error}` : "");
  tile.state.dataset.saturated = status.saturated ? "true" : "false";
}

/**
 * A tile for ``camera`` with its ``lines``, ``zones`` and first ``status``. ``onEnlarge(tile)``
 * runs when the video or the Enlarge button is clicked.
 */
export function buildTile(camera, lines, zones, status, onEnlarge) {
  const name = camera.name;
  const tile = {
    camera, lines, zones, status: null, frame: null, counts: null, since: null, player: null,
    img: h("img", { alt: `Live video of ${name}`, "data-camera": camera.id, hidden: true }),
    waiting: h("div", { class: "no-video" }, "Waiting for video…"),
    canvas: h("canvas", { "aria-hidden": "true" }),
    state: h("p", { class: "status", role: "status" }),
    video: h("p", { class: "status video-state" }),
    legend: h("ul", { class: "counts", "aria-label": `Counts of ${name}` }),
    sinceLine: h("p", { class: "since", hidden: true }),
    down: h("span", { class: "tile-badge down", hidden: true }),
    tamper: h("span", { class: "tile-badge tamper", hidden: true }),
  };
  tile.enlarge = h("button", { type: "button", class: "enlarge", "aria-label": `Enlarge ${name}`,
    "aria-pressed": "false", onclick: () => onEnlarge(tile) }, "Enlarge");
  tile.fullscreen = h("button", { type: "button", class: "fullscreen", "aria-label": `Full screen: ${name}`,
    onclick: () => toggleFullscreen(tile) }, "Full screen");
  const figure = h("figure", { title: `Click to enlarge ${name}` }, tile.img, tile.waiting, tile.canvas,
    h("div", { class: "tile-badges", "aria-live": "polite" }, tile.down, tile.tamper));
  figure.addEventListener("click", () => onEnlarge(tile));
  const camParam = encodeURIComponent(camera.id);
  tile.article = h("article", { class: "card cam", "aria-label": name, "data-camera": camera.id },
    h("header", { class: "tile-head" },
      h("h2", {}, name),
      h("div", { class: "tile-tools" }, tile.enlarge, tile.fullscreen,
        h("a", { href: `#/alerts?camera=${camParam}`, class: "tile-link", "aria-label": `Alert inbox: ${name}` }, "Alert inbox"),
        h("a", { href: `#/analytics?camera=${camParam}`, class: "tile-link", "aria-label": `Charts: ${name}` }, "Charts"),
        h("a", { href: `#/recordings?camera=${camParam}`, class: "tile-link", "aria-label": `Recordings: ${name}` }, "Recordings"))),
    figure, tile.state, tile.video,
    camera.edge_node_id ? h("p", { class: "status" }, "Runs on edge node ", h("a", { href: "#/nodes" }, camera.edge_node_id)) : "",
    tile.legend, tile.sinceLine);
  tile.img.addEventListener("load", () => {
    tile.width = tile.img.naturalWidth;
    tile.height = tile.img.naturalHeight;
    figure.style.setProperty("--ar", String(tile.width / tile.height));
    if (!tile.frame) drawOverlay(tile);
  });
  showStatus(tile, status);
  showCounts(tile);
  return tile;
}

/** Shows the tile alone on the whole screen, or leaves full screen. */
async function toggleFullscreen(tile) {
  try {
    if (document.fullscreenElement === tile.article) await document.exitFullscreen();
    else await tile.article.requestFullscreen();
  } catch { /* refused by the browser (not from a click, or not allowed): nothing changes */ }
}
