// The alert detail's media: snapshot and clip, each with an SVG overlay of the rule's line or
// zone and the object's path (and, on the snapshot, its box at the event's moment). The
// overlay's coordinates are pixels of the analysed frame (GET /alerts/{id}/overlay); the SVG's
// viewBox is that frame, stretched over the picture, so it scales with whatever size it shows.
import { blobUrl, get } from "../api.js";
import { h, toast } from "../dom.js";
import { gapNote } from "./kit.js";

const SVG = "http://www.w3.org/2000/svg";

/** An SVG element with attributes (text only through textContent). */
function s(tag, attrs = {}, text = null) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) el.setAttribute(key, String(value));
  }
  if (text !== null) el.textContent = text;
  return el;
}

const pts = (points) => points.map(([x, y]) => `${x},${y}`).join(" ");

/**
 * The overlay for a frame of ``width`` × ``height`` pixels shown ``shownWidth`` CSS pixels wide
 * (labels keep a readable size at any scale). ``withBox``: the object's box at the event (the
 * snapshot's moment); a clip moves, so it gets the path only.
 */
export function overlaySvg(overlay, alert, width, height, withBox, shownWidth = width) {
  const scale = width / Math.max(1, shownWidth);  // frame pixels per CSS pixel
  const font = Math.round(13 * scale);
  const svg = s("svg", {
    class: "overlay", viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none",
    "data-overlay": withBox ? "snapshot" : "clip", role: "img",
    "aria-label": describe(overlay, alert, withBox),
  });
  const label = (x, y, text, cls) => {
    const group = s("g", { class: `label ${cls}` });
    const t = s("text", { x, y, "font-size": font, "paint-order": "stroke" }, text);
    group.append(t);
    return group;
  };
  for (const shape of overlay.shapes) {
    if (shape.kind === "zone") {
      svg.append(s("polygon", { points: pts(shape.points), class: "zone", "data-shape": "zone", "vector-effect": "non-scaling-stroke" }));
      const [x, y] = shape.points[0];
      svg.append(label(x + 4, y + font + 2, `zone ${shape.name}`, "zone"));
    } else {
      const [[x1, y1], [x2, y2]] = shape.points;
      svg.append(s("line", { x1, y1, x2, y2, class: "line", "data-shape": "line", "vector-effect": "non-scaling-stroke" }));
      // The "in" side is left of start → end on screen (y down): an arrow into it, labelled
      // with the in direction's name (LineZone's in_side_normal).
      const len = Math.hypot(x2 - x1, y2 - y1) || 1;
      const [mx, my] = [(x1 + x2) / 2, (y1 + y2) / 2];
      const [nx, ny] = [(y2 - y1) / len, -(x2 - x1) / len];
      const reach = font * 2.5;
      const [tx, ty] = [mx + nx * reach, my + ny * reach];
      const head = font * 0.6;
      svg.append(s("line", { x1: mx, y1: my, x2: tx, y2: ty, class: "line-in", "vector-effect": "non-scaling-stroke" }));
      svg.append(s("polygon", { class: "line-in-head", "data-in": `${nx.toFixed(3)},${ny.toFixed(3)}`, points: pts([
        [tx + nx * head, ty + ny * head], [tx - ny * head, ty + nx * head], [tx + ny * head, ty - nx * head]]) }));
      const lx = tx + nx * head * 1.5 + (nx < -0.5 ? -font * (shape.in_label ?? "in").length * 0.6 : 0);
      svg.append(label(lx, ty + ny * head * 1.5 + font / 3, shape.in_label ?? "in", "line"));
      svg.append(label(x1 + 4, y1 + font, `line ${shape.name}`, "line"));
    }
  }
  if (overlay.path.length > 1) {
    svg.append(s("polyline", { points: pts(overlay.path.map((p) => [p.x, p.y])), class: "path", "data-path": String(overlay.path.length), "vector-effect": "non-scaling-stroke" }));
  }
  if (withBox && overlay.box) {
    const [x1, y1, x2, y2] = overlay.box.xyxy;
    svg.append(s("rect", {
      x: x1, y: y1, width: Math.max(1, x2 - x1), height: Math.max(1, y2 - y1), class: "box",
      "data-box": overlay.box.xyxy.join(","), "vector-effect": "non-scaling-stroke",
    }));
    const what = [alert.class_name, alert.track_id === null ? null : `#${alert.track_id}`].filter(Boolean).join(" ");
    svg.append(label(x1, Math.max(font, y1 - 4), what || "object", "box"));
  }
  return svg;
}

function describe(overlay, alert, withBox) {
  const parts = overlay.shapes.map((x) => `${x.kind} ${x.name}`);
  if (withBox && overlay.box) parts.push(`box of ${alert.class_name ?? "the object"}`);
  if (overlay.path.length > 1) parts.push("its path");
  return parts.length ? `Overlay: ${parts.join(", ")}` : "Overlay: nothing to draw";
}

/**
 * The media section. ``refreshOverlay()`` reads the overlay again and redraws only the SVGs
 * (a playing clip keeps playing); ``load()`` reads the evidence list again (once captured).
 */
export function mediaPanel(alert) {
  const figures = h("div", { class: "figures" });
  const note = h("p", { class: "overlay-note muted", role: "note" });
  const gaps = h("div", { class: "gaps" });
  const node = h("section", { class: "media detail-media", "aria-label": "Snapshot and clip" }, figures, note, gaps);
  let overlay = { shapes: [], box: null, path: [], frame_width: null, frame_height: null, note: "" };
  // Labels are sized for the picture's size on screen: drawn again when it changes.
  let widthShown = 0;
  const resized = new ResizeObserver(() => {
    const now = figures.clientWidth;
    if (now && Math.abs(now - widthShown) > 8) { widthShown = now; redraw(); }
  });
  resized.observe(figures);
  let items = null;
  const known = () => Boolean(overlay.frame_width && overlay.frame_height);

  function redraw() {
    for (const frame of figures.querySelectorAll(".framed")) {
      const media = frame.querySelector("img, video, .no-picture");
      if (!media) continue;  // a clip not played yet
      const withBox = frame.dataset.kind !== "clip";
      const width = known() ? overlay.frame_width : media?.naturalWidth || media?.videoWidth || Number(frame.dataset.width);
      const height = known() ? overlay.frame_height : media?.naturalHeight || media?.videoHeight || Number(frame.dataset.height);
      frame.querySelector("svg.overlay")?.remove();
      if (width && height) {
        frame.style.aspectRatio = `${width} / ${height}`;
        frame.append(overlaySvg(overlay, alert, width, height, withBox, frame.clientWidth || width));
      }
    }
    note.textContent = overlay.note;
  }

  async function refreshOverlay() {
    try {
      overlay = await get(`/alerts/${encodeURIComponent(alert.id)}/overlay`);
    } catch (err) { note.textContent = `Overlay: ${err.message}`; return overlay; }
    if (!figures.querySelector(".framed")) placeholder();
    redraw();
    return overlay;
  }

  /** No snapshot (yet): the line, zone and box are still shown on an empty frame of the scene. */
  function placeholder() {
    if (figures.querySelector(".framed")) return;
    const [width, height] = known() ? [overlay.frame_width, overlay.frame_height] : [1280, 720];
    const empty = h("div", { class: "no-picture" }, "No snapshot stored");
    const frame = h("div", { class: "framed", "data-kind": "placeholder", "data-width": String(width), "data-height": String(height) }, empty);
    figures.append(h("figure", {}, frame, h("figcaption", {}, "Scene (no snapshot)")));
  }

  async function load() {
    let list;
    try { list = await get(`/evidence?alert_id=${encodeURIComponent(alert.id)}`); } catch { return; }
    const key = JSON.stringify(list.items.map((i) => i.id));
    if (items === key) return;  // nothing new: a playing clip stays as it is
    items = key;
    gaps.replaceChildren(...(list.gaps ?? []).map(gapNote));
    const shown = [];
    for (const item of list.items) {
      if (item.tampered) {
        gaps.append(h("p", { class: "evidence-gap", role: "note", "data-tampered": item.id },
          `Evidence ${item.kind} failed its integrity check and is not shown`));
      } else if (item.content_type.startsWith("video")) {
        shown.push(clipFigure(item));
      } else if (item.content_type.startsWith("image")) {
        try {
          const img = h("img", { src: await blobUrl(`/evidence/${item.id}/content`), alt: `Alert ${item.kind}` });
          const frame = h("div", { class: "framed", "data-kind": item.kind }, img);
          img.addEventListener("load", redraw, { once: true });
          shown.push(h("figure", {}, frame, h("figcaption", {}, item.kind === "snapshot" ? "Snapshot at the event" : item.kind)));
        } catch (err) { toast(`Snapshot: ${err.message}`); }
      }
    }
    if (shown.length) figures.replaceChildren(...shown);
    else placeholder();
    redraw();
  }

  function clipFigure(item) {
    const holder = h("div", { class: "framed", "data-kind": "clip" });
    const play = h("button", { type: "button", class: "clip", onclick: async () => {
      try {
        const video = h("video", { src: await blobUrl(`/evidence/${item.id}/content`), controls: true, autoplay: true, muted: true, "aria-label": "Alert clip" });
        holder.replaceChildren(video);
        video.addEventListener("loadedmetadata", redraw, { once: true });
      } catch (err) { toast(`Clip: ${err.message}`); }
    } }, `▶ Play clip (${Math.max(1, Math.round(item.size / 1024))} KiB)`);
    holder.append(play);
    return h("figure", {}, holder, h("figcaption", {}, "Clip around the event (line, zone and path drawn)"));
  }

  return { node, load, refreshOverlay, stop: () => resized.disconnect(), get overlay() { return overlay; } };
}
