// Rules on the Configuration page: a rule editor that cannot lie. Lines and zones are chosen
// from the camera's own lists (the server refuses names a camera lacks), the schedule is part
// of the form, the severity the rule will produce is previewed under the current risk policy
// (POST /rules/preview), and a dry run replays the last hours of events (POST /rules/dry-run).
import { del, get, patch, post } from "../api.js";
import { field, h, human, toast } from "../dom.js";

const EVENT_TYPES = ["line.crossed", "line.wrong_way", "zone.entered", "zone.exited",
  "zone.loitering", "zone.crowding", "behaviour.running"];
const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const SEVERITIES = ["low", "medium", "high"];

/** An API error as a sentence (422 details become "field: message" lines). */
export function explain(err) {
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
const check = (label, input) => h("label", { class: "check" }, input, label);

function scheduleText(schedule) {
  if (!schedule) return "always";
  const days = schedule.days.length === 7 ? "every day" : schedule.days.map((d) => DAYS[d]).join(", ");
  const hours = schedule.start === schedule.end ? "all day" : `${schedule.start}–${schedule.end}`;
  return `${days}, ${hours} (${schedule.timezone})`;
}

/** Names of the lines or zones a rule may pick: its camera's, or every camera's for "All cameras". */
function namesFor(scenes, cameraId, kind) {
  const pick = cameraId ? [scenes[cameraId]].filter(Boolean) : Object.values(scenes);
  return [...new Set(pick.flatMap((s) => s[kind].map((item) => item.name)))].sort();
}

/** Why a stored rule can never fire (its line or zone is missing), or null. */
export function danglingReason(rule, scenes, cameraName) {
  for (const [key, kind] of [["line", "lines"], ["zone", "zones"]]) {
    const name = rule[key];
    if (!name) continue;
    if (rule.camera_id && !scenes[rule.camera_id]) continue; // not a registered camera: unknown scene
    if (!namesFor(scenes, rule.camera_id, kind).includes(name)) {
      const where = rule.camera_id ? cameraName(rule.camera_id) : "no camera";
      return `never fires: ${where} has no ${key} “${name}”`;
    }
  }
  return null;
}

function timeZones(preferred) {
  const all = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return [...new Set([preferred, "UTC", ...all].filter(Boolean))];
}

/** The schedule fieldset: "Always active", or days, a daily time range and a time zone. */
function scheduleFields(schedule, siteZone, locked) {
  const always = h("input", { type: "checkbox", name: "always", checked: !schedule, disabled: locked });
  const days = DAYS.map((d, i) => h("input", { type: "checkbox", value: String(i), "aria-label": d,
    checked: schedule ? schedule.days.includes(i) : true, disabled: locked }));
  const start = h("input", { type: "time", name: "schedule_start", value: schedule?.start ?? "22:00", disabled: locked });
  const end = h("input", { type: "time", name: "schedule_end", value: schedule?.end ?? "06:00", disabled: locked });
  const zone = h("input", { name: "schedule_timezone", value: schedule?.timezone ?? siteZone, list: "argus-time-zones",
    maxlength: "64", disabled: locked, autocomplete: "off" });
  const detail = h("div", { class: "schedule-detail" },
    h("div", { class: "days", role: "group", "aria-label": "Days" }, days.map((box, i) => check(DAYS[i], box))),
    h("div", { class: "form-grid" }, field("From (local time)", start), field("Until", end), field("Time zone", zone)),
    h("p", { class: "legend" }, "An end before the start runs past midnight (22:00–06:00 belongs to the day it starts); "
      + "equal times mean all day."));
  const sync = () => { detail.hidden = always.checked; };
  always.addEventListener("change", sync);
  sync();
  return {
    node: h("fieldset", { class: "schedule" }, h("legend", {}, "Schedule"), check("Always active", always), detail),
    value() {
      if (always.checked) return null;
      const chosen = days.filter((b) => b.checked).map((b) => Number(b.value));
      if (!chosen.length) throw new Error("Schedule: choose at least one day, or Always active.");
      return { days: chosen, start: start.value || "00:00", end: end.value || "00:00", timezone: zone.value.trim() || "UTC" };
    },
  };
}

/** A select of a camera's lines or zones, repopulated when the camera changes. */
function namePicker(name, current, scenes, kind, locked) {
  const select = h("select", { name, disabled: locked });
  const fill = (cameraId, keep) => {
    const names = namesFor(scenes, cameraId, kind);
    const options = [h("option", { value: "" }, `— no ${name} —`), ...names.map((n) => h("option", { value: n }, n))];
    if (keep && !names.includes(keep)) options.push(h("option", { value: keep }, `${keep} (missing on this camera)`));
    select.replaceChildren(...options);
    select.value = keep && (names.includes(keep) || keep === current) ? keep : "";
  };
  return { select, fill };
}

function severityCell(scenario) {
  return h("td", { class: `sev ${scenario.severity}`, "data-label": scenario.repeating ? "Repeating" : "First alert" },
    h("strong", {}, scenario.severity), ` ${scenario.score.toFixed(2)}`);
}

/** The severity preview table (rows: by day, at night; columns: first alert, repeating). */
function previewTable(preview, cameraName) {
  const rows = [false, true].map((night) => preview.scenarios.filter((s) => s.night === night)).filter((r) => r.length);
  const where = preview.camera_id ? `on ${cameraName(preview.camera_id)}` : "with no camera";
  const zone = preview.zone_criticality === null ? "" : `, zone criticality ${preview.zone_criticality}`;
  const first = preview.scenarios[0];
  const reasons = first ? first.risk_components.filter((c) => c.weight > 0 || c.name === "bounds")
    .map((c) => h("li", {}, `${c.name}: ${c.reason}`)) : [];
  return [
    h("table", { class: "severity-preview", "aria-label": "Severity preview" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "When"), h("th", { scope: "col" }, "First alert"),
        h("th", { scope: "col" }, "Repeating"))),
      h("tbody", {}, rows.map((row) => h("tr", {},
        h("th", { scope: "row" }, row[0].night ? `At night (${row[0].local_time.slice(11, 16)})` : `By day (${row[0].local_time.slice(11, 16)})`),
        row.map(severityCell))))),
    h("p", { class: "legend" }, `Under the current risk policy, ${where}${zone}, detection confidence ${preview.confidence}, `
      + `local time ${preview.timezone}. Repeating: after enough alerts in the repeat window for full repeat risk.`),
    h("details", { class: "why" }, h("summary", {}, "Why (first alert by day)"), h("ul", {}, reasons)),
  ];
}

function firingRow(f, cameraName) {
  const what = [f.line ? `line ${f.line}` : null, f.zone ? `zone ${f.zone}` : null, f.direction, f.class_name,
    f.track_id !== null ? `track ${f.track_id}` : null, f.window_count > 1 ? `${f.window_count} in window` : null].filter(Boolean);
  return h("li", { "data-event": f.event_id },
    h("span", { class: `badge sev ${f.severity}` }, f.severity), " ",
    h("time", { datetime: f.timestamp }, new Date(f.timestamp).toLocaleTimeString()), " ",
    `${cameraName(f.camera_id)} · ${human(f.type)}${what.length ? ` · ${what.join(" · ")}` : ""} · score ${f.score.toFixed(2)}`);
}

function dryRunResult(run, hours, cameraName) {
  const severities = SEVERITIES.filter((s) => run.by_severity[s]).map((s) => `${run.by_severity[s]} ${s}`).join(", ");
  const held = [run.outside_schedule ? `${run.outside_schedule} outside the schedule` : null,
    run.held_back ? `${run.held_back} held back by the count window or cooldown` : null].filter(Boolean);
  const summary = `Last ${hours} h: ${run.scanned} event(s) replayed, ${run.matched} matched`
    + (held.length ? ` (${held.join(", ")})` : "")
    + ` → ${run.fired_total} alert(s) would have fired${severities ? `: ${severities}` : ""}.`;
  const shown = run.fired.slice(0, 50);
  return [
    h("p", { class: "dry-summary" }, summary),
    run.truncated ? h("p", { class: "legend" }, `More events than can be replayed: only those since ${new Date(run.since).toLocaleString()}.`) : null,
    shown.length ? h("ol", { class: "firings", "aria-label": "Would have fired" }, shown.map((f) => firingRow(f, cameraName))) : null,
    run.fired_total > shown.length ? h("p", { class: "legend" }, `…and ${run.fired_total - shown.length} more.`) : null,
  ].filter(Boolean);
}

function ruleForm(me, rule, cameras, scenes, siteZone, done) {
  const locked = !me.can("configure");
  const cameraName = (id) => cameras.find((c) => c.id === id)?.name ?? id;
  const input = (name, value, extra = {}) => h("input", { name, value: value ?? "", disabled: locked, ...extra });
  const num = (name, value, extra = {}) => input(name, value, { type: "number", step: "any", ...extra });
  const select = (name, value, options) => h("select", { name, disabled: locked },
    options.map(([v, text]) => h("option", { value: v, selected: v === (value ?? "") }, text)));
  const cameraOptions = [["", "All cameras"], ...cameras.map((c) => [c.id, c.name])];
  if (rule?.camera_id && !cameras.some((c) => c.id === rule.camera_id)) cameraOptions.push([rule.camera_id, rule.camera_id]);
  const camera = select("camera_id", rule?.camera_id, cameraOptions);
  const line = namePicker("line", rule?.line, scenes, "lines", locked);
  const zone = namePicker("zone", rule?.zone, scenes, "zones", locked);
  const refill = (keep) => { line.fill(camera.value, keep ? rule?.line : line.select.value); zone.fill(camera.value, keep ? rule?.zone : zone.select.value); };
  refill(true);
  const schedule = scheduleFields(rule?.schedule ?? null, siteZone, locked);
  // Exclusion areas come from applied rule suggestions; here they can only be kept or cleared.
  const areas = rule?.exclude_areas ?? [];
  const keepAreas = h("input", { type: "checkbox", name: "keep_exclude_areas", checked: true, disabled: locked });
  const previewBox = h("div", { class: "preview", role: "status", "aria-label": "Severity preview", "aria-live": "polite" });
  const hours = h("input", { name: "dry_run_hours", type: "number", min: "1", max: "24", step: "1", value: "1", disabled: locked });
  const dryBox = h("div", { class: "dry-run-result", role: "status", "aria-label": "Dry run result" });
  const label = rule ? `Rule ${rule.name}` : "Add a rule";
  const form = h("form", { "aria-label": label, class: "rule-form" },
    h("div", { class: "form-grid" },
      field("Name", input("name", rule?.name, { required: true, maxlength: "200" })),
      field("Description", input("description", rule?.description, { maxlength: "2000" })),
      check("Enabled", h("input", { type: "checkbox", name: "enabled", checked: rule?.enabled ?? true, disabled: locked })),
      field("Camera", camera),
      field("Event types (comma-separated; any if empty)", input("event_types", rule?.event_types.join(", "),
        { list: "argus-event-types", placeholder: "zone.entered, line.crossed" })),
      field("Classes (comma-separated; any if empty)", input("classes", rule?.classes.join(", "), { placeholder: "person, car" })),
      field("Line", line.select),
      field("Direction", select("direction", rule?.direction, [["", "any"], ["in", "in"], ["out", "out"]])),
      field("Zone", zone.select),
      field("Min dwell (s)", num("min_dwell_seconds", rule?.min_dwell_seconds, { min: "0" })),
      field("Min occupancy", num("min_occupancy", rule?.min_occupancy, { min: "1", step: "1" })),
      field("Min confidence (0–1)", num("min_confidence", rule?.min_confidence, { min: "0", max: "1" })),
      field("Count", num("count", rule?.count, { min: "1", step: "1" })),
      field("Window (s)", num("window_seconds", rule?.window_seconds, { min: "0" })),
      field("Cooldown (s)", num("cooldown_seconds", rule?.cooldown_seconds ?? 0, { min: "0", required: true })),
      field("Cooldown scope", select("cooldown_scope", rule?.cooldown_scope ?? "track", [["track", "per track"], ["camera", "per camera"]])),
      field("Weight (0–1, the rule's share of the risk score)", num("weight", rule?.weight ?? 0.5, { min: "0", max: "1", required: true })),
      field("Severity at least", select("severity_floor", rule?.severity_floor, [["", "no floor"], ...SEVERITIES.map((s) => [s, s])])),
      field("Severity at most", select("severity_ceiling", rule?.severity_ceiling, [["", "no ceiling"], ...SEVERITIES.map((s) => [s, s])])),
      areas.length ? check(`Keep ${areas.length} excluded area${areas.length === 1 ? "" : "s"} of the frame (from rule suggestions; events without a position are never excluded)`, keepAreas) : null),
    schedule.node,
    h("section", { class: "rule-trial", "aria-label": "Severity this rule produces" }, h("h4", {}, "Severity this rule produces"),
      locked ? h("p", { class: "legend" }, "Only users who may configure rules see the preview.") : previewBox),
    h("section", { class: "rule-trial", "aria-label": "Dry run" }, h("h4", {}, "Dry run"),
      h("div", { class: "actions" }, field("Hours back (1–24)", hours),
        h("button", { type: "button", disabled: locked, onclick: () => dryRun() }, "Dry run")),
      dryBox),
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "primary", disabled: locked }, rule ? "Save rule" : "Add rule"),
      rule ? h("button", { type: "button", class: "danger", disabled: locked, onclick: async () => {
        if (!confirm(`Delete rule ${rule.name}?`)) return;
        try { await del(`/rules/${rule.id}`); toast(`Rule ${rule.name} deleted`); done(); } catch (err) { toast(explain(err)); }
      } }, "Delete rule") : null));

  function body() {
    const f = form.elements;
    return {
      name: f.name.value.trim() || rule?.name || "draft", description: f.description.value, enabled: f.enabled.checked,
      camera_id: camera.value || null, event_types: words(f.event_types.value), classes: words(f.classes.value),
      line: line.select.value || null, direction: f.direction.value || null, zone: zone.select.value || null,
      min_dwell_seconds: numberOrNull(f.min_dwell_seconds), min_occupancy: numberOrNull(f.min_occupancy),
      min_confidence: numberOrNull(f.min_confidence), count: numberOrNull(f.count),
      window_seconds: numberOrNull(f.window_seconds), cooldown_seconds: Number(f.cooldown_seconds.value),
      cooldown_scope: f.cooldown_scope.value, weight: Number(f.weight.value),
      severity_floor: f.severity_floor.value || null, severity_ceiling: f.severity_ceiling.value || null,
      schedule: schedule.value(), exclude_areas: keepAreas.checked ? areas : [],
    };
  }

  let asked = 0;
  let timer = null;
  async function preview() {
    if (locked || !form.isConnected) return;
    const mine = ++asked;
    let draft;
    try { draft = body(); } catch (err) { previewBox.replaceChildren(h("p", { class: "legend" }, err.message)); return; }
    try {
      const answer = await post("/rules/preview", { rule: draft });
      if (mine === asked) previewBox.replaceChildren(...previewTable(answer, cameraName));
    } catch (err) {
      if (mine === asked) previewBox.replaceChildren(h("p", { class: "legend" }, `No preview: ${explain(err)}`));
    }
  }
  const later = () => { clearTimeout(timer); timer = setTimeout(preview, 350); };
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  camera.addEventListener("change", () => refill(false));
  // Preview once the form is opened (a closed <details> costs no request).
  const opened = () => { if (!previewBox.childElementCount) preview(); };
  form.addEventListener("focusin", opened);
  queueMicrotask(() => { const d = form.closest("details"); if (d) d.addEventListener("toggle", () => { if (d.open) opened(); }); else opened(); });

  async function dryRun() {
    let draft;
    try { draft = body(); } catch (err) { toast(err.message); return; }
    const span = Math.min(24, Math.max(1, Number(hours.value) || 1));
    dryBox.replaceChildren(h("p", { class: "legend" }, "Replaying…"));
    try {
      const run = await post("/rules/dry-run", { rule: draft, hours: span });
      dryBox.replaceChildren(...dryRunResult(run, span, cameraName));
    } catch (err) { dryBox.replaceChildren(h("p", { class: "error" }, `Dry run failed: ${explain(err)}`)); }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let data;
    try { data = body(); } catch (err) { toast(err.message); return; }
    data.name = form.elements.name.value;
    try {
      if (rule) await patch(`/rules/${rule.id}`, data); else await post("/rules", data);
      toast(`Rule ${data.name} saved`);
      done();
    } catch (err) { toast(explain(err)); }
  });
  return form;
}

/** The Rules card: stored rules (each a <details> with its form) and "Add a rule". */
export async function rulesSection(me, rules, cameras, scenes, reload) {
  let siteZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  try { siteZone = (await get("/site")).timezone ?? siteZone; } catch { /* the browser's zone */ }
  const cameraName = (id) => (id === null ? "all cameras" : cameras.find((c) => c.id === id)?.name ?? id);
  return h("section", { class: "card", "aria-label": "Rules" }, h("h2", {}, "Rules"),
    h("datalist", { id: "argus-event-types" }, EVENT_TYPES.map((t) => h("option", { value: t }))),
    h("datalist", { id: "argus-time-zones" }, timeZones(siteZone).map((t) => h("option", { value: t }))),
    rules.length ? null : h("p", { class: "legend" }, "No rules."),
    h("div", { class: "rules" }, rules.map((rule) => {
      const dangling = danglingReason(rule, scenes, cameraName);
      return h("details", { class: "rule", "data-rule": rule.id },
        h("summary", {}, h("strong", {}, rule.name), " ",
          h("span", { class: rule.enabled ? "on" : "off" }, rule.enabled ? "enabled" : "disabled"),
          h("span", { class: "legend" }, ` · ${rule.event_types.join(", ") || "any event"} · ${cameraName(rule.camera_id)}`
            + ` · ${scheduleText(rule.schedule)}`),
          dangling ? h("span", { class: "dangling" }, ` ⚠ ${dangling}`) : null),
        ruleForm(me, rule, cameras, scenes, siteZone, reload));
    })),
    me.can("configure") ? h("details", { class: "rule new-rule" }, h("summary", {}, h("strong", {}, "Add a rule")),
      ruleForm(me, null, cameras, scenes, siteZone, reload)) : null);
}
