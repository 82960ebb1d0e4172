// Live: one tile per camera, its video over MJPEG, overlays (tracks, counts, status) from /ws.
// Status (with the offline and tamper badges) also by polling: edge cameras report through
// their node's health, which no local pipeline announces on /ws.
import { get } from "../api.js";
import { on, subscribe, unsubscribe } from "../live.js";
import { play } from "../mjpeg.js";
import { h } from "../dom.js";

const VIDEO_FPS = 10;
const STATUS_POLL_MS = 5000;
const DOWN = ["offline", "error"];
const TAMPER_ALARMS = ["covered", "blurred", "moved", "frozen", "black", "white", "noise"];

function drawOverlay(canvas, tile) {
  const { frame, lines, zones, counts } = tile;
  const width = frame?.width ?? tile.width;
  const height = frame?.height ?? tile.height;
  if (!width || !height) return;
  canvas.width = width;
  canvas.height = height;
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, width, height);
  // Strokes and labels keep their on-screen size whatever the tile's width.
  const scale = width / (canvas.clientWidth || width);
  g.lineWidth = 2 * scale;
  g.font = `${Math.round(12 * scale)}px system-ui`;
  for (const zone of zones) {
    g.strokeStyle = "#f5a524";
    g.fillStyle = "rgba(245,165,36,0.15)";
    g.beginPath();
    zone.polygon.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y)));
    g.closePath();
    g.fill();
    g.stroke();
    const n = counts?.[zone.name]?.occupancy;
    g.fillStyle = "#f5a524";
    g.fillText(`${zone.name}${n === undefined ? "" : `: ${n} inside`}`, zone.polygon[0][0] + 4 * scale, zone.polygon[0][1] + 14 * scale);
  }
  for (const line of lines) {
    g.strokeStyle = "#3d8bfd";
    g.beginPath();
    g.moveTo(...line.start);
    g.lineTo(...line.end);
    g.stroke();
    const c = counts?.[line.name];
    g.fillStyle = "#3d8bfd";
    const tally = c ? ` ${line.in_label} ${c[line.in_label] ?? 0} / ${line.out_label} ${c[line.out_label] ?? 0}` : "";
    g.fillText(`${line.name}${tally}`, line.start[0] + 4 * scale, line.start[1] - 6 * scale);
  }
  for (const track of frame?.tracks ?? []) {
    const [x1, y1, x2, y2] = track.box;
    g.strokeStyle = "#4cc38a";
    g.strokeRect(x1, y1, x2 - x1, y2 - y1);
    g.fillStyle = "#4cc38a";
    g.fillText(`${track.class_name} #${track.id}`, x1 + 2 * scale, Math.max(12 * scale, y1 - 4 * scale));
  }
}

export async function liveView() {
  const cameras = (await get("/cameras")).items;
  const tiles = new Map();
  const grid = h("section", { class: "grid", "aria-label": "Cameras" });
  for (const camera of cameras) {
    const [lines, zones, status] = await Promise.all([
      get(`/cameras/${camera.id}/lines`), get(`/cameras/${camera.id}/zones`),
      get(`/cameras/${camera.id}/status`).catch(() => null),
    ]);
    const img = h("img", { alt: `Live video of ${camera.name}`, "data-camera": camera.id, hidden: true });
    const waiting = h("div", { class: "no-video" }, "Waiting for video…");
    const canvas = h("canvas", { "aria-hidden": "true" });
    const state = h("p", { class: "status", role: "status" });
    const video = h("p", { class: "status video-state" });
    const legend = h("ul", { class: "counts", "aria-label": `Counts of ${camera.name}` });
    const down = h("span", { class: "tile-badge down", hidden: true });
    const tamper = h("span", { class: "tile-badge tamper", hidden: true });
    const badges = h("div", { class: "tile-badges", "aria-live": "polite" }, down, tamper);
    const tile = { camera, img, waiting, canvas, state, video, legend, down, tamper, status: null, lines: lines.items, zones: zones.items, frame: null, counts: null };
    tiles.set(camera.id, tile);
    showStatus(tile, status);
    img.addEventListener("load", () => {
      tile.width = img.naturalWidth;
      tile.height = img.naturalHeight;
      if (!tile.frame) drawOverlay(canvas, tile);
    });
    grid.append(h("article", { class: "card cam", "aria-label": camera.name },
      h("h2", {}, camera.name), h("figure", {}, img, waiting, canvas, badges), state, video,
      camera.edge_node_id ? h("p", { class: "status" }, "Runs on edge node ", h("a", { href: "#/nodes" }, camera.edge_node_id)) : "",
      legend));
  }
  function showCounts(tile) {
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
  function showStatus(tile, update) {
    if (!update) { if (!tile.status) tile.state.textContent = "status unknown"; return; }
    // A /ws message carries no tamper fields: the latest polled ones are kept.
    const status = { ...tile.status, ...update };
    tile.status = status;
    showBadges(tile, status);
    tile.state.dataset.state = status.state;
    const fps = (v) => Number(v ?? 0).toFixed(1);
    tile.state.textContent = `${status.state} · ${fps(status.fps_in)} fps in, ${fps(status.fps_detected)} analysed`
      + (status.last_error ? ` · ${status.last_error}` : "");
  }
  const players = [...tiles.values()].map((tile) => {
    showCounts(tile);
    return play(tile.camera.id, VIDEO_FPS, (url) => {
      tile.img.src = url;
      tile.img.hidden = false;
      tile.waiting.hidden = true;
      tile.video.textContent = "";
    }, (text) => { tile.video.textContent = text; });
  });
  const channels = cameras.flatMap((c) => [`camera.${c.id}.tracks`, `camera.${c.id}.counts`]);
  subscribe(["system", ...channels]);
  const stops = [
    on("tracks", (m) => { const t = tiles.get(m.camera_id); if (t) { t.frame = m; drawOverlay(t.canvas, t); } }),
    on("counts", (m) => { const t = tiles.get(m.camera_id); if (t) { t.counts = m.counts; showCounts(t); } }),
    on("camera.status", (m) => { const t = tiles.get(m.camera_id); if (t) showStatus(t, m); }),
  ];
  let polling = true;
  let poll = null;
  const pollStatus = async () => {
    await Promise.all([...tiles.values()].map(async (tile) => {
      const status = await get(`/cameras/${tile.camera.id}/status`).catch(() => null);
      if (polling && status) showStatus(tile, status);
    }));
    if (polling) poll = setTimeout(pollStatus, STATUS_POLL_MS);
  };
  if (tiles.size) poll = setTimeout(pollStatus, STATUS_POLL_MS);
  const node = h("div", {}, h("h1", {}, "Live"),
    cameras.length ? grid : h("p", {}, "No cameras yet. Add one under Configuration."));
  return { node, cleanup() {
    polling = false;
    clearTimeout(poll);
    players.forEach((stop) => stop());
    unsubscribe(channels);
    stops.forEach((s) => s());
  } };
}
