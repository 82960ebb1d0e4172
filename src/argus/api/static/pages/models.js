// Model versions: the registry (every pack version built or imported), what each camera
// runs, promote a version to a list of cameras (a staged rollout, in the order ticked),
// roll a camera back to the model it ran before its last change. Reads: everyone;
// changes: "configure" (admins). The shadow runs and evaluations of models_trials.js
// (part D2) follow when that module is present.
import { get, post, put } from "../api.js";
import { field, h, toast, when } from "../dom.js";
import { actorName, check, onSubmit, statusLine, table } from "./kit.js";

const CAMERA_PAGE = 200;

/** The ``name@version`` a camera runs: its pinned ref, or its pack's current version. */
function resolvedOf(model, packs) {
  if (model.includes("@")) return model;
  const pack = packs.find((p) => p.name === model);
  return pack?.current_version ? `${model}@${pack.current_version}` : null;
}

function stateOf(version) {
  if (!version.on_disk) return h("span", { class: "model-state", "data-state": "missing" }, "files missing");
  return version.current
    ? h("span", { class: "model-state", "data-state": "current" }, "current")
    : h("span", { class: "model-state", "data-state": "kept" }, "kept");
}

/** A camera's latest model changes, loaded when its "History" is opened. */
function historyOf(camera) {
  const body = h("div", { class: "model-history" });
  const box = h("details", { class: "model-history-box" }, h("summary", {}, "History"), body);
  box.addEventListener("toggle", async () => {
    if (!box.open) return;
    const answer = await get(`/cameras/${encodeURIComponent(camera.id)}/model`);
    body.replaceChildren(answer.history.length
      ? h("ol", {}, answer.history.map((a) => h("li", { "data-action": a.action },
        `${when(a.at)} · ${a.action} · ${a.previous_ref} → ${a.ref} · ${actorName(a.by)}`)))
      : h("p", { class: "legend" }, "No changes through the registry yet."));
  });
  return box;
}

/** One row per camera: what it runs, assign a version, roll back, its history. */
function camerasSection(ctx) {
  const { cameras, packs, refs, canChange, reload } = ctx;
  const status = statusLine();
  const row = (c) => {
    const resolved = resolvedOf(c.model, packs);
    const cells = [
      h("th", { scope: "row" }, c.name),
      h("td", { class: "model-runs", "data-ref": resolved ?? "" }, resolved ?? `${c.model} (not built)`),
      h("td", {}, c.model.includes("@") ? "pinned" : "follows current"),
    ];
    if (canChange) {
      const choice = h("select", { name: `assign-${c.id}` },
        refs.map((r) => h("option", { value: r, selected: r === c.model }, r.includes("@") ? r : `${r} (current version)`)));
      const assign = h("button", { type: "button", name: "assign" }, "Assign");
      const back = h("button", { type: "button", name: "rollback" }, "Roll back");
      const act = (button, run) => button.addEventListener("click", async () => {
        button.disabled = true;
        status.clear();
        try { toast(await run()); await reload(); } catch (err) { status.fail(err); } finally { button.disabled = false; }
      });
      act(assign, async () => {
        const done = await put(`/cameras/${encodeURIComponent(c.id)}/model`, { ref: choice.value });
        return `${c.name} now runs ${done.resolved ?? done.assigned}.`;
      });
      act(back, async () => {
        const done = await post(`/cameras/${encodeURIComponent(c.id)}/model/rollback`, {});
        return `${c.name} rolled back to ${done.assigned}.`;
      });
      cells.push(h("td", { class: "model-actions" }, field("Version", choice), assign, back));
    }
    cells.push(h("td", {}, historyOf(c)));
    return h("tr", { "data-camera": c.id }, cells);
  };
  const columns = ["Camera", "Runs", "Assignment", ...(canChange ? ["Change"] : []), ""];
  return h("section", { class: "card models-cameras", "aria-label": "Cameras and their models" },
    h("h2", {}, "Cameras"),
    cameras.length ? table("Camera models", columns, cameras.map(row)) : h("p", {}, "No cameras yet."),
    status.node);
}

/** The promote form of one version: tick cameras (in rollout order), promote. */
function promoteForm(version, ctx) {
  const order = [];
  const listed = h("p", { class: "legend promote-order" }, "Tick cameras in the order to change them.");
  const show = () => {
    const names = order.map((id) => ctx.cameras.find((c) => c.id === id)?.name ?? id);
    listed.textContent = names.length ? `Rollout order: ${names.join(" → ")}` : "Tick cameras in the order to change them.";
  };
  const boxes = ctx.cameras.map((c) => {
    const box = h("input", { type: "checkbox", name: "promote-camera", value: c.id });
    box.addEventListener("change", () => {
      const at = order.indexOf(c.id);
      if (box.checked && at < 0) order.push(c.id);
      if (!box.checked && at >= 0) order.splice(at, 1);
      show();
    });
    return check(c.name, box);
  });
  const status = statusLine();
  const form = h("form", { class: "promote-form", "aria-label": `Promote ${version.ref}` },
    h("fieldset", {}, h("legend", {}, `Promote ${version.ref} to`), boxes), listed,
    h("button", { type: "submit", class: "primary" }, "Promote"), status.node);
  onSubmit(form, status, async () => {
    if (!order.length) { status.fail("Tick at least one camera."); return; }
    const done = await post("/models/promote", { ref: version.ref, camera_ids: order });
    toast(`${version.ref} now runs on ${done.items.length} camera(s).`);
    await ctx.reload();
  });
  return form;
}

/** One table per pack: its versions, which is current, who runs each, promote. */
function versionsSection(ctx) {
  const { packs, cameras, canChange } = ctx;
  const names = new Map(cameras.map((c) => [c.id, c.name]));
  const pack = (p) => {
    const rows = p.versions.map((v) => h("tr", { "data-ref": v.ref },
      h("th", { scope: "row" }, v.version), h("td", {}, stateOf(v)), h("td", {}, v.kind),
      h("td", {}, v.input_sizes.join(", ") || "–"), h("td", {}, v.licence), h("td", {}, v.built_at ? when(v.built_at) : "–"),
      h("td", { class: "model-cameras" }, v.cameras.map((id) => names.get(id) ?? id).join(", ") || "–"),
      canChange && v.on_disk && cameras.length
        ? h("td", {}, h("details", { class: "promote" }, h("summary", {}, "Promote…"), promoteForm(v, ctx)))
        : h("td", {})));
    return h("div", { class: "model-pack", "data-pack": p.name },
      h("h3", {}, p.name, p.current_version ? h("small", {}, ` current ${p.current_version}`) : null),
      table(`Versions of ${p.name}`, ["Version", "State", "Kind", "Sizes", "Licence", "Built", "Cameras", ""], rows));
  };
  return h("section", { class: "card models-versions", "aria-label": "Model versions" },
    h("h2", {}, "Versions"),
    h("p", { class: "legend" }, "Every pack built or imported on this server is a version; building or importing "
      + "again keeps the version it replaces. A camera on a bare pack name follows its current version."),
    packs.length ? packs.map(pack) : h("p", {}, "No model packs are built yet (argus models build)."));
}

/** D2's shadow runs and evaluations, when its module is there. */
async function trialsOf(ctx) {
  try {
    const module = await import("./models_trials.js");
    if (typeof module.trialsSections !== "function") return [];
    const made = await module.trialsSections(ctx);
    return [made].flat().filter(Boolean);
  } catch (err) {
    if (String(err?.message ?? err).includes("models_trials")) return [];  // not shipped
    throw err;
  }
}

async function allCameras() {
  const first = await get(`/cameras?limit=${CAMERA_PAGE}`);
  return first.items;
}

export async function modelsView(me) {
  const root = h("div", { class: "models-page" });
  const canChange = me?.can ? me.can("configure") : false;
  const render = async () => {
    const [catalog, cameras] = await Promise.all([get("/models"), allCameras()]);
    const packs = catalog.items;
    const refs = [...packs.flatMap((p) => [p.name, ...p.versions.filter((v) => v.on_disk).map((v) => v.ref)])];
    const ctx = { me, cameras, packs, refs, canChange, reload: render };
    const trials = await trialsOf(ctx);
    root.replaceChildren(
      h("h1", {}, "Models"),
      camerasSection(ctx),
      versionsSection(ctx),
      ...trials);
  };
  await render();
  return { node: root };
}
