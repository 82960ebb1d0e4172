// Configuration: cameras (with a connection test), lines and zones drawn on the
// snapshot, rules, and users (admin only). Viewers and operators see it read-only;
// camera-scoped users get only their cameras from the API.
import { blobUrl, del, get, patch, post } from "../api.js";
import { field, h, toast } from "../dom.js";

const EVENT_TYPES = ["line.crossed", "line.wrong_way", "zone.entered", "zone.exited",
  "zone.loitering", "zone.crowding", "behaviour.running"];
const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** An API error as a sentence (422 details become "field: message" lines). */
function explain(err) {
  try {
    const detail = JSON.parse(err.message);
    if (Array.isArray(detail)) {
      return detail.map((d) => `${(d.loc ?? []).filter((p) => p !== "body").join(".") || "request"}: ${d.msg}`).join("; ");
    }
  } catch { /* plain text */ }
  return err.message;
}

const words = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);
const numberOrNull = (input) => (input.value.trim() === "" ? null : Number(input.value));
const round = (v) => Math.round(v * 10) / 10;
const pointText = ([x, y]) => `${round(x)},${round(y)}`;

function check(label, input) {
  return h("label", { class: "check" }, input, label);
}

/** Tick boxes for a camera scope: "All cameras" (null) or a list of camera ids. */
function scopePicker(cameras, selected, name, locked = false) {
  const all = h("input", { type: "checkbox", checked: selected === null || selected === undefined, disabled: locked });
  const boxes = cameras.map((c) => h("input", { type: "checkbox", value: c.id,
    checked: Array.isArray(selected) && selected.includes(c.id), disabled: locked }));
  const sync = () => { for (const b of boxes) b.disabled = locked || all.checked; };
  all.addEventListener("change", sync);
  sync();
  const node = h("fieldset", { class: "scope" }, h("legend", {}, name),
    check("All cameras", all), cameras.map((c, i) => check(c.name, boxes[i])));
  return {
    node,
    value() {
      if (all.checked) return null;
      const ids = boxes.filter((b) => b.checked).map((b) => b.value);
      if (!ids.length) throw new Error("Choose at least one camera, or All cameras.");
      return ids;
    },
  };
}

// --- cameras ------------------------------------------------------------------------------

function credentialsOf(form) {
  const username = form.cam_username.value;
  const password = form.cam_password.value;
  return username || password ? { username, password } : undefined;
}

function cameraForm(me, camera, done) {
  const locked = !me.can("configure");
  const input = (name, value, extra = {}) => h("input", { name, value: value ?? "", disabled: locked, ...extra });
  const probeResult = h("p", { role: "status", class: "probe-result" });
  const probeImage = h("img", { alt: "Test snapshot", class: "probe", hidden: true });
  const forgetLogin = camera?.has_credentials
    ? check("Remove the stored login", h("input", { type: "checkbox", name: "forget_login", disabled: locked })) : null;
  const form = h("form", { class: camera ? "camera-form" : "card camera-form", "aria-label": camera ? `Edit camera ${camera.name}` : "Add a camera" },
    h("h3", {}, camera ? "Settings" : "Add a camera"),
    h("div", { class: "form-grid" },
      field("Name", input("name", camera?.name, { required: true, maxlength: "200" })),
      field("Stream URL", input("stream_url", camera?.stream_url, { required: true, maxlength: "2048",
        placeholder: "rtsp://10.0.0.5:554/stream1" })),
      field("Location", input("location", camera?.location, { maxlength: "200" })),
      field("Detection fps", input("detect_fps", camera?.detect_fps ?? 5, { type: "number", min: "0.1", max: "120", step: "0.1" })),
      field("Stream username", input("cam_username", "", { autocomplete: "off" })),
      field("Stream password", input("cam_password", "", { type: "password", autocomplete: "new-password",
        placeholder: camera?.has_credentials ? "stored: empty keeps it" : "" })),
      check("Run its pipeline", h("input", { type: "checkbox", name: "enabled", checked: camera?.enabled ?? true, disabled: locked })),
      forgetLogin),
    h("p", { class: "legend" }, "The stream login is stored encrypted and never shown again."),
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "primary", disabled: locked }, camera ? "Save camera" : "Add camera"),
      camera ? null : h("button", { type: "button", disabled: locked, onclick: () => probe() }, "Test connection"),
      camera ? h("button", { type: "button", class: "danger", disabled: locked, onclick: async () => {
        if (!confirm(`Remove camera ${camera.name} with its lines and zones?`)) return;
        try { await del(`/cameras/${camera.id}`); toast(`Camera ${camera.name} removed`); done(); } catch (err) { toast(explain(err)); }
      } }, "Remove camera") : null),
    camera ? null : probeResult, camera ? null : probeImage);

  async function probe() {
    if (!form.stream_url.value) { probeResult.textContent = "Enter a stream URL first."; return; }
    probeResult.textContent = "Testing…";
    probeImage.hidden = true;
    const body = { stream_url: form.stream_url.value, timeout_s: 10 };
    const credentials = credentialsOf(form);
    if (credentials) body.credentials = credentials;
    try {
      const answer = await post("/cameras/probe", body);
      if (answer.ok) {
        const size = answer.width ? `${answer.width}×${answer.height} ` : "";
        probeResult.textContent = `OK ${size}in ${answer.elapsed_s.toFixed(1)} s`;
        if (answer.snapshot_jpeg_base64) {
          probeImage.src = `data:image/jpeg;base64,${answer.snapshot_jpeg_base64}`;
          probeImage.hidden = false;
        }
      } else {
        probeResult.textContent = `Failed: ${answer.error ?? "no frame"}`;
      }
    } catch (err) { probeResult.textContent = `Failed: ${explain(err)}`; }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: form.name.value, stream_url: form.stream_url.value, location: form.location.value,
      detect_fps: Number(form.detect_fps.value), enabled: form.enabled.checked };
    const credentials = credentialsOf(form);
    if (credentials) body.credentials = credentials;
    else if (form.forget_login?.checked) body.credentials = null;
    try {
      if (camera) await patch(`/cameras/${camera.id}`, body); else await post("/cameras", body);
      toast(`Camera ${body.name} saved`);
      done();
    } catch (err) { toast(explain(err)); }
  });
  return form;
}

/** Arrowhead at (x, y) pointing along (ux, uy). */
function arrowHead(g, x, y, ux, uy, size) {
  g.beginPath();
  g.moveTo(x, y);
  g.lineTo(x - ux * size - uy * size * 0.6, y - uy * size + ux * size * 0.6);
  g.lineTo(x - ux * size + uy * size * 0.6, y - uy * size - ux * size * 0.6);
  g.closePath();
  g.fill();
}

/**
 * A line with its "in" arrow. The domain (argus.domain.analytics.LineZone): the in side is
 * on the left looking from start to end (y down), normal (dy, -dx); crossing towards it is "in".
 */
function drawLine(g, start, end, inLabel, outLabel, color, scale) {
  const [x0, y0] = start;
  const [x1, y1] = end;
  const dx = x1 - x0;
  const dy = y1 - y0;
  const length = Math.hypot(dx, dy);
  g.strokeStyle = color;
  g.fillStyle = color;
  g.beginPath(); g.moveTo(x0, y0); g.lineTo(x1, y1); g.stroke();
  g.beginPath(); g.arc(x0, y0, 5 * scale, 0, 2 * Math.PI); g.fill();  // the start
  if (length < 1) return;
  const nx = dy / length;
  const ny = -dx / length;
  const mx = (x0 + x1) / 2;
  const my = (y0 + y1) / 2;
  const arrow = Math.min(40 * scale, Math.max(length / 2, 15 * scale));
  const tail = [mx - nx * arrow * 0.5, my - ny * arrow * 0.5];
  const tip = [mx + nx * arrow, my + ny * arrow];
  g.beginPath(); g.moveTo(...tail); g.lineTo(...tip); g.stroke();
  arrowHead(g, tip[0], tip[1], nx, ny, 9 * scale);
  g.font = `bold ${Math.round(14 * scale)}px system-ui, sans-serif`;
  // Each label sits beyond its end of the arrow, aligned away from it so it never hides the arrow.
  const label = (text, x, y, ux, uy) => {
    g.textAlign = ux > 0.3 ? "left" : ux < -0.3 ? "right" : "center";
    g.textBaseline = uy > 0.3 ? "top" : uy < -0.3 ? "bottom" : "middle";
    g.lineWidth = 4 * scale; g.strokeStyle = "#000"; g.strokeText(text, x, y);
    g.fillStyle = color; g.fillText(text, x, y);
  };
  const lw = g.lineWidth;
  const gap = 4 * scale;
  if (inLabel) label(inLabel, tip[0] + nx * gap, tip[1] + ny * gap, nx, ny);
  if (outLabel) label(outLabel, tail[0] - nx * gap, tail[1] - ny * gap, -nx, -ny);
  g.lineWidth = lw;
}

/** Click points on the snapshot: two for a line (start → end), three or more for a zone. */
function editor(me, camera, lines, zones, done, urls) {
  const locked = !me.can("configure");
  const img = h("img", { alt: `Snapshot of ${camera.name}` });
  const canvas = h("canvas", { "aria-label": "Drawing area: click to add points", role: "img" });
  let points = [];
  const mode = h("select", { name: "shape", disabled: locked },
    h("option", { value: "zone" }, "Zone (polygon)"), h("option", { value: "line" }, "Line (start → end)"));
  const name = h("input", { name: "shape_name", required: true, maxlength: "64", disabled: locked });
  const coords = h("input", { name: "points", disabled: locked, placeholder: "x,y; x,y; …", inputmode: "decimal" });
  const inLabel = h("input", { name: "in_label", value: "in", required: true, maxlength: "64", disabled: locked });
  const outLabel = h("input", { name: "out_label", value: "out", required: true, maxlength: "64", disabled: locked });
  const expected = h("select", { name: "expected_direction", disabled: locked },
    h("option", { value: "" }, "either (no wrong way)"), h("option", { value: "in" }, "in only"), h("option", { value: "out" }, "out only"));
  const counting = h("select", { name: "counting", disabled: locked },
    h("option", { value: "robust" }, "robust (band, stitching)"), h("option", { value: "strict" }, "strict (track ids only)"));
  const bandPx = h("input", { name: "band_px", type: "number", min: "0", max: "10000", step: "any", value: "0", disabled: locked });
  const stitch = h("input", { name: "stitch_seconds", type: "number", min: "0", max: "60", step: "any", value: "1", disabled: locked });
  const loiter = h("input", { name: "loiter_seconds", type: "number", min: "0.1", step: "any", disabled: locked });
  const crowd = h("input", { name: "crowd_threshold", type: "number", min: "1", step: "1", disabled: locked });
  const hint = locked ? "Read-only: the lines and zones as configured." : "Click on the image to add points.";
  const status = h("p", { role: "status", class: "legend" }, hint);
  const colours = h("p", { class: "legend" }, "Blue: saved lines (dot = start, arrow = in side); "
    + "orange: saved zones; pink: what you draw.");
  const reverse = h("button", { type: "button", disabled: locked, onclick: () => {
    if (points.length === 2) { points = [points[1], points[0]]; update("Direction reversed."); }
    else toast("Draw the line first (two points).");
  } }, "Reverse direction");
  const lineFields = h("div", { class: "form-grid", hidden: true },
    field("In label", inLabel), field("Out label", outLabel), field("Expected direction", expected),
    field("Counting", counting), field("Band (px, 0 = auto)", bandPx), field("Stitch gap (s, 0 = off)", stitch),
    h("div", {}, reverse));
  const zoneFields = h("div", { class: "form-grid" },
    field("Loitering after (s, optional)", loiter), field("Crowd threshold (optional)", crowd));
  const legend = h("p", { class: "legend" });

  function describe() {
    if (mode.value === "line") {
      legend.textContent = "Line: click its start (dot), then its end. The arrow points to the in side: "
        + `an object crossing along the arrow counts as “${inLabel.value || "in"}”, the other way as `
        + `“${outLabel.value || "out"}”. The in side is on the left looking from start to end. `
        + "Reverse direction swaps start and end.";
    } else {
      legend.textContent = "Zone: click three or more corners; the polygon closes itself.";
    }
  }
  function draw() {
    if (!img.naturalWidth) return;
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    // Strokes and labels keep their on-screen size however large the image is shown.
    const shown = canvas.getBoundingClientRect().width;
    const scale = shown > 0 ? Math.max(0.5, canvas.width / shown) : 1;
    const g = canvas.getContext("2d");
    g.lineWidth = 2 * scale;
    g.strokeStyle = "#f5a524";
    for (const z of zones) {
      g.beginPath(); z.polygon.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y))); g.closePath(); g.stroke();
    }
    for (const l of lines) drawLine(g, l.start, l.end, l.in_label, l.out_label, "#3d8bfd", scale);
    g.lineWidth = 2 * scale;
    if (mode.value === "line" && points.length === 2) {
      drawLine(g, points[0], points[1], inLabel.value, outLabel.value, "#ff4df0", scale);
    } else {
      g.strokeStyle = "#ff4df0";
      g.fillStyle = "#ff4df0";
      g.beginPath();
      points.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y)));
      if (mode.value === "zone" && points.length > 2) g.closePath();
      g.stroke();
      points.forEach(([x, y]) => g.fillRect(x - 4 * scale, y - 4 * scale, 8 * scale, 8 * scale));
    }
  }
  function update(message) {
    coords.value = points.map(pointText).join("; ");
    status.textContent = message ?? `${points.length} point(s)`;
    draw();
  }
  const board = h("div", { class: "editor", hidden: true }, img, canvas);
  img.addEventListener("load", () => { board.hidden = false; draw(); });
  new ResizeObserver(() => draw()).observe(board);
  // A pipeline restarted by a change has no frame for a moment: try again a few times.
  const loadSnapshot = (attempt) => blobUrl(`/cameras/${camera.id}/snapshot`)
    .then((url) => { urls.push(url); img.src = url; if (attempt) status.textContent = hint; })
    .catch(() => {
      status.textContent = "No snapshot yet: the camera has not delivered a frame, so there is nothing to draw on.";
      if (camera.enabled && attempt < 10) setTimeout(() => { if (board.isConnected || attempt === 0) loadSnapshot(attempt + 1); }, 2000);
    });
  loadSnapshot(0);
  canvas.addEventListener("click", (event) => {
    if (locked || !canvas.width) return;
    const box = canvas.getBoundingClientRect();
    const x = Math.round(((event.clientX - box.left) / box.width) * canvas.width);
    const y = Math.round(((event.clientY - box.top) / box.height) * canvas.height);
    if (mode.value === "line" && points.length === 2) points = [];
    points.push([x, y]);
    update(mode.value === "line" && points.length === 1 ? "Start set; click the end." : undefined);
  });
  coords.addEventListener("change", () => {
    const parsed = coords.value.split(";").map((p) => p.split(",").map((v) => Number(v.trim())))
      .filter((p) => p.length === 2 && p.every(Number.isFinite));
    points = parsed;
    update();
  });
  mode.addEventListener("change", () => {
    points = [];
    lineFields.hidden = mode.value !== "line";
    zoneFields.hidden = mode.value === "line";
    describe();
    update(hint);
  });
  for (const input of [inLabel, outLabel]) input.addEventListener("input", () => { describe(); draw(); });
  describe();
  const save = h("button", { type: "submit", class: "primary", disabled: locked }, "Save shape");
  const clear = h("button", { type: "button", disabled: locked, onclick: () => { points = []; update(); } }, "Clear");
  const form = h("form", { "aria-label": `Draw a line or zone on ${camera.name}`, class: "draw" },
    h("h3", {}, "Draw a line or zone"),
    board, status, colours, legend,
    h("div", { class: "form-grid" }, field("Shape", mode), field("Shape name", name), field("Points (x,y; …)", coords)),
    lineFields, zoneFields,
    h("div", { class: "actions" }, save, clear));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      if (mode.value === "zone") {
        if (points.length < 3) throw new Error("A zone needs at least three points.");
        const body = { name: name.value, polygon: points };
        if (numberOrNull(loiter) !== null) body.loiter_seconds = numberOrNull(loiter);
        if (numberOrNull(crowd) !== null) body.crowd_threshold = numberOrNull(crowd);
        await post(`/cameras/${camera.id}/zones`, body);
      } else {
        if (points.length !== 2) throw new Error("A line needs two points.");
        await post(`/cameras/${camera.id}/lines`, { name: name.value, start: points[0], end: points[1],
          in_label: inLabel.value, out_label: outLabel.value, expected_direction: expected.value || null,
          counting: counting.value, band_px: numberOrNull(bandPx) ?? 0, stitch_seconds: numberOrNull(stitch) ?? 1 });
      }
      toast(`${mode.value === "zone" ? "Zone" : "Line"} ${name.value} saved`);
      done();
    } catch (err) { toast(explain(err)); }
  });
  return form;
}

async function cameraSection(me, camera, reload, urls) {
  const [lines, zones] = await Promise.all([get(`/cameras/${camera.id}/lines`), get(`/cameras/${camera.id}/zones`)]);
  const result = h("span", { role: "status" });
  const shot = h("img", { alt: `Snapshot from the connection test of ${camera.name}`, class: "probe", hidden: true });
  const test = h("button", { type: "button", onclick: async () => {
    result.textContent = "Testing…";
    shot.hidden = true;
    let state = "";
    try {
      const status = await get(`/cameras/${camera.id}/status`);
      const error = status.last_error ? ` (${status.last_error})` : "";
      state = `${status.state}, ${status.fps_in.toFixed(1)} fps in${error}`;
      const url = await blobUrl(`/cameras/${camera.id}/snapshot`);
      urls.push(url);
      shot.src = url;
      shot.hidden = false;
      result.textContent = `${state} — snapshot OK`;
    } catch (err) { result.textContent = `${state ? `${state} — ` : ""}Failed: ${explain(err)}`; }
  } }, "Test connection");
  const remove = (what, deleteIt) => h("button", { type: "button", disabled: !me.can("configure"), "aria-label": `Remove ${what}`,
    onclick: async () => {
      if (!confirm(`Remove ${what}?`)) return;
      try { await deleteIt(); toast(`Removed ${what}`); reload(); } catch (err) { toast(explain(err)); }
    } }, "Remove");
  return h("section", { class: "card camera", "aria-label": `Camera ${camera.name}`, "data-camera": camera.id },
    h("h2", {}, camera.name), h("p", { class: "legend" }, `id ${camera.id}${camera.location ? ` · ${camera.location}` : ""}`),
    h("div", { class: "actions" }, test, result), shot,
    cameraForm(me, camera, reload),
    h("h3", {}, "Lines"),
    lines.items.length ? null : h("p", { class: "legend" }, "No lines."),
    h("ul", { "aria-label": "Lines", class: "shapes" }, lines.items.map((l) => h("li", {},
      h("span", {}, h("strong", {}, l.name), ` (${pointText(l.start)}) → (${pointText(l.end)}) · in: ${l.in_label} · out: ${l.out_label}`
        + (l.expected_direction ? ` · expected: ${l.expected_direction}` : "")
        + (l.counting ? ` · ${l.counting}` : "")),
      remove(`line ${l.name}`, () => del(`/cameras/${camera.id}/lines/${l.id}`))))),
    h("h3", {}, "Zones"),
    zones.items.length ? null : h("p", { class: "legend" }, "No zones."),
    h("ul", { "aria-label": "Zones", class: "shapes" }, zones.items.map((z) => h("li", {},
      h("span", {}, h("strong", {}, z.name), `: ${z.polygon.length} points`
        + (z.loiter_seconds ? ` · loitering after ${z.loiter_seconds} s` : "")
        + (z.crowd_threshold ? ` · crowd at ${z.crowd_threshold}` : "")),
      remove(`zone ${z.name}`, () => del(`/cameras/${camera.id}/zones/${z.id}`))))),
    editor(me, camera, lines.items, zones.items, reload, urls));
}

// --- rules --------------------------------------------------------------------------------

function scheduleText(schedule) {
  if (!schedule) return "always";
  const days = schedule.days.length === 7 ? "every day" : schedule.days.map((d) => DAYS[d]).join(", ");
  const hours = schedule.start === schedule.end ? "all day" : `${schedule.start}–${schedule.end}`;
  return `${days}, ${hours} (${schedule.timezone})`;
}

function ruleForm(me, rule, cameras, done) {
  const locked = !me.can("configure");
  const input = (name, value, extra = {}) => h("input", { name, value: value ?? "", disabled: locked, ...extra });
  const num = (name, value, extra = {}) => input(name, value, { type: "number", step: "any", ...extra });
  const select = (name, value, options) => h("select", { name, disabled: locked },
    options.map(([v, text]) => h("option", { value: v, selected: v === (value ?? "") }, text)));
  const cameraOptions = [["", "All cameras"], ...cameras.map((c) => [c.id, c.name])];
  if (rule?.camera_id && !cameras.some((c) => c.id === rule.camera_id)) cameraOptions.push([rule.camera_id, rule.camera_id]);
  const label = rule ? `Rule ${rule.name}` : "Add a rule";
  const form = h("form", { "aria-label": label, class: "rule-form" },
    h("div", { class: "form-grid" },
      field("Name", input("name", rule?.name, { required: true, maxlength: "200" })),
      field("Description", input("description", rule?.description, { maxlength: "2000" })),
      check("Enabled", h("input", { type: "checkbox", name: "enabled", checked: rule?.enabled ?? true, disabled: locked })),
      field("Camera", select("camera_id", rule?.camera_id, cameraOptions)),
      field("Event types (comma-separated; any if empty)", input("event_types", rule?.event_types.join(", "),
        { list: "argus-event-types", placeholder: "zone.entered, line.crossed" })),
      field("Classes (comma-separated; any if empty)", input("classes", rule?.classes.join(", "), { placeholder: "person, car" })),
      field("Line", input("line", rule?.line, { maxlength: "64" })),
      field("Direction", select("direction", rule?.direction, [["", "any"], ["in", "in"], ["out", "out"]])),
      field("Zone", input("zone", rule?.zone, { maxlength: "64" })),
      field("Min dwell (s)", num("min_dwell_seconds", rule?.min_dwell_seconds, { min: "0" })),
      field("Min occupancy", num("min_occupancy", rule?.min_occupancy, { min: "1", step: "1" })),
      field("Min confidence (0–1)", num("min_confidence", rule?.min_confidence, { min: "0", max: "1" })),
      field("Count", num("count", rule?.count, { min: "1", step: "1" })),
      field("Window (s)", num("window_seconds", rule?.window_seconds, { min: "0" })),
      field("Cooldown (s)", num("cooldown_seconds", rule?.cooldown_seconds ?? 0, { min: "0", required: true })),
      field("Cooldown scope", select("cooldown_scope", rule?.cooldown_scope ?? "track", [["track", "per track"], ["camera", "per camera"]])),
      field("Weight (0–1; ≥0.7 high, <0.3 low)", num("weight", rule?.weight ?? 0.5, { min: "0", max: "1", required: true }))),
    rule ? h("p", { class: "legend" }, `Schedule: ${scheduleText(rule.schedule)}.`) : null,
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "primary", disabled: locked }, rule ? "Save rule" : "Add rule"),
      rule ? h("button", { type: "button", class: "danger", disabled: locked, onclick: async () => {
        if (!confirm(`Delete rule ${rule.name}?`)) return;
        try { await del(`/rules/${rule.id}`); toast(`Rule ${rule.name} deleted`); done(); } catch (err) { toast(explain(err)); }
      } }, "Delete rule") : null));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = form.elements;
    const text = (name) => f[name].value.trim() || null;
    const body = {
      name: f.name.value, description: f.description.value, enabled: f.enabled.checked,
      camera_id: f.camera_id.value || null, event_types: words(f.event_types.value), classes: words(f.classes.value),
      line: text("line"), direction: f.direction.value || null, zone: text("zone"),
      min_dwell_seconds: numberOrNull(f.min_dwell_seconds), min_occupancy: numberOrNull(f.min_occupancy),
      min_confidence: numberOrNull(f.min_confidence), count: numberOrNull(f.count),
      window_seconds: numberOrNull(f.window_seconds), cooldown_seconds: Number(f.cooldown_seconds.value),
      cooldown_scope: f.cooldown_scope.value, weight: Number(f.weight.value),
    };
    try {
      if (rule) await patch(`/rules/${rule.id}`, body); else await post("/rules", body);
      toast(`Rule ${body.name} saved`);
      done();
    } catch (err) { toast(explain(err)); }
  });
  return form;
}

function rulesSection(me, rules, cameras, reload) {
  const cameraName = (id) => (id === null ? "all cameras" : cameras.find((c) => c.id === id)?.name ?? id);
  return h("section", { class: "card", "aria-label": "Rules" }, h("h2", {}, "Rules"),
    h("datalist", { id: "argus-event-types" }, EVENT_TYPES.map((t) => h("option", { value: t }))),
    rules.length ? null : h("p", { class: "legend" }, "No rules."),
    h("div", { class: "rules" }, rules.map((rule) => h("details", { class: "rule", "data-rule": rule.id },
      h("summary", {}, h("strong", {}, rule.name), " ",
        h("span", { class: rule.enabled ? "on" : "off" }, rule.enabled ? "enabled" : "disabled"),
        h("span", { class: "legend" }, ` · ${rule.event_types.join(", ") || "any event"} · ${cameraName(rule.camera_id)}`)),
      ruleForm(me, rule, cameras, reload)))),
    me.can("configure") ? h("details", { class: "rule new-rule" }, h("summary", {}, h("strong", {}, "Add a rule")),
      ruleForm(me, null, cameras, reload)) : null);
}

// --- users (admin only) -------------------------------------------------------------------

const ROLES = ["viewer", "operator", "admin"];

function userRow(me, u, cameras, reload) {
  const self = u.id === me.user?.id;
  const role = h("select", { "aria-label": `Role of ${u.username}`, disabled: self },
    ROLES.map((r) => h("option", { value: r, selected: r === u.role }, r)));
  const scope = scopePicker(cameras, u.cameras, `Cameras of ${u.username}`);
  const disabled = h("input", { type: "checkbox", checked: u.disabled, disabled: self });
  const act = async (what, call) => {
    try { await call(); toast(`${u.username}: ${what}`); reload(); } catch (err) { toast(explain(err)); }
  };
  const save = h("button", { type: "button", class: "primary", onclick: () => {
    let cams;
    try { cams = scope.value(); } catch (err) { toast(err.message); return; }
    const body = {};
    if (role.value !== u.role) body.role = role.value;
    if (JSON.stringify(cams) !== JSON.stringify(u.cameras)) body.cameras = cams;
    if (disabled.checked !== u.disabled) body.disabled = disabled.checked;
    if (!Object.keys(body).length) { toast("Nothing changed"); return; }
    act("saved", () => patch(`/users/${u.id}`, body));
  } }, "Save");
  const locked = u.locked_until && new Date(u.locked_until) > new Date();
  return h("tr", { "data-user": u.username },
    h("th", { scope: "row", "data-label": "User" }, u.username, self ? " (you)" : ""),
    h("td", { "data-label": "Role" }, role),
    h("td", { "data-label": "Cameras" }, scope.node),
    h("td", { "data-label": "Account" }, check("Disabled", disabled),
      locked ? h("button", { type: "button", onclick: () => act("unlocked", () => post(`/users/${u.id}/unlock`)) }, "Unlock") : null),
    h("td", { "data-label": "MFA" }, u.mfa_enabled ? "on " : "off",
      u.mfa_enabled ? h("button", { type: "button", "aria-label": `Reset MFA of ${u.username}`, onclick: () => {
        if (confirm(`Remove the MFA of ${u.username}? They enrol again at next sign-in.`)) act("MFA reset", () => post(`/users/${u.id}/reset-mfa`));
      } }, "Reset MFA") : null),
    h("td", { "data-label": "Actions" }, h("div", { class: "actions" }, save,
      h("button", { type: "button", class: "danger", disabled: self, "aria-label": `Delete ${u.username}`, onclick: () => {
        if (confirm(`Delete user ${u.username}?`)) act("deleted", () => del(`/users/${u.id}`));
      } }, "Delete"))));
}

async function usersSection(me, cameras, reload) {
  const users = (await get("/users?limit=200")).items;
  const name = h("input", { name: "username", required: true, autocomplete: "off" });
  const password = h("input", { name: "password", type: "password", required: true, minlength: "12", autocomplete: "new-password" });
  const role = h("select", { name: "role" }, ROLES.map((r) => h("option", { value: r }, r)));
  const mustChange = h("input", { type: "checkbox", name: "must_change_password" });
  const scope = scopePicker(cameras, null, "Cameras");
  const form = h("form", { class: "add-user", "aria-label": "Add a user" }, h("h3", {}, "Add a user"),
    h("div", { class: "form-grid" }, field("Username", name), field("Password", password), field("Role", role),
      check("Must change password at next sign-in", mustChange)),
    scope.node, h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Add user")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await post("/users", { username: name.value, password: password.value, role: role.value,
        cameras: scope.value(), must_change_password: mustChange.checked });
      toast(`User ${name.value} added`);
      reload();
    } catch (err) { toast(explain(err)); }
  });
  return h("section", { class: "card", "aria-label": "Users" }, h("h2", {}, "Users and roles"),
    h("p", { class: "legend" }, "Viewers watch; operators also handle alerts and incidents; admins configure. "
      + "A camera scope limits a user to those cameras. Any change ends the user's sessions."),
    h("table", { class: "users", "aria-label": "Users" },
      h("thead", {}, h("tr", {}, ["User", "Role", "Cameras", "Account", "MFA", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, users.map((u) => userRow(me, u, cameras, reload)))),
    form);
}

// --- the page -----------------------------------------------------------------------------

async function build(me, reload, urls) {
  const cameras = (await get("/cameras?limit=200")).items;
  const rules = (await get("/rules?limit=200")).items;
  const parts = [h("h1", {}, "Configuration")];
  if (!me.can("configure")) {
    parts.push(h("p", { class: "note", role: "note" },
      `Read-only: your role (${me.user?.role ?? "unknown"}) can see the configuration but not change it.`));
  }
  if (!cameras.length) parts.push(h("p", { class: "legend" }, "No cameras."));
  parts.push(...await Promise.all(cameras.map((c) => cameraSection(me, c, reload, urls))));
  if (me.can("configure")) parts.push(cameraForm(me, null, reload));
  parts.push(rulesSection(me, rules, cameras, reload));
  if (me.can("admin")) parts.push(await usersSection(me, cameras, reload));
  return parts;
}

export async function configView(me) {
  const node = h("div", { class: "config" });
  let urls = [];
  const revoke = () => { urls.forEach((u) => URL.revokeObjectURL(u)); urls = []; };
  const reload = async () => {
    try {
      const fresh = [];
      const parts = await build(me, reload, fresh);
      revoke();
      urls = fresh;
      node.replaceChildren(...parts);
    } catch (err) { toast(explain(err)); }
  };
  node.replaceChildren(...await build(me, reload, urls));
  return { node, cleanup: revoke };
}
