// Dataset export, mounted at the bottom of the Examples page for users who may configure:
// the accepted (optionally also unreviewed) labels as one ZIP with COCO JSON and YOLO text
// layouts, split into train and validation by camera and time with no near-duplicate frames
// across the split, and a manifest (file hashes, source cameras, model versions, licences).
import { get, post, postRaw } from "../api.js";
import { field, h } from "../dom.js";
import { download } from "./admin_kit.js";
import { check, isoOf, statusLine, table, words } from "./kit.js";

const SPLITS = ["train", "val"];

/** The request body from the form's controls (empty optional fields left out). */
function requestOf(c) {
  const body = {
    val_fraction: Number(c.share.value),
    split_by: c.by.value,
    block_minutes: Number(c.block.value),
    seed: Number(c.seed.value),
    include_unreviewed: c.unreviewed.checked,
    name: c.name.value.trim() || "argus-dataset",
  };
  if (c.camera.value) body.camera_ids = [c.camera.value];
  const since = isoOf(c.from.value);
  const until = isoOf(c.until.value);
  if (since) body.since = since;
  if (until) body.until = until;
  const classes = words(c.classes.value);
  if (classes.length) body.classes = classes;
  if (c.licence.value.trim()) body.licence = c.licence.value.trim();
  return body;
}

const row = (label, counts) => h("tr", {},
  h("th", { scope: "row" }, label), SPLITS.map((s) => h("td", {}, String(counts[s] ?? 0))));

const pairs = (label, counts) => {
  const entries = Object.entries(counts);
  return h("p", { class: "legend" }, `${label}: `,
    entries.length ? entries.map(([k, n]) => `${k} (${n})`).join(", ") : "none");
};

/** What an export holds: images, boxes and negatives per split, boxes per class, sources. */
function summaryView(s) {
  const skipped = Object.entries(s.skipped);
  return h("div", { class: "dataset-summary" },
    table("Dataset by split", ["", "Train", "Validation"], [
      row("Images", s.images), row("Boxes", s.boxes), row("Nothing here", s.negatives),
      ...s.classes.map((name) => row(`Boxes: ${name}`, s.boxes_per_class[name] ?? {})),
    ]),
    h("p", { class: "legend" }, `${s.groups} group(s) kept whole on one side; `
      + `${s.near_duplicates} near-duplicate pair(s) found; ${s.dropped_boxes} box(es) of other classes dropped.`),
    pairs("Cameras", s.cameras), pairs("Models", s.model_refs),
    skipped.length ? h("details", {}, h("summary", {}, `${skipped.length} example(s) left out`),
      h("ul", {}, skipped.map(([id, why]) => h("li", {}, `${id}: ${why}`)))) : null);
}

/** The section: choose examples, split and licence; preview the counts or download the ZIP. */
export async function datasetsSection() {
  const cameras = await get("/cameras?limit=1000").then((r) => r.items).catch(() => []);
  const c = {
    camera: h("select", { name: "dataset-camera" }, h("option", { value: "" }, "All cameras"),
      cameras.map((cam) => h("option", { value: cam.id }, cam.name))),
    from: h("input", { type: "datetime-local", name: "dataset-from" }),
    until: h("input", { type: "datetime-local", name: "dataset-until" }),
    share: h("input", { type: "number", name: "dataset-share", min: 0, max: 0.9, step: 0.05, value: 0.2 }),
    by: h("select", { name: "dataset-by" }, h("option", { value: "time" }, "Camera and time block"),
      h("option", { value: "camera" }, "Whole cameras")),
    block: h("input", { type: "number", name: "dataset-block", min: 1, max: 10080, step: 1, value: 10 }),
    seed: h("input", { type: "number", name: "dataset-seed", min: 0, step: 1, value: 0 }),
    classes: h("input", { type: "text", name: "dataset-classes", placeholder: "all (e.g. person, car)" }),
    licence: h("input", { type: "text", name: "dataset-licence", maxlength: 500, placeholder: "site footage" }),
    name: h("input", { type: "text", name: "dataset-name", maxlength: 64, value: "argus-dataset" }),
    unreviewed: h("input", { type: "checkbox", name: "dataset-unreviewed" }),
  };
  const status = statusLine();
  const out = h("div", { class: "dataset-result" });
  const previewButton = h("button", { type: "button" }, "Preview counts");
  const exportButton = h("button", { type: "submit", class: "primary" }, "Export ZIP");
  const form = h("form", { class: "filters", "aria-label": "Dataset export" },
    field("Camera", c.camera), field("From", c.from), field("Until", c.until),
    field("Validation share", c.share), field("Split by", c.by), field("Time block (min)", c.block),
    field("Seed", c.seed), field("Classes", c.classes), field("Licence", c.licence),
    field("Name", c.name), check("Include labels not yet reviewed", c.unreviewed),
    previewButton, exportButton);

  async function run(action) {
    status.clear();
    previewButton.disabled = exportButton.disabled = true;
    try { await action(requestOf(c)); } catch (err) { status.fail(err); } finally {
      previewButton.disabled = exportButton.disabled = false;
    }
  }
  previewButton.addEventListener("click", () => run(async (body) => {
    const summary = await post("/datasets/preview", body);
    out.replaceChildren(summaryView(summary));
    status.ok(`${summary.images.train + summary.images.val} image(s) would be exported.`);
  }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(async (body) => {
      status.ok("Exporting…");
      const res = await postRaw("/datasets/export", body);
      const name = /filename="([^"]+)"/.exec(res.headers.get("content-disposition") ?? "")?.[1] ?? `${body.name}.zip`;
      download(await res.blob(), name);
      status.ok(`Downloaded ${name} (sha256 ${res.headers.get("x-content-sha256") ?? "?"}).`);
    });
  });
  return h("section", { class: "card datasets-export", "aria-label": "Dataset export" },
    h("h2", {}, "Dataset export"),
    h("p", { class: "legend" }, "Accepted labels as one ZIP: images, COCO JSON (annotations/), YOLO "
      + "labels with data.yaml, and manifest.json (file hashes, source camera, model versions, licence). "
      + "Frames are split into train and validation by camera and time block; near-duplicate frames "
      + "always land on the same side."),
    form, status.node, out);
}
