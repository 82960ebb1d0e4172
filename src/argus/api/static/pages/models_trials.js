// Shadow runs and evaluations on the Models page (issue 21, part D2), mounted by models.js.
// A shadow run compares a candidate model with a camera's production model on a sample of
// its frames and reports how far they agree; an evaluation scores any model version on the
// annotated set (accepted hard examples): mAP@0.5, mAP@0.5:0.95, precision and recall per
// class. Reads: everyone; starting and stopping: "configure".
import { del, get, post, put } from "../api.js";
import { field, h, toast, when } from "../dom.js";
import { actorName, onSubmit, statusLine, table } from "./kit.js";

const POLL_MS = 2000;

const pct = (x) => `${(100 * x).toFixed(1)} %`;
const num = (x) => x.toFixed(3);
const ms = (x) => `${x.toFixed(1)} ms`;

function cameraName(cameras, id) {
  return cameras.find((c) => c.id === id)?.name ?? id;
}

function modelSelect(name, refs) {
  return h("select", { name }, refs.map((r) => h("option", { value: r }, r)));
}

function startForm(ctx, status) {
  const camera = h("select", { name: "shadow-camera" }, ctx.cameras.map((c) => h("option", { value: c.id }, c.name)));
  const candidate = modelSelect("shadow-candidate", ctx.refs);
  const every = h("input", { type: "number", name: "shadow-sample-every", min: "1", max: "1000", value: "10" });
  const form = h("form", { class: "model-actions", "aria-label": "Start a shadow run" },
    field("Camera", camera), field("Candidate", candidate), field("One frame in", every),
    h("button", { type: "submit" }, "Start shadow run"));
  onSubmit(form, status, async () => {
    const plan = await put(`/cameras/${camera.value}/shadow`,
      { candidate: candidate.value, sample_every: Number(every.value) || 10 });
    toast(`Shadow run of ${plan.candidate} started on ${cameraName(ctx.cameras, plan.camera_id)}.`);
    await ctx.reload();
  });
  return form;
}

function plansTable(ctx, plans, status) {
  const row = (p) => {
    const stop = h("button", { type: "button", class: "shadow-stop" }, "Stop");
    stop.addEventListener("click", async () => {
      stop.disabled = true;
      try { await del(`/cameras/${p.camera_id}/shadow`); await ctx.reload(); } catch (err) { status.fail(err); stop.disabled = false; }
    });
    return h("tr", { "data-camera": p.camera_id },
      h("th", { scope: "row" }, cameraName(ctx.cameras, p.camera_id)),
      h("td", { class: "model-runs" }, p.candidate),
      h("td", {}, `1 in ${p.sample_every}`),
      h("td", {}, `${actorName(p.started_by)}, ${when(p.started_at)}`),
      h("td", {}, ctx.canChange ? stop : ""));
  };
  return table("Shadow runs in force", ["Camera", "Candidate", "Frames", "Started", ""], plans.map(row));
}

function summariesTable(ctx, summaries) {
  const row = (s) => h("tr", { "data-camera": s.camera_id, "data-candidate": s.candidate },
    h("th", { scope: "row" }, cameraName(ctx.cameras, s.camera_id)),
    h("td", { class: "model-runs" }, `${s.production} → ${s.candidate}`),
    h("td", {}, String(s.frames)),
    h("td", { class: "shadow-agreement" }, pct(s.agreement)),
    h("td", {}, pct(s.recall_vs_production)),
    h("td", {}, pct(s.precision_vs_production)),
    h("td", {}, `${ms(s.production_ms)} / ${ms(s.candidate_ms)}`),
    h("td", {}, when(s.last_at)));
  return table("Agreement of candidates with production",
    ["Camera", "Production → candidate", "Frames", "Agreement", "Finds production's", "Agreed by production",
      "Time (prod / cand)", "Last report"], summaries.map(row));
}

async function shadowSection(ctx) {
  const status = statusLine();
  const overview = await get("/models/shadow");
  return h("section", { class: "card models-shadow", "aria-label": "Shadow runs" },
    h("h2", {}, "Shadow runs"),
    h("p", { class: "legend" }, "A candidate runs beside the camera's model on one frame in N; both models' boxes "
      + "are matched (IoU ≥ 0.5). Agreement is the share of all boxes that the two models found alike, with the same class."),
    ctx.canChange ? startForm(ctx, status) : null,
    status.node,
    overview.plans.length ? plansTable(ctx, overview.plans, status) : h("p", {}, "No shadow run is in force."),
    overview.summaries.length ? summariesTable(ctx, overview.summaries) : h("p", {}, "No agreement report yet."));
}

function classesOf(scores) {
  const rows = scores.classes.map((c) => h("tr", {},
    h("th", { scope: "row" }, c.class_name), h("td", {}, num(c.ap50)), h("td", {}, num(c.ap50_95)),
    h("td", {}, pct(c.precision)), h("td", {}, pct(c.recall)), h("td", {}, String(c.truth)),
    h("td", {}, String(c.detections))));
  return h("details", { class: "evaluation-classes" }, h("summary", {}, "Per class"),
    table("Scores per class", ["Class", "AP@0.5", "AP@0.5:0.95", "Precision", "Recall", "Labelled", "Boxes"], rows));
}

function evaluationRow(run) {
  const s = run.scores;
  const state = h("span", { class: "model-state", "data-state": run.state }, run.state);
  return h("tr", { "data-evaluation": run.id, "data-state": run.state },
    h("th", { scope: "row", class: "model-runs" }, run.model),
    h("td", {}, state, run.error ? h("small", { class: "evaluation-error" }, ` ${run.error}`) : null),
    h("td", { class: "evaluation-map50" }, s ? num(s.map50) : "–"),
    h("td", {}, s ? num(s.map50_95) : "–"),
    h("td", {}, s ? `${pct(s.precision)} / ${pct(s.recall)} @ ${run.score_threshold}` : "–"),
    h("td", {}, s ? String(s.frames) : "–"),
    h("td", {}, `${actorName(run.requested_by)}, ${when(run.requested_at)}`),
    h("td", {}, s && s.classes.length ? classesOf(s) : ""));
}

async function evaluationsSection(ctx) {
  const status = statusLine();
  const list = h("div", { class: "evaluations-list" });
  const section = h("section", { class: "card models-evaluations", "aria-label": "Evaluations" },
    h("h2", {}, "Evaluations"),
    h("p", { class: "legend" }, "Scores a model version on the annotated set: the accepted hard examples of your "
      + "cameras (labels reviewed by a second person). Frames marked \"nothing here\" count every box as a false positive."));
  const refresh = async () => {
    const runs = (await get("/models/evaluations")).items;
    list.replaceChildren(runs.length
      ? table("Evaluations", ["Model", "State", "mAP@0.5", "mAP@0.5:0.95", "Precision / recall", "Frames",
        "Asked", ""], runs.map(evaluationRow))
      : h("p", {}, "No evaluation yet."));
    if (runs.some((r) => r.state === "queued" || r.state === "running")) {
      setTimeout(() => { if (section.isConnected) refresh().catch((err) => status.fail(err)); }, POLL_MS);
    }
  };
  if (ctx.canChange) {
    const model = modelSelect("evaluation-model", ctx.refs);
    const threshold = h("input", { type: "number", name: "evaluation-threshold", min: "0", max: "1", step: "0.05", value: "0.25" });
    const form = h("form", { class: "model-actions", "aria-label": "Evaluate a model" },
      field("Model", model), field("Precision/recall at score", threshold),
      h("button", { type: "submit" }, "Evaluate"));
    onSubmit(form, status, async () => {
      const run = await post("/models/evaluations", { model: model.value, score_threshold: Number(threshold.value) });
      status.ok(`Evaluation of ${run.model} queued.`);
      await refresh();
    });
    section.append(form);
  }
  section.append(status.node, list);
  await refresh();
  return section;
}

/** The Models page's sections of shadow runs and evaluations (``ctx`` from models.js). */
export async function trialsSections(ctx) {
  return [await shadowSection(ctx), await evaluationsSection(ctx)];
}
