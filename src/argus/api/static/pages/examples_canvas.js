// The annotation canvas of the Examples page: a frame with the model's boxes (dashed) and
// people's labels, drawn by dragging (mouse, pen or finger), moved by dragging inside a
// selected box, resized by its corner handles. The canvas holds the frame at its own pixel
// size and is scaled by CSS, so a box's coordinates are the frame's pixels.
import { h } from "../dom.js";

/** Classes offered first; keys 1-9 pick them. */
export const QUICK_CLASSES = ["person", "bicycle", "car", "motorcycle", "bus", "truck", "dog", "cat", "bird"];
const COLOURS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45", "#fabed4"];
const MIN_SIZE = 3;  // frame pixels: a smaller drag is a click
const HANDLE_PX = 12;  // screen pixels around a corner that grab it

const colourOf = (name) => {
  const quick = QUICK_CLASSES.indexOf(name);
  if (quick >= 0) return COLOURS[quick];
  let sum = 0;
  for (const c of name) sum = (sum * 31 + c.charCodeAt(0)) % 9973;
  return COLOURS[sum % COLOURS.length];
};

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
const round = (v) => Math.round(v * 10) / 10;

/** A box with its edges ordered, clamped to the frame and rounded to 0.1 px. */
function normal(box, width, height) {
  const x1 = clamp(Math.min(box.x1, box.x2), 0, width);
  const x2 = clamp(Math.max(box.x1, box.x2), 0, width);
  const y1 = clamp(Math.min(box.y1, box.y2), 0, height);
  const y2 = clamp(Math.max(box.y1, box.y2), 0, height);
  return { x1: round(x1), y1: round(y1), x2: round(x2), y2: round(y2), class_name: box.class_name };
}

/**
 * An annotator over one example.
 *
 * ``options``: ``image`` (a loaded HTMLImageElement or null), ``width``/``height`` (frame
 * pixels), ``labels`` and ``modelBoxes`` (arrays of {x1, y1, x2, y2, class_name, score}),
 * ``readOnly``, ``onChange()`` (after any edit). Returns the node and the operations the
 * page's buttons and shortcuts call.
 */
export function annotator({ image, width, height, labels = [], modelBoxes = [], readOnly = false, onChange = () => {} }) {
  const boxes = labels.map((b) => normal(b, width, height));
  const state = { selected: null, showModel: true, drawMode: false, drag: null, currentClass: QUICK_CLASSES[0] };
  const canvas = h("canvas", {
    class: readOnly ? "annotation-canvas read-only" : "annotation-canvas", width: String(width), height: String(height), tabindex: "0",
    "aria-label": readOnly ? "Frame with its labels" : "Frame: drag to draw a box, drag a selected box to move it, its corners to resize it",
  });
  const ctx = canvas.getContext("2d");
  const list = h("ol", { class: "box-list", "aria-label": "Boxes" });
  const classes = new Set([...QUICK_CLASSES, ...modelBoxes.map((b) => b.class_name), ...labels.map((b) => b.class_name)]);

  const scale = () => {
    const rect = canvas.getBoundingClientRect();
    return rect.width ? width / rect.width : 1;
  };

  function render() {
    const s = scale();
    ctx.clearRect(0, 0, width, height);
    if (image) ctx.drawImage(image, 0, 0, width, height);
    else { ctx.fillStyle = "#333"; ctx.fillRect(0, 0, width, height); }
    ctx.lineWidth = 2 * s;
    if (state.showModel) {
      ctx.setLineDash([6 * s, 4 * s]);
      ctx.strokeStyle = "#ffffff";
      for (const b of modelBoxes) ctx.strokeRect(b.x1, b.y1, b.x2 - b.x1, b.y2 - b.y1);
      ctx.setLineDash([]);
    }
    boxes.forEach((b, i) => {
      const colour = colourOf(b.class_name);
      ctx.strokeStyle = colour;
      ctx.lineWidth = (i === state.selected ? 3 : 2) * s;
      ctx.strokeRect(b.x1, b.y1, b.x2 - b.x1, b.y2 - b.y1);
      ctx.font = `${Math.round(13 * s)}px sans-serif`;
      const tag = `${i + 1} ${b.class_name}`;
      const tw = ctx.measureText(tag).width + 6 * s;
      ctx.fillStyle = colour;
      ctx.fillRect(b.x1, Math.max(0, b.y1 - 16 * s), tw, 16 * s);
      ctx.fillStyle = "#fff";
      ctx.fillText(tag, b.x1 + 3 * s, Math.max(12 * s, b.y1 - 4 * s));
      if (i === state.selected && !readOnly) {
        ctx.fillStyle = colour;
        for (const [x, y] of corners(b)) ctx.fillRect(x - 4 * s, y - 4 * s, 8 * s, 8 * s);
      }
    });
    if (state.drag?.kind === "draw") {
      const d = state.drag;
      ctx.setLineDash([4 * s, 3 * s]);
      ctx.strokeStyle = colourOf(state.currentClass);
      ctx.strokeRect(d.x0, d.y0, d.x - d.x0, d.y - d.y0);
      ctx.setLineDash([]);
    }
    renderList();
  }

  const corners = (b) => [[b.x1, b.y1], [b.x2, b.y1], [b.x1, b.y2], [b.x2, b.y2]];

  function classSelect(value, label, onPick) {
    const select = h("select", { "aria-label": label },
      [...new Set([...classes, value])].map((c) => h("option", { value: c, selected: c === value }, c)));
    select.addEventListener("change", () => onPick(select.value));
    return select;
  }

  function renderList() {
    list.replaceChildren(...boxes.map((b, i) => h("li", {
      class: i === state.selected ? "selected" : null, "data-box": String(i),
    },
    h("button", { type: "button", class: "box-pick", "aria-pressed": String(i === state.selected), onclick: () => select(i) },
      `Box ${i + 1}: ${Math.round(b.x2 - b.x1)}×${Math.round(b.y2 - b.y1)} px`),
    readOnly ? h("span", { class: "box-class" }, b.class_name) : classSelect(b.class_name, `Class of box ${i + 1}`, (c) => { b.class_name = c; changed(); }),
    readOnly ? null : h("button", { type: "button", "aria-label": `Delete box ${i + 1}`, onclick: () => { remove(i); } }, "Delete"))));
    if (!boxes.length) list.append(h("li", { class: "none" }, readOnly ? "No boxes." : "No boxes yet: drag on the frame to draw one."));
  }

  function changed() { render(); onChange(); }
  function select(i) { state.selected = i; render(); }
  function remove(i) {
    boxes.splice(i, 1);
    state.selected = null;
    changed();
  }

  const at = (event) => {
    const rect = canvas.getBoundingClientRect();
    const s = width / rect.width;
    return { x: clamp((event.clientX - rect.left) * s, 0, width), y: clamp((event.clientY - rect.top) * (height / rect.height), 0, height), s };
  };

  function hit(p) {
    const grab = HANDLE_PX * p.s;
    if (state.selected !== null && !state.drawMode) {
      const b = boxes[state.selected];
      const corner = corners(b).findIndex(([x, y]) => Math.abs(x - p.x) <= grab && Math.abs(y - p.y) <= grab);
      if (corner >= 0) return { kind: "resize", index: state.selected, corner };
    }
    if (state.drawMode) return null;
    for (let i = boxes.length - 1; i >= 0; i -= 1) {
      const b = boxes[i];
      if (p.x >= b.x1 && p.x <= b.x2 && p.y >= b.y1 && p.y <= b.y2) return { kind: "move", index: i };
    }
    return null;
  }

  if (!readOnly) {
    canvas.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      event.preventDefault();
      canvas.focus();
      canvas.setPointerCapture?.(event.pointerId);
      const p = at(event);
      const found = hit(p);
      if (found) {
        state.selected = found.index;
        state.drag = { ...found, x0: p.x, y0: p.y, start: { ...boxes[found.index] }, moved: false };
      } else {
        state.drag = { kind: "draw", x0: p.x, y0: p.y, x: p.x, y: p.y };
      }
      render();
    });
    canvas.addEventListener("pointermove", (event) => {
      const d = state.drag;
      if (!d) return;
      const p = at(event);
      if (d.kind === "draw") { d.x = p.x; d.y = p.y; render(); return; }
      const b = boxes[d.index];
      const dx = p.x - d.x0;
      const dy = p.y - d.y0;
      if (d.kind === "move") {
        const w = d.start.x2 - d.start.x1;
        const ht = d.start.y2 - d.start.y1;
        b.x1 = round(clamp(d.start.x1 + dx, 0, width - w)); b.x2 = round(b.x1 + w);
        b.y1 = round(clamp(d.start.y1 + dy, 0, height - ht)); b.y2 = round(b.y1 + ht);
      } else {
        const xs = d.corner % 2 === 0 ? "x1" : "x2";
        const ys = d.corner < 2 ? "y1" : "y2";
        b[xs] = round(clamp(d.start[xs] + dx, 0, width));
        b[ys] = round(clamp(d.start[ys] + dy, 0, height));
      }
      d.moved = true;
      render();
    });
    const end = () => {
      const d = state.drag;
      state.drag = null;
      if (!d) return;
      if (d.kind === "draw") {
        const box = normal({ x1: d.x0, y1: d.y0, x2: d.x, y2: d.y, class_name: state.currentClass }, width, height);
        if (box.x2 - box.x1 >= MIN_SIZE && box.y2 - box.y1 >= MIN_SIZE) {
          boxes.push(box);
          state.selected = boxes.length - 1;
          state.drawMode = false;
          changed();
          return;
        }
        state.selected = null;  // a click on the background: nothing selected
        render();
        return;
      }
      const b = boxes[d.index];
      Object.assign(b, normal(b, width, height));
      if (b.x2 - b.x1 < MIN_SIZE || b.y2 - b.y1 < MIN_SIZE) Object.assign(b, d.start);
      if (d.moved) changed(); else render();
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
  }
  const resize = new ResizeObserver(() => render());
  resize.observe(canvas);

  render();
  return {
    node: h("div", { class: "annotator" }, h("div", { class: "canvas-wrap" }, canvas), list),
    canvas,
    /** The labels as the API takes them. */
    boxes: () => boxes.map((b) => ({ ...b })),
    get selected() { return state.selected; },
    get drawMode() { return state.drawMode; },
    get currentClass() { return state.currentClass; },
    /** Drag draws a new box even over existing ones (key n). */
    startDrawing() { state.drawMode = true; state.selected = null; render(); },
    /** The class of the selected box, and of boxes drawn next. */
    setClass(name) {
      classes.add(name);
      state.currentClass = name;
      if (state.selected !== null) { boxes[state.selected].class_name = name; changed(); }
    },
    deselect() { state.selected = null; state.drawMode = false; render(); },
    deleteSelected() { if (state.selected !== null) remove(state.selected); },
    clear() { boxes.splice(0, boxes.length); state.selected = null; changed(); },
    copyModelBoxes() {
      for (const b of modelBoxes) boxes.push(normal(b, width, height));
      changed();
    },
    toggleModel(show) { state.showModel = show; render(); },
    /** Selects the next box (Tab-like cycling for the keyboard). */
    cycle(step = 1) {
      if (!boxes.length) return;
      state.selected = state.selected === null ? 0 : (state.selected + step + boxes.length) % boxes.length;
      render();
    },
    /** Moves the selected box by (dx, dy) frame pixels. */
    nudge(dx, dy) {
      if (state.selected === null) return;
      const b = boxes[state.selected];
      const w = b.x2 - b.x1;
      const ht = b.y2 - b.y1;
      b.x1 = round(clamp(b.x1 + dx, 0, width - w)); b.x2 = round(b.x1 + w);
      b.y1 = round(clamp(b.y1 + dy, 0, height - ht)); b.y2 = round(b.y1 + ht);
      changed();
    },
    close() { resize.disconnect(); },
  };
}
