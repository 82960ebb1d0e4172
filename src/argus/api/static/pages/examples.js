// Hard examples: the labelling queue, the annotation canvas and review of others' labels.
// "Label" lists examples open for labelling (queued, or sent back by a reviewer); opening one
// claims it (nobody else can label it meanwhile) and shows the annotator: drag to draw a box,
// pick its class, save a draft or submit it for review. "Review" lists labels others submitted;
// a reviewer accepts them into the annotated set or sends them back with a note. Users who
// may configure also get the dataset export at the bottom.
import { ApiError, blobUrl, get, post, put } from "../api.js";
import { field, h, human, timeAgo } from "../dom.js";
import { actorName, statusLine, table } from "./kit.js";
import { QUICK_CLASSES, annotator } from "./examples_canvas.js";

const PAGE = 50;
const SOURCES = ["false_positive", "confirmed", "uncertain", "short_track", "id_switch"];
const SHORTCUTS = [
  ["drag", "draw a box (on a box: move it; on a corner: resize)"],
  ["n", "draw a new box even over others"],
  ["1–9", `class: ${QUICK_CLASSES.map((c, i) => `${i + 1} ${c}`).join(", ")}`],
  ["Del", "delete the selected box"], ["Tab", "select the next box"], ["arrows", "nudge the selected box"],
  ["e", "nothing here"], ["s", "save draft"], ["Shift+S", "submit for review"],
  ["j / k", "next / previous example"], ["Esc", "deselect"],
];

/** Loads an image from a blob URL; resolves null when it cannot be decoded. */
function loadImage(url) {
  return new Promise((resolve) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => resolve(null);
    img.src = url;
  });
}

/** The dataset export section (pages/datasets.js), for users who may configure. */
async function datasetsPart() {
  try {
    const { datasetsSection } = await import("./datasets.js");
    return await datasetsSection();
  } catch (err) {
    return h("p", { class: "error" }, `Dataset export is not available: ${err.message}`);
  }
}

const typing = (target) => target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName));

export async function examplesView(me) {
  const mine = me?.user ? `user:${me.user.username}` : "";
  const cameras = (await get("/cameras?limit=1000")).items;
  const cameraName = new Map(cameras.map((c) => [c.id, c.name]));
  const status = statusLine();
  status.node.classList.add("examples-status");
  let tab = "label";
  let items = [];
  let current = null;  // { example, tool, image, readOnly, index, dirty, url }

  const camera = h("select", { name: "camera" }, h("option", { value: "" }, "All cameras"),
    cameras.map((c) => h("option", { value: c.id }, c.name)));
  const source = h("select", { name: "source" }, h("option", { value: "" }, "All sources"),
    SOURCES.map((s) => h("option", { value: s }, human(s))));
  const tabs = {
    label: h("button", { type: "button", role: "tab", id: "tab-label", "aria-controls": "examples-panel" }, "Label"),
    review: h("button", { type: "button", role: "tab", id: "tab-review", "aria-controls": "examples-panel" }, "Review"),
  };
  const nextButton = h("button", { type: "button", class: "primary" }, "Label next");
  const count = h("p", { class: "examples-count", role: "status" });
  const list = h("div", { class: "examples-list" });
  const work = h("section", { class: "card examples-work", "aria-label": "Annotation", hidden: true });
  const panel = h("div", { id: "examples-panel", role: "tabpanel" },
    h("div", { class: "filters" }, field("Camera", camera), field("Source", source), nextButton), count, list);

  function query() {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (tab === "label") {
      params.append("state", "queued");
      params.append("state", "rejected");
      params.set("oldest_first", "true");  // the order "Label next" takes them in
    } else params.append("state", "labelled");
    if (camera.value) params.set("camera_id", camera.value);
    if (source.value) params.set("source", source.value);
    return params;
  }

  let listed = 0;
  async function loadList() {
    const turn = ++listed;
    const page = await get(`/examples?${query()}`);
    if (turn !== listed) return;  // a newer filter or tab won meanwhile
    items = tab === "review" ? page.items.filter((e) => e.labelled_by !== mine) : page.items;
    count.textContent = tab === "label"
      ? `${page.total} example${page.total === 1 ? "" : "s"} to label.`
      : `${items.length} label${items.length === 1 ? "" : "s"} by others to review.`;
    const rows = items.map((e, i) => h("tr", { "data-example": e.id, class: current?.example.id === e.id ? "current" : null },
      h("td", { "data-label": "Camera" }, cameraName.get(e.camera_id) ?? e.camera_id),
      h("td", { "data-label": "Source" }, human(e.source)),
      h("td", { "data-label": "Seen" }, timeAgo(e.captured_at)),
      h("td", { "data-label": tab === "label" ? "Held by" : "Labelled by" },
        tab === "label" ? (e.assignee && e.lease_until && Date.parse(e.lease_until) > Date.now() ? actorName(e.assignee) : "—") : actorName(e.labelled_by)),
      h("td", { "data-label": "Note", class: "wrap" }, e.state === "rejected" ? `Sent back: ${e.review_note || "(no note)"}` : e.note || "—"),
      h("td", { "data-label": "" }, h("button", {
        type: "button", "aria-label": `${tab === "label" ? "Label" : "Review"} example ${i + 1}`,
        onclick: () => { open(i).catch((err) => status.fail(err)); },
      }, tab === "label" ? "Label" : "Review"))));
    list.replaceChildren(rows.length
      ? table(tab === "label" ? "Examples to label" : "Labels to review", ["Camera", "Source", "Seen", tab === "label" ? "Held by" : "Labelled by", "Note", ""], rows)
      : h("p", {}, tab === "label" ? "Nothing to label." : "No labels by others wait for review."));
  }

  function closeWork() {
    current?.tool.close();
    if (current?.url) URL.revokeObjectURL(current.url);
    current = null;
    work.hidden = true;
    work.replaceChildren();
  }

  async function show(example, readOnly) {
    closeWork();
    const url = await blobUrl(`/examples/${encodeURIComponent(example.id)}/frame`).catch(() => null);
    const image = url ? await loadImage(url) : null;
    const tool = annotator({
      image, width: example.width, height: example.height, labels: example.labels,
      modelBoxes: example.boxes, readOnly, onChange: () => { if (current) { current.dirty = true; empty.checked = false; } },
    });
    const index = items.findIndex((e) => e.id === example.id);
    current = { example, tool, image, readOnly, index, dirty: false, url };
    const empty = h("input", { type: "checkbox", name: "empty", checked: example.empty, disabled: readOnly });
    empty.addEventListener("change", () => {
      const nothing = empty.checked;
      if (nothing) tool.clear();  // its change event unticks the box: tick it again
      empty.checked = nothing;
      current.dirty = true;
    });
    const showModel = h("input", { type: "checkbox", name: "show-model", checked: true });
    showModel.addEventListener("change", () => tool.toggleModel(showModel.checked));
    const title = `${cameraName.get(example.camera_id) ?? example.camera_id}, ${human(example.source)}`;
    const facts = h("p", { class: "legend" },
      `${example.width}×${example.height} px, model ${example.model_ref}, ${example.boxes.length} model box${example.boxes.length === 1 ? "" : "es"} (dashed). `,
      example.note ? `Why: ${example.note}. ` : "",
      example.state === "rejected" ? `Sent back by ${actorName(example.reviewed_by)}: ${example.review_note || "(no note)"}` : "",
      readOnly && example.labelled_by ? `Labelled by ${actorName(example.labelled_by)}${example.empty ? ": nothing here" : ""}.` : "");
    const actions = readOnly ? reviewActions(example) : labelActions(example, tool, empty);
    work.replaceChildren(
      h("h2", {}, readOnly ? `Review: ${title}` : `Label: ${title}`), facts,
      image ? "" : h("p", { class: "error", role: "alert" }, "The frame could not be loaded."),
      tool.node,
      h("div", { class: "filters" },
        h("label", { class: "check" }, showModel, "Show model boxes"),
        readOnly ? "" : h("label", { class: "check" }, empty, "Nothing here")),
      actions,
      readOnly ? "" : h("details", { class: "shortcuts", open: window.matchMedia("(min-width: 701px)").matches }, h("summary", {}, "Keyboard shortcuts"),
        h("dl", {}, SHORTCUTS.flatMap(([k, what]) => [h("dt", {}, h("kbd", {}, k)), h("dd", {}, what)]))));
    work.hidden = false;
    await loadList();
    work.scrollIntoView({ block: "nearest" });
  }

  function labelActions(example, tool, empty) {
    const classPick = h("select", { name: "class", "aria-label": "Class for the selected box and new boxes" },
      QUICK_CLASSES.map((c) => h("option", { value: c }, c)));
    classPick.addEventListener("change", () => tool.setClass(classPick.value));
    const button = (label, onclick, cls = null) => h("button", { type: "button", class: cls, onclick: () => { onclick().catch((err) => status.fail(err)); } }, label);
    current.save = save;  // the page's key handler reaches these
    current.classPick = classPick;
    return h("div", { class: "example-actions" },
      field("Class", classPick),
      button("New box", async () => { tool.startDrawing(); status.ok("Drag on the frame to draw the new box."); }),
      button("Delete box", async () => tool.deleteSelected()),
      example.boxes.length ? button("Copy model boxes", async () => tool.copyModelBoxes()) : "",
      button("Save draft", () => save(false)),
      button("Submit for review", () => save(true), "primary"),
      button("Release", release));

    async function release() {
      await post(`/examples/${encodeURIComponent(example.id)}/release`);
      closeWork();
      status.ok("Released: someone else may label it now.");
      await loadList();
    }
    async function save(submit) {
      const body = { labels: empty.checked ? [] : tool.boxes(), empty: empty.checked, submit, expected_version: current.example.version };
      if (submit && !body.labels.length && !body.empty) {
        status.fail("Draw at least one box, or tick \"Nothing here\".");
        return;
      }
      const saved = await put(`/examples/${encodeURIComponent(example.id)}/labels`, body);
      current.example = saved;
      current.dirty = false;
      if (!submit) { status.ok(`Draft saved (${saved.labels.length} box${saved.labels.length === 1 ? "" : "es"}).`); return; }
      closeWork();
      status.ok(`Submitted for review (${saved.empty ? "nothing here" : `${saved.labels.length} box${saved.labels.length === 1 ? "" : "es"}`}).`);
      await loadList();
    }
  }

  function reviewActions(example) {
    const note = h("textarea", { name: "review-note", rows: "2", maxlength: "500" });
    const decide = async (accept) => {
      await post(`/examples/${encodeURIComponent(example.id)}/review`, { accept, note: note.value, expected_version: example.version });
      closeWork();
      status.ok(accept ? "Accepted into the annotated set." : "Sent back to the labellers.");
      await loadList();
    };
    const button = (label, accept, cls = null) => h("button", { type: "button", class: cls, onclick: () => { decide(accept).catch((err) => status.fail(err)); } }, label);
    return h("div", { class: "example-actions" }, field("Review note", note),
      button("Accept", true, "primary"), button("Send back", false));
  }

  async function open(i) {
    const picked = items[i];
    if (!picked) return;
    status.clear();
    if (tab === "review") { await show(picked, true); return; }
    try {
      await show(await post(`/examples/${encodeURIComponent(picked.id)}/claim`), false);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 409) throw err;
      status.fail(`${err.message}; shown read-only.`);
      await show(await get(`/examples/${encodeURIComponent(picked.id)}`), true);
    }
  }

  async function openNext() {
    status.clear();
    const params = new URLSearchParams(camera.value ? { camera_id: camera.value } : {});
    const next = await post(`/examples/next?${params}`);
    if (!next.example) { closeWork(); status.ok("Nothing left to label."); await loadList(); return; }
    await show(next.example, false);
  }

  function selectTab(name) {
    tab = name;
    for (const [key, button] of Object.entries(tabs)) button.setAttribute("aria-selected", String(key === name));
    panel.setAttribute("aria-labelledby", `tab-${name}`);
    nextButton.hidden = name !== "label";
    closeWork();
    status.clear();
    loadList().catch((err) => status.fail(err));
  }

  function onKey(event) {
    if (!current || typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    const { tool } = current;
    const key = event.key;
    if (key === "j" || key === "k") {
      const i = current.index + (key === "j" ? 1 : -1);
      if (i >= 0 && i < items.length) open(i).catch((err) => status.fail(err));
      event.preventDefault();
      return;
    }
    if (current.readOnly) return;
    if (event.target === tool.canvas && key === "Tab") { tool.cycle(event.shiftKey ? -1 : 1); event.preventDefault(); return; }
    const arrows = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (arrows[key] && tool.selected !== null) {
      const step = event.shiftKey ? 10 : 1;
      tool.nudge(arrows[key][0] * step, arrows[key][1] * step);
    } else if (key === "n") tool.startDrawing();
    else if (key === "Delete" || key === "Backspace") tool.deleteSelected();
    else if (/^[1-9]$/.test(key)) {
      const name = QUICK_CLASSES[Number(key) - 1];
      current.classPick.value = name;
      tool.setClass(name);
    } else if (key === "e") work.querySelector("input[name=empty]")?.click();
    else if (key === "s") current.save(false).catch((err) => status.fail(err));
    else if (key === "S") current.save(true).catch((err) => status.fail(err));
    else if (key === "Escape") tool.deselect();
    else return;
    event.preventDefault();
  }

  tabs.label.addEventListener("click", () => selectTab("label"));
  tabs.review.addEventListener("click", () => selectTab("review"));
  nextButton.addEventListener("click", () => { openNext().catch((err) => status.fail(err)); });
  for (const select of [camera, source]) select.addEventListener("change", () => { loadList().catch((err) => status.fail(err)); });
  document.addEventListener("keydown", onKey);

  selectTab("label");
  const node = h("div", { class: "config examples-page" },
    h("h1", {}, "Examples"),
    h("p", { class: "legend" }, "Frames the models got wrong or were unsure about: alerts dismissed as false positives "
      + "or confirmed, uncertain detections, tracker trouble. Label them (one person at a time), then someone else "
      + "reviews each label; accepted labels make the annotated set that datasets and evaluations use."),
    h("div", { role: "tablist", "aria-label": "Examples", class: "tabs" }, tabs.label, tabs.review),
    panel, status.node, work);
  if (me?.can?.("configure")) node.append(await datasetsPart());
  return { node, cleanup: () => { document.removeEventListener("keydown", onKey); closeWork(); } };
}
