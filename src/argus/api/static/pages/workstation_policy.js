// The workstation decision policy (admins), shown on the Workstations page: when to lock the
// screen, sign out or block, and when a phone counts as aimed at the screen
// (``/workstations/policy``). A value equal to its default is not stored, so it keeps
// following the server's ``ARGUS_WORKSTATION_*`` settings; live sessions use a saved
// policy from their next frame.
import { get, put } from "../api.js";
import { field, h } from "../dom.js";
import { onSubmit, statusLine } from "./kit.js";

// [group, name, label, min, max, step, integer]
const FIELDS = [
  ["verification", "match_threshold", "Match threshold (largest face distance accepted)", "0.01", "2", "0.01", false],
  ["verification", "liveness_threshold", "Liveness threshold (scores below are spoofs)", "0.01", "0.99", "0.01", false],
  ["verification", "no_face_seconds", "Seconds without a face before locking", "0", "3600", "0.5", false],
  ["verification", "wrong_user_frames", "Frames of another face before locking", "1", "1000", "1", true],
  ["verification", "spoof_windows", "Spoof verdicts in a row before signing out", "1", "1000", "1", true],
  ["verification", "violations_to_block", "Violations that block the client", "1", "1000", "1", true],
  ["verification", "violation_seconds", "Span violations are counted over (s)", "1", "86400", "1", false],
  ["phone", "min_confidence", "Weakest phone detection considered (0–1)", "0", "1", "0.01", false],
  ["phone", "face_reach", "Phone near the face: face box grown by", "0.1", "20", "0.1", false],
  ["phone", "window", "Frames remembered for phones", "1", "100", "1", true],
  ["phone", "min_hits", "Frames of those that must show a phone", "1", "100", "1", true],
];
const GROUPS = [["verification", "Decisions"], ["phone", "Phone held up to the screen"]];

/** "stored" or "default (0.6)" next to a value. */
function sourceNote(policy, group, name) {
  const source = policy.sources[group][name];
  return source === "stored" ? "set here" : `default (${policy.defaults[group][name]})`;
}

/** The policy editor: the values in force, where each came from, save and restore defaults. */
export async function policySection() {
  let policy = await get("/workstations/policy");
  const status = statusLine();
  const inputs = new Map();
  const notes = new Map();
  for (const [group, name, , min, max, step] of FIELDS) {
    inputs.set(`${group}.${name}`, h("input", { type: "number", name: `${group}_${name}`, min, max, step, required: true }));
    notes.set(`${group}.${name}`, h("small", { class: "policy-source", "data-field": `${group}.${name}` }));
  }
  const show = () => {
    for (const [group, name] of FIELDS) {
      const key = `${group}.${name}`;
      inputs.get(key).value = String(policy[group][name]);
      notes.get(key).textContent = sourceNote(policy, group, name);
      notes.get(key).dataset.source = policy.sources[group][name];
    }
  };
  const restore = h("button", { type: "button", name: "restore" }, "Restore all defaults");
  const form = h("form", { class: "card ws-section workstation-policy", "aria-label": "Workstation policy" },
    h("h2", {}, "Decision policy"),
    h("p", { class: "legend" }, "When a workstation is locked, signed out or blocked, and when a phone counts as "
      + "aimed at the screen. Saved values apply to connected workstations from their next frame; a value equal "
      + "to its default keeps following the server's settings. Every change is recorded in the audit trail."),
    GROUPS.map(([group, title]) => h("fieldset", { class: "ws-people policy-group", "data-group": group }, h("legend", {}, title),
      FIELDS.filter(([g]) => g === group).map(([g, name, label]) =>
        h("div", { class: "policy-field" }, field(label, inputs.get(`${g}.${name}`)), notes.get(`${g}.${name}`))))),
    status.node,
    h("button", { type: "submit", class: "primary" }, "Save policy"), restore);
  const body = () => {
    const out = { verification: {}, phone: {} };
    for (const [group, name, label, , , , integer] of FIELDS) {
      const raw = inputs.get(`${group}.${name}`).value.trim();
      const value = Number(raw);
      if (raw === "" || !Number.isFinite(value)) throw new Error(`${label}: enter a number.`);
      if (integer && !Number.isInteger(value)) throw new Error(`${label}: enter a whole number.`);
      if (value !== policy.defaults[group][name]) out[group][name] = value;
    }
    return out;
  };
  const saved = (changed) => {
    const set = FIELDS.filter(([g, n]) => policy.sources[g][n] === "stored").length;
    const which = set ? `${set} value${set === 1 ? "" : "s"} set here, the rest follow the defaults`
      : "every value follows the defaults";
    status.ok(`Saved${changed ? "" : " (defaults restored)"}: ${which}. Connected workstations use it from their next frame.`);
  };
  onSubmit(form, status, async () => {
    policy = await put("/workstations/policy", body());
    show();
    saved(true);
  });
  restore.addEventListener("click", async () => {
    status.clear();
    restore.disabled = true;
    try {
      policy = await put("/workstations/policy", {});
      show();
      saved(false);
    } catch (err) { status.fail(err); } finally { restore.disabled = false; }
  });
  show();
  return form;
}
