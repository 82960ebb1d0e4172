// Lines and zones on a camera's snapshot: draw new ones (click points) and edit saved ones in
// place (drag their endpoints or vertices; change names, labels, loitering, crowding and
// criticality), saved with PATCH. Geometry is in pixels of the camera's frame.
import { blobUrl, patch, post } from "../api.js";
import { field, h, toast } from "../dom.js";
import { explain } from "./rules.js";

const numberOrNull = (input) => (input.value.trim() === "" ? null : Number(input.value));
const round = (v) => Math.round(v * 10) / 10;
export const pointText = ([x, y]) => `${round(x)},${round(y)}`;
/** How near (in screen pixels) a press must be to a point to drag it. */
const GRAB_PX = 14;

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

function option(value, text) { return h("option", { value }, text); }

/**
 * The drawing board of a camera: click points for a new line (start → end) or zone (three or
 * more corners), or pick a saved one to edit: its points become handles to drag.
 * Returns the form and ``edit(kind, id)``, which opens a saved shape for editing.
 */
export function sceneEditor(me, camera, lines, zones, done, urls) {
  const locked = !me.can("configure");
  const img = h("img", { alt: `Snapshot of ${camera.name}` });
  const canvas = h("canvas", { "aria-label": "Drawing area: click to add points", role: "img" });
  let points = [];
  let editing = null; // { kind: "line" | "zone", item } while a saved shape is edited
  const target = h("select", { name: "target", disabled: locked },
    option("", "New shape"),
    lines.map((l) => option(`line:${l.id}`, `Line ${l.name}`)),
    zones.map((z) => option(`zone:${z.id}`, `Zone ${z.name}`)));
  const mode = h("select", { name: "shape", disabled: locked },
    option("zone", "Zone (polygon)"), option("line", "Line (start → end)"));
  const name = h("input", { name: "shape_name", required: true, maxlength: "64", disabled: locked });
  const coords = h("input", { name: "points", disabled: locked, placeholder: "x,y; x,y; …", inputmode: "decimal" });
  const inLabel = h("input", { name: "in_label", value: "in", required: true, maxlength: "64", disabled: locked });
  const outLabel = h("input", { name: "out_label", value: "out", required: true, maxlength: "64", disabled: locked });
  const expected = h("select", { name: "expected_direction", disabled: locked },
    option("", "either (no wrong way)"), option("in", "in only"), option("out", "out only"));
  const counting = h("select", { name: "counting", disabled: locked },
    option("robust", "robust (band, stitching)"), option("strict", "strict (track ids only)"));
  const bandPx = h("input", { name: "band_px", type: "number", min: "0", max: "10000", step: "any", value: "0", disabled: locked });
  const stitch = h("input", { name: "stitch_seconds", type: "number", min: "0", max: "60", step: "any", value: "1", disabled: locked });
  const loiter = h("input", { name: "loiter_seconds", type: "number", min: "0.1", step: "any", disabled: locked });
  const crowd = h("input", { name: "crowd_threshold", type: "number", min: "1", step: "1", disabled: locked });
  const criticality = h("input", { name: "criticality", type: "number", min: "0", max: "1", step: "0.05", value: "0.5", disabled: locked });
  const hint = locked ? "Read-only: the lines and zones as configured." : "Click on the image to add points.";
  const status = h("p", { role: "status", class: "legend" }, hint);
  const colours = h("p", { class: "legend" }, "Blue: saved lines (dot = start, arrow = in side); "
    + "orange: saved zones; pink: what you draw or edit (drag its square handles).");
  const reverse = h("button", { type: "button", disabled: locked, onclick: () => {
    if (points.length === 2) { points = [points[1], points[0]]; update("Direction reversed."); }
    else toast("Draw the line first (two points).");
  } }, "Reverse direction");
  const lineFields = h("div", { class: "form-grid", hidden: true },
    field("In label", inLabel), field("Out label", outLabel), field("Expected direction", expected),
    field("Counting", counting), field("Band (px, 0 = auto)", bandPx), field("Stitch gap (s, 0 = off)", stitch),
    h("div", {}, reverse));
  const zoneFields = h("div", { class: "form-grid" },
    field("Loitering after (s, optional)", loiter), field("Crowd threshold (optional)", crowd),
    field("Criticality (0–1, risk of events in it)", criticality));
  const legend = h("p", { class: "legend" });

  function describe() {
    if (editing) {
      legend.textContent = `Editing ${editing.kind} ${editing.item.name}: drag the square handles to move its `
        + (editing.kind === "line" ? "start and end" : "corners") + ", or type the points; then Save changes. "
        + "Renaming it leaves rules that name the old name unable to fire.";
    } else if (mode.value === "line") {
      legend.textContent = "Line: click its start (dot), then its end. The arrow points to the in side: "
        + `an object crossing along the arrow counts as “${inLabel.value || "in"}”, the other way as `
        + `“${outLabel.value || "out"}”. The in side is on the left looking from start to end. `
        + "Reverse direction swaps start and end.";
    } else {
      legend.textContent = "Zone: click three or more corners; the polygon closes itself. Drag a corner to move it.";
    }
  }
  const scaleOf = () => {
    const shown = canvas.getBoundingClientRect().width;
    return shown > 0 ? Math.max(0.5, canvas.width / shown) : 1;
  };
  function draw() {
    if (!img.naturalWidth) return;
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    // Strokes and labels keep their on-screen size however large the image is shown.
    const scale = scaleOf();
    const g = canvas.getContext("2d");
    g.lineWidth = 2 * scale;
    g.strokeStyle = "#f5a524";
    for (const z of zones) {
      if (editing?.item.id === z.id) continue;
      g.beginPath(); z.polygon.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y))); g.closePath(); g.stroke();
    }
    for (const l of lines) if (editing?.item.id !== l.id) drawLine(g, l.start, l.end, l.in_label, l.out_label, "#3d8bfd", scale);
    g.lineWidth = 2 * scale;
    if (mode.value === "line" && points.length === 2) {
      drawLine(g, points[0], points[1], inLabel.value, outLabel.value, "#ff4df0", scale);
    } else {
      g.strokeStyle = "#ff4df0";
      g.beginPath();
      points.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y)));
      if (mode.value === "zone" && points.length > 2) g.closePath();
      g.stroke();
    }
    g.fillStyle = "#ff4df0";
    g.strokeStyle = "#000";
    g.lineWidth = 1 * scale;
    for (const [x, y] of points) {
      g.fillRect(x - 5 * scale, y - 5 * scale, 10 * scale, 10 * scale);
      g.strokeRect(x - 5 * scale, y - 5 * scale, 10 * scale, 10 * scale);
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

  const at = (event) => {
    const box = canvas.getBoundingClientRect();
    return [Math.round(((event.clientX - box.left) / box.width) * canvas.width),
      Math.round(((event.clientY - box.top) / box.height) * canvas.height)];
  };
  let dragging = null; // index of the point being dragged
  let dragged = false;
  canvas.addEventListener("pointerdown", (event) => {
    if (locked || !canvas.width || !points.length) return;
    const [x, y] = at(event);
    const reach = GRAB_PX * scaleOf();
    let best = null;
    points.forEach(([px, py], i) => {
      const d = Math.hypot(px - x, py - y);
      if (d <= reach && (best === null || d < best.d)) best = { i, d };
    });
    if (best === null) return;
    dragging = best.i;
    dragged = false;
    canvas.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (dragging === null) return;
    const [x, y] = at(event);
    const clamp = (v, max) => Math.min(max, Math.max(0, v));
    points[dragging] = [clamp(x, canvas.width), clamp(y, canvas.height)];
    dragged = true;
    update(`Point ${dragging + 1} at ${pointText(points[dragging])}`);
  });
  const drop = () => { dragging = null; };
  canvas.addEventListener("pointerup", drop);
  canvas.addEventListener("pointercancel", drop);
  canvas.addEventListener("click", (event) => {
    if (dragged) { dragged = false; return; } // the end of a drag is no new point
    if (locked || !canvas.width || editing) return;
    const [x, y] = at(event);
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
  const showFields = () => {
    lineFields.hidden = mode.value !== "line";
    zoneFields.hidden = mode.value === "line";
  };
  mode.addEventListener("change", () => {
    points = [];
    showFields();
    describe();
    update(hint);
  });
  for (const input of [inLabel, outLabel]) input.addEventListener("input", () => { describe(); draw(); });

  const save = h("button", { type: "submit", class: "primary", disabled: locked }, "Save shape");
  const clear = h("button", { type: "button", disabled: locked, onclick: () => { points = []; update(); } }, "Clear");

  function open(value) {
    target.value = value;
    const [kind, id] = value.split(":");
    const item = kind === "line" ? lines.find((l) => l.id === id) : kind === "zone" ? zones.find((z) => z.id === id) : null;
    editing = item ? { kind, item } : null;
    mode.disabled = locked || editing !== null;
    save.textContent = editing ? "Save changes" : "Save shape";
    canvas.setAttribute("aria-label", editing ? `Drawing area: drag the points of ${kind} ${item.name}` : "Drawing area: click to add points");
    if (!editing) {
      name.value = "";
      points = [];
      showFields();
      describe();
      update(hint);
      return;
    }
    mode.value = kind;
    name.value = item.name;
    if (kind === "line") {
      points = [[...item.start], [...item.end]];
      inLabel.value = item.in_label; outLabel.value = item.out_label;
      expected.value = item.expected_direction ?? ""; counting.value = item.counting;
      bandPx.value = String(item.band_px); stitch.value = String(item.stitch_seconds);
    } else {
      points = item.polygon.map((p) => [...p]);
      loiter.value = item.loiter_seconds ?? ""; crowd.value = item.crowd_threshold ?? "";
      criticality.value = String(item.criticality);
    }
    showFields();
    describe();
    update(`Editing ${kind} ${item.name}: drag its points.`);
  }
  target.addEventListener("change", () => open(target.value));
  describe();

  const form = h("form", { "aria-label": `Draw a line or zone on ${camera.name}`, class: "draw" },
    h("h3", {}, "Draw or edit a line or zone"),
    board, status, colours, legend,
    h("div", { class: "form-grid" }, field("Shape to edit", target), field("Shape", mode), field("Shape name", name),
      field("Points (x,y; …)", coords)),
    lineFields, zoneFields,
    h("div", { class: "actions" }, save, clear,
      h("button", { type: "button", disabled: locked, onclick: () => open("") }, "New shape")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      if (mode.value === "zone") {
        if (points.length < 3) throw new Error("A zone needs at least three points.");
        const body = { name: name.value, polygon: points, criticality: Number(criticality.value || 0.5) };
        if (editing) {
          await patch(`/cameras/${camera.id}/zones/${editing.item.id}`,
            { ...body, loiter_seconds: numberOrNull(loiter), crowd_threshold: numberOrNull(crowd) });
        } else {
          if (numberOrNull(loiter) !== null) body.loiter_seconds = numberOrNull(loiter);
          if (numberOrNull(crowd) !== null) body.crowd_threshold = numberOrNull(crowd);
          await post(`/cameras/${camera.id}/zones`, body);
        }
      } else {
        if (points.length !== 2) throw new Error("A line needs two points.");
        const body = { name: name.value, start: points[0], end: points[1],
          in_label: inLabel.value, out_label: outLabel.value, expected_direction: expected.value || null,
          counting: counting.value, band_px: numberOrNull(bandPx) ?? 0, stitch_seconds: numberOrNull(stitch) ?? 1 };
        if (editing) await patch(`/cameras/${camera.id}/lines/${editing.item.id}`, body);
        else await post(`/cameras/${camera.id}/lines`, body);
      }
      toast(`${mode.value === "zone" ? "Zone" : "Line"} ${name.value} saved`);
      done();
    } catch (err) { toast(explain(err)); }
  });
  return {
    form,
    edit(kind, id) {
      open(`${kind}:${id}`);
      form.scrollIntoView({ block: "start" });
    },
  };
}
