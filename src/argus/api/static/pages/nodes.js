// Nodes: every edge node with its link state, last report, outbox and its cameras' health.
// Polled every few seconds; cards and rows are updated in place (no flicker, focus kept).
import { get } from "../api.js";
import { h, when } from "../dom.js";

const REFRESH_MS = 5000;
const NAMES_EVERY = 12;  // refreshes between two reads of the camera names (renames)
const STATES = ["online", "buffering", "syncing", "offline"];
const TAMPER_ALARMS = ["covered", "blurred", "moved", "frozen", "black", "white", "noise"];

/** "12 s ago", "3 min ago", "2 h ago", "4 d ago" from an ISO time and now (ms). */
export function ago(iso, now = Date.now()) {
  if (!iso) return "never";
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

/** A duration in seconds as "4.2 s", "7 min", "3.5 h"; "—" when unknown. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 90) return `${Number(seconds).toFixed(seconds < 10 ? 1 : 0)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function bytes(n) {
  if (n === null || n === undefined) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = Number(n);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value.toFixed(unit && value < 10 ? 1 : 0)} ${units[unit]}`;
}

const pct = (v) => (v === null || v === undefined ? "—" : `${Number(v).toFixed(0)} %`);
const fps = (v) => Number(v ?? 0).toFixed(1);

/** The node's state as the server sees it: offline wins over what the node last said. */
export function nodeState(node) {
  if (node.offline) return "offline";
  const state = node.state ?? node.last_report?.state;
  return STATES.includes(state) ? state : "unknown";
}

/** A tamper badge's text: alarms in capitals, "learning" and "ok" plain. */
export function tamperText(tamper, score) {
  if (!tamper) return "—";
  if (TAMPER_ALARMS.includes(tamper)) {
    return `TAMPER: ${tamper}${score === undefined || score === null ? "" : ` (${Number(score).toFixed(2)})`}`;
  }
  return tamper;
}

/** Sets text (and a data attribute) only when it changed, so nothing is redrawn needlessly. */
function put(el, text, data = {}) {
  if (el.textContent !== text) el.textContent = text;
  for (const [key, value] of Object.entries(data)) {
    if (el.dataset[key] !== value) el.dataset[key] = value;
  }
}

function stat(label, key) {
  const value = h("dd", { "data-field": key });
  return { node: h("div", {}, h("dt", {}, label), value), value };
}

const CAMERA_COLUMNS = ["Camera", "State", "FPS in / analysed", "Last frame", "Decode errors", "Reconnects", "Tamper"];

function cameraRow(cameraId) {
  const cells = Object.fromEntries(["name", "state", "fps", "frame", "errors", "reconnects", "tamper"]
    .map((key) => [key, h("td", { "data-field": key })]));
  const badge = h("span", { class: "tamper-state" });
  cells.tamper.append(badge);
  const stateBadge = h("span", { class: "cam-state" });
  cells.state.append(stateBadge);
  const row = h("tr", { "data-camera": cameraId }, Object.values(cells));
  return { row, cells, badge, stateBadge };
}

function updateCameraRow(entry, health, name) {
  put(entry.cells.name, name);
  if (!health) {
    put(entry.stateBadge, "no report", { state: "unknown" });
    for (const key of ["fps", "frame", "errors", "reconnects"]) put(entry.cells[key], "—");
    put(entry.badge, "—", { tamper: "unknown" });
    return;
  }
  put(entry.stateBadge, health.state, { state: health.state });
  put(entry.cells.fps, `${fps(health.fps_in)} / ${fps(health.fps_analysed)}`);
  put(entry.cells.frame, health.last_frame_age_s === null || health.last_frame_age_s === undefined
    ? "none yet" : `${duration(health.last_frame_age_s)} ago`);
  put(entry.cells.errors, String(health.decode_errors ?? 0));
  put(entry.cells.reconnects, String(health.reconnects ?? 0));
  put(entry.badge, tamperText(health.tamper, health.tamper_score), { tamper: health.tamper ?? "unknown" });
}

/** One node's card; ``update(node, names)`` refreshes it in place. */
function nodeCard(nodeId) {
  const badge = h("span", { class: "node-state", role: "status" });
  const seen = h("span", { class: "ago" });
  const fields = {};
  const list = h("dl", { class: "node-stats" });
  for (const [label, key] of [
    ["Host", "hostname"], ["Outbox", "outbox"], ["Oldest item", "oldest"], ["Dropped", "dropped"],
    ["Quarantined", "quarantined"], ["CPU", "cpu"], ["Memory", "memory"], ["Disk free", "disk"],
    ["Temperature", "temperature"], ["Clock offset", "clock"], ["Versions", "versions"],
    ["Models", "models"], ["Capabilities", "capabilities"], ["Registered", "registered"],
  ]) {
    const item = stat(label, key);
    fields[key] = item.value;
    list.append(item.node);
  }
  const rows = new Map();
  const body = h("tbody", {});
  const empty = h("p", { class: "muted" }, "No cameras assigned.");
  const table = h("div", { class: "scroll" }, h("table", { "aria-label": `Cameras of node ${nodeId}` },
    h("thead", {}, h("tr", {}, CAMERA_COLUMNS.map((t) => h("th", { scope: "col" }, t)))), body));
  const heading = h("h2", {}, nodeId, " ", badge);
  const stale = h("span", { class: "muted stale-note" });
  const card = h("article", { class: "card node", "data-node": nodeId, "aria-label": `Node ${nodeId}` },
    heading, h("p", { class: "last-report" }, "Last report ", seen), list,
    h("h3", {}, "Cameras ", stale), empty, table);
  let lastSeen = null;

  function update(node, names) {
    const state = nodeState(node);
    put(badge, state, { state });
    card.dataset.state = state;
    // An offline node's figures are its last report's, not the present: shown muted.
    put(stale, state === "offline" && node.last_report ? "(as of the last report)" : "");
    lastSeen = node.last_seen_at ?? null;
    seen.title = lastSeen ? when(lastSeen) : "";
    tick();
    const r = node.last_report ?? {};
    put(fields.hostname, node.hostname || "—");
    put(fields.outbox, r.outbox_items === undefined ? "—" : `${r.outbox_items} items (${bytes(r.outbox_bytes)})`);
    put(fields.oldest, duration(r.outbox_oldest_age_s));
    const dropped = Object.entries(r.outbox_dropped ?? {}).filter(([, n]) => n > 0);
    put(fields.dropped, dropped.length ? dropped.map(([kind, n]) => `${kind} ${n}`).join(", ") : "none",
      { alarm: String(dropped.length > 0) });
    put(fields.quarantined, String(r.quarantined ?? 0), { alarm: String((r.quarantined ?? 0) > 0) });
    put(fields.cpu, pct(r.cpu_percent));
    put(fields.memory, pct(r.memory_percent));
    put(fields.disk, r.disk_total_bytes
      ? `${bytes(r.disk_free_bytes)} of ${bytes(r.disk_total_bytes)} (${pct(100 * r.disk_free_bytes / r.disk_total_bytes)})` : "—");
    put(fields.temperature, r.temperature_c === null || r.temperature_c === undefined ? "—" : `${Number(r.temperature_c).toFixed(1)} °C`);
    put(fields.clock, r.clock_offset_s === null || r.clock_offset_s === undefined
      ? "—" : `${r.clock_offset_s >= 0 ? "+" : ""}${Number(r.clock_offset_s).toFixed(2)} s`);
    const versions = { argus: node.version, ...(r.versions ?? {}) };
    put(fields.versions, Object.entries(versions).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(", ") || "—");
    put(fields.models, (node.models ?? []).join(", ") || "—");
    put(fields.capabilities, (node.capabilities ?? []).join(", ") || "—");
    put(fields.registered, node.registered_at ? when(node.registered_at) : "—");

    // Cameras: those in the latest report, then assigned ones the node has not reported yet.
    const health = new Map((r.cameras ?? []).map((c) => [c.camera_id, c]));
    const ids = [...health.keys(), ...(node.camera_ids ?? []).filter((id) => !health.has(id))];
    for (const id of ids) {
      if (!rows.has(id)) rows.set(id, cameraRow(id));
      updateCameraRow(rows.get(id), health.get(id), names.get(id) ?? id);
    }
    for (const [id, entry] of rows) if (!ids.includes(id)) { entry.row.remove(); rows.delete(id); }
    const order = ids.map((id) => rows.get(id).row);
    if (order.some((row, i) => body.children[i] !== row)) body.replaceChildren(...order);
    empty.hidden = ids.length > 0;
    table.hidden = ids.length === 0;
  }

  function tick(now = Date.now()) { put(seen, ago(lastSeen, now)); }
  return { card, update, tick };
}

export async function nodesView() {
  const cards = new Map();
  const list = h("section", { class: "nodes", "aria-label": "Edge nodes" });
  const none = h("p", {}, "No edge nodes yet. An admin creates an API key with the edge permission; "
    + "a node started with it (argus edge) registers and shows here.");
  const failure = h("p", { class: "error", role: "alert" });
  let names = new Map();
  let namesAge = 0;
  let latest = 0;

  async function refresh() {
    const mine = ++latest;  // a slower, older answer must not overwrite a newer one
    const nodes = (await get("/nodes")).items;
    // Camera names are read again when a node names a camera not seen yet, or after a while.
    const named = nodes.flatMap((n) => [...(n.camera_ids ?? []), ...(n.last_report?.cameras ?? []).map((c) => c.camera_id)]);
    if (namesAge++ % NAMES_EVERY === 0 || named.some((id) => !names.has(id))) {
      names = new Map((await get("/cameras?limit=1000")).items.map((c) => [c.id, c.name]));
    }
    if (mine !== latest) return;
    const ids = nodes.map((n) => n.node_id).sort();
    const byId = new Map(nodes.map((n) => [n.node_id, n]));
    for (const id of ids) {
      if (!cards.has(id)) cards.set(id, nodeCard(id));
      cards.get(id).update(byId.get(id), names);
    }
    for (const [id, entry] of cards) if (!byId.has(id)) { entry.card.remove(); cards.delete(id); }
    const order = ids.map((id) => cards.get(id).card);
    if (order.some((card, i) => list.children[i] !== card)) list.replaceChildren(...order);
    none.hidden = ids.length > 0;
  }

  await refresh();
  let stopped = false;
  let timer = null;
  const loop = async () => {
    try {
      await refresh();
      put(failure, "");
    } catch (err) {
      put(failure, `Could not refresh: ${err.message}`);
    }
    if (!stopped) timer = setTimeout(loop, REFRESH_MS);
  };
  timer = setTimeout(loop, REFRESH_MS);
  const clock = setInterval(() => { const now = Date.now(); cards.forEach((c) => c.tick(now)); }, 1000);
  const node = h("div", {}, h("h1", {}, "Nodes"), failure, none, list);
  return { node, cleanup() { stopped = true; clearTimeout(timer); clearInterval(clock); } };
}
