// Live: one tile per camera, its latest frame refreshed over REST, overlays from /ws.
import { blobUrl, get } from "../api.js";
import { on, subscribe, unsubscribe } from "../live.js";
import { h } from "../dom.js";

const FRAME_MS = 500;

function drawOverlay(canvas, tile) {
  const { frame, lines, zones, counts } = tile;
  const width = frame?.width ?? tile.width;
  const height = frame?.height ?? tile.height;
  if (!width || !height) return;
  canvas.width = width;
  canvas.height = height;
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, width, height);
  g.lineWidth = Math.max(2, width / 400);
  g.font = `${Math.max(12, width / 60)}px system-ui`;
  for (const zone of zones) {
    g.strokeStyle = "#f5a524";
    g.fillStyle = "rgba(245,165,36,0.15)";
    g.beginPath();
    zone.polygon.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y)));
    g.closePath();
    g.fill();
    g.stroke();
    const n = counts?.zones?.[zone.name] ?? counts?.[zone.name]?.occupancy;
    g.fillStyle = "#f5a524";
    g.fillText(`${zone.name}${n === undefined ? "" : `: ${JSON.stringify(n)}`}`, zone.polygon[0][0] + 4, zone.polygon[0][1] + 16);
  }
  for (const line of lines) {
    g.strokeStyle = "#3d8bfd";
    g.beginPath();
    g.moveTo(...line.start);
    g.lineTo(...line.end);
    g.stroke();
    const c = counts?.lines?.[line.name] ?? counts?.[line.name];
    g.fillStyle = "#3d8bfd";
    g.fillText(`${line.name}${c ? ` in ${c.in ?? 0} / out ${c.out ?? 0}` : ""}`, line.start[0] + 4, line.start[1] - 6);
  }
  for (const track of frame?.tracks ?? []) {
    const [x1, y1, x2, y2] = track.box;
    g.strokeStyle = "#4cc38a";
    g.strokeRect(x1, y1, x2 - x1, y2 - y1);
    g.fillStyle = "#4cc38a";
    g.fillText(`${track.class_name} #${track.id}`, x1 + 2, Math.max(12, y1 - 4));
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
    const img = h("img", { alt: `Live image of ${camera.name}`, "data-camera": camera.id });
    const canvas = h("canvas", { "aria-hidden": "true" });
    const state = h("p", { class: "status", role: "status" });
    const tile = { camera, img, canvas, state, lines: lines.items, zones: zones.items, frame: null, counts: null };
    tiles.set(camera.id, tile);
    showStatus(tile, status);
    grid.append(h("article", { class: "card cam", "aria-label": camera.name },
      h("h2", {}, camera.name), h("figure", {}, img, canvas), state));
  }
  function showStatus(tile, status) {
    if (!status) { tile.state.textContent = "status unknown"; return; }
    tile.state.dataset.state = status.state;
    const fps = status.fps_detected ?? 0;
    tile.state.textContent = `${status.state} · ${Number(fps).toFixed(1)} fps${status.last_error ? ` · ${status.last_error}` : ""}`;
  }
  let running = true;
  async function refresh() {
    for (const tile of tiles.values()) {
      try {
        const url = await blobUrl(`/cameras/${tile.camera.id}/snapshot`);
        const old = tile.img.src;
        tile.img.src = url;
        if (old.startsWith("blob:")) URL.revokeObjectURL(old);
        tile.img.onload = () => { tile.width = tile.img.naturalWidth; tile.height = tile.img.naturalHeight; drawOverlay(tile.canvas, tile); };
      } catch { /* no frame yet: keep the last one */ }
    }
    if (running) setTimeout(refresh, FRAME_MS);
  }
  const channels = cameras.flatMap((c) => [`camera.${c.id}.tracks`, `camera.${c.id}.counts`]);
  subscribe(["system", ...channels]);
  const stops = [
    on("tracks", (m) => { const t = tiles.get(m.camera_id); if (t) { t.frame = m; drawOverlay(t.canvas, t); } }),
    on("counts", (m) => { const t = tiles.get(m.camera_id); if (t) t.counts = m.counts; }),
    on("camera.status", (m) => { const t = tiles.get(m.camera_id); if (t) showStatus(t, m); }),
  ];
  refresh();
  const node = h("div", {}, h("h1", {}, "Live"),
    cameras.length ? grid : h("p", {}, "No cameras yet. Add one under Configuration."));
  return { node, cleanup() { running = false; unsubscribe(channels); stops.forEach((s) => s()); } };
}
