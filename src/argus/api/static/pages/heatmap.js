// Heatmap panel of the Analytics page (issue 23, part H6: analytics data truth).
//
// For pages/analytics.js (H4):
//   import { heatmapPanel } from "./heatmap.js";
//   const panel = await heatmapPanel({ cameraId, cameraName, since, until });
//   container.replaceChildren(panel.node);  ...  panel.cleanup();  // when replaced or the page closes
// - cameraId: the camera; cameraName: shown in the caption and the image's accessible name;
// - since, until: ISO strings (until exclusive) of the period; the server caps it at 366 days.
// Returns { node, cleanup }: node is a <section class="heatmap-panel"> holding the camera's latest
// frame with the period's heat drawn over it on a <canvas> (logarithmic scale, every visited spot
// shows), a colour scale labelled in seconds of presence, and a "no data" state when the camera
// has no heatmap data in the period (404). It never throws for a missing snapshot or heatmap;
// other API errors show as text in the panel. cleanup() frees the snapshot's object URL.
// Data: GET /cameras/{id}/heatmap (JSON counts per grid cell; people by default, see
// HeatmapSpec.classes) and GET /cameras/{id}/snapshot (the background frame).
import { ApiError, blobUrl, get } from "../api.js";
import { h } from "../dom.js";

/** Colour stops of the scale (cold to hot), as [t, r, g, b]. */
const STOPS = [[0, 49, 54, 149], [0.25, 69, 160, 210], [0.5, 254, 224, 144], [0.75, 244, 109, 67], [1, 165, 0, 38]];
/** Opacity of the faintest and of the hottest spots over the frame. */
const ALPHA = [0.45, 0.85];

/** The colour of heat ``t`` in [0, 1] as [r, g, b]. */
export function heatColour(t) {
  const x = Math.min(1, Math.max(0, t));
  for (let i = 1; i < STOPS.length; i += 1) {
    const [t1, ...c1] = STOPS[i];
    const [t0, ...c0] = STOPS[i - 1];
    if (x <= t1) {
      const f = (x - t0) / (t1 - t0);
      return c0.map((c, k) => Math.round(c + (c1[k] - c) * f));
    }
  }
  return STOPS[STOPS.length - 1].slice(1);
}

/** Seconds as a short text: "0.4 s", "12 s", "3.5 min", "2.1 h". */
export function duration(seconds) {
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** Heat of a count on the panel's logarithmic scale (as the server's heatmap.png). */
const scale = (count, peak) => (peak > 0 ? Math.log1p(count) / Math.log1p(peak) : 0);
/** The count whose heat is ``t`` (the inverse of ``scale``). */
const countAt = (t, peak) => Math.expm1(t * Math.log1p(peak));

/** Draw the counts on ``canvas`` (the grid's size; the browser scales it smoothly over the frame). */
function paint(canvas, data) {
  canvas.width = data.grid_width;
  canvas.height = data.grid_height;
  const context = canvas.getContext("2d");
  const image = context.createImageData(data.grid_width, data.grid_height);
  for (const [index, count] of data.cells) {
    const t = scale(count, data.peak);
    const [r, g, b] = heatColour(t);
    const at = index * 4;
    image.data.set([r, g, b, Math.round(255 * (ALPHA[0] + (ALPHA[1] - ALPHA[0]) * t))], at);
  }
  context.putImageData(image, 0, 0);
}

/** The colour scale: a gradient bar with the presence each colour stands for. */
function legend(data) {
  const perCount = data.seconds_per_frame;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((t) => {
    const count = Math.max(1, countAt(t, data.peak));
    return perCount ? duration(count * perCount) : `${Math.round(count)}`;
  });
  const gradient = STOPS.map(([t, r, g, b]) => `rgb(${r} ${g} ${b}) ${t * 100}%`).join(", ");
  const unit = perCount ? "time someone stood there" : "sightings (frames)";
  return h("figure", { class: "heat-scale", "aria-label": `Colour scale: ${unit}, from ${ticks[0]} to ${ticks[4]}` },
    h("div", { class: "heat-bar", style: `background: linear-gradient(to right, ${gradient})` }),
    h("div", { class: "heat-ticks" }, ticks.map((text) => h("span", {}, text))),
    h("figcaption", {}, `Colour: ${unit} (logarithmic scale: each step is many times the one before)`));
}

function summary(data, cameraName) {
  const spots = data.cells.length;
  const covered = data.seconds_per_frame ? ` over ${duration(data.frames * data.seconds_per_frame)} of video` : "";
  const busiest = data.seconds_per_frame ? duration(data.peak * data.seconds_per_frame) : `${data.peak} sightings`;
  return `${cameraName}: people were seen in ${spots} spots${covered}; the busiest spot was occupied ${busiest}.`;
}

/** The heatmap panel of one camera and period (see the top of this file). */
export async function heatmapPanel({ cameraId, cameraName = cameraId, since, until }) {
  const query = new URLSearchParams({ since, until });
  const [data, snapshot] = await Promise.all([
    get(`/cameras/${encodeURIComponent(cameraId)}/heatmap?${query}`).catch((e) => {
      if (e instanceof ApiError && e.status === 404) return null;  // no data in the period
      return { error: e.message };
    }),
    blobUrl(`/cameras/${encodeURIComponent(cameraId)}/snapshot`).catch(() => null),
  ]);
  const cleanup = () => { if (snapshot) URL.revokeObjectURL(snapshot); };
  const title = h("h2", {}, "Heatmap");
  if (!data || data.error || !data.cells.length) {
    const text = data?.error ? `The heatmap could not be loaded: ${data.error}`
      : "No heatmap data for this period: nobody was seen by this camera, or its pipeline was not running.";
    const node = h("section", { class: "heatmap-panel", "aria-label": "Heatmap", "data-state": data?.error ? "error" : "empty" },
      title, h("p", { class: "heat-empty", role: "status" }, text));
    return { node, cleanup };
  }
  const label = `Heatmap of ${cameraName}: where people stood in the period, red where they stayed longest`;
  const overlay = h("canvas", { class: "heat-overlay", role: "img", "aria-label": label,
    "data-peak": String(data.peak), "data-cells": String(data.cells.length) });
  paint(overlay, data);
  const frame = h("div", { class: "heat-frame", style: `aspect-ratio: ${data.frame_width} / ${data.frame_height}` },
    snapshot ? h("img", { src: snapshot, alt: "" }) : null, overlay);
  const node = h("section", { class: "heatmap-panel", "aria-label": "Heatmap", "data-state": "ready" },
    title, h("p", { class: "heat-summary" }, summary(data, cameraName)), frame, legend(data));
  return { node, cleanup };
}
