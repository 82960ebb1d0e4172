// Settings: the risk policy (with a preview) and time zones (settings_risk.js), retention
// per kind of data with "sweep now", maintenance windows and snoozes. Operators see the
// policy read-only and manage snoozes; the rest (with the MFA policy per role,
// settings_security.js) is for admins.
import { del, get, post, put } from "../api.js";
import { field, h, timeAgo, toast, when } from "../dom.js";
import { actorName, check, isoOf, localOf, onSubmit, SNOOZE_FOR, statusLine, table } from "./kit.js";
import { riskSection, siteSection } from "./settings_risk.js";
import { securitySection } from "./settings_security.js";

const KIND_LABELS = {
  events: "Events", alerts: "Alerts and alert groups", incidents: "Incidents", evidence: "Evidence",
  audit: "Audit records", heatmap: "Heatmap grids", health: "Health series", face_decisions: "Face decisions",
  notifications: "Notification log",
};

/** The sweep's counts: deleted per kind, what legal holds kept, kinds that failed. */
function sweepReport(report, title) {
  const rows = Object.entries(report.deleted ?? {})
    .map(([k, n]) => h("tr", { "data-kind": k }, h("td", {}, KIND_LABELS[k] ?? k), h("td", {}, String(n))));
  const kept = Object.entries(report.kept ?? {}).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`);
  const failed = Object.entries(report.errors ?? {}).map(([k, why]) => `${KIND_LABELS[k] ?? k}: ${why}`);
  return h("div", {}, h("p", { role: "status" }, `${title}: ${report.total ?? 0} removed`,
    report.held_incidents ? ` · ${report.held_incidents} incident(s) under legal hold` : "",
    kept.length ? ` · kept for holds: ${kept.join(", ")}` : ""),
  failed.length ? h("p", { class: "error" }, `Failed: ${failed.join("; ")}`) : "",
  table("Swept", ["Kind", "Removed"], rows));
}

async function retentionSection() {
  const doc = await get("/retention");
  const days = doc.policy ?? {};
  const kinds = Object.keys(days);
  const status = statusLine();
  const result = h("div", { class: "sweep-result", "aria-live": "polite" },
    doc.last_sweep ? sweepReport(doc.last_sweep, "Last sweep") : "");
  const form = h("form", { class: "card retention", "aria-label": "Retention" }, h("h2", {}, "Retention"),
    h("p", { class: "legend" }, "Days each kind of data is kept. Incidents under legal hold keep their alerts, events and evidence."),
    h("div", { class: "form-grid" }, kinds.map((k) => field(`${KIND_LABELS[k] ?? k} (days)`,
      h("input", { name: `r_${k}`, type: "number", min: "0.05", step: "any", value: String(days[k]), required: true,
        title: `default ${doc.defaults?.[k] ?? "?"} days` })))),
    status.node,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save retention"),
      h("button", { type: "button", class: "sweep", onclick: async (event) => {
        event.target.disabled = true;
        result.replaceChildren(h("p", { class: "muted" }, "Sweeping…"));
        try {
          result.replaceChildren(sweepReport(await post("/retention/sweep"), "Sweep done"));
        } catch (err) { result.replaceChildren(h("p", { class: "error" }, `Sweep: ${err.message}`)); }
        event.target.disabled = false;
      } }, "Sweep now")),
    result);
  onSubmit(form, status, async () => {
    await put("/retention", Object.fromEntries(kinds.map((k) => [k, Number(form.elements[`r_${k}`].value)])));
    status.ok("Retention saved.");
  });
  return form;
}

function cameraPicker(cameras, legend) {
  const boxes = cameras.map((c) => h("input", { type: "checkbox", name: "mw_camera", value: c.id }));
  return { node: h("fieldset", { class: "scope" }, h("legend", {}, legend), cameras.map((c, i) => check(c.name, boxes[i]))),
    value: () => boxes.filter((b) => b.checked).map((b) => b.value) };
}

async function maintenanceSection(me, cameras, cameraName) {
  const admin = me.can("configure");
  const list = h("div", {});
  async function load() {
    const items = (await get("/maintenance-windows")).items ?? [];
    list.replaceChildren(items.length ? table("Maintenance windows", ["Name", "Cameras", "From", "Until", "Reason", "By", ""],
      items.map((w) => h("tr", { "data-window": w.id },
        h("td", {}, w.name), h("td", {}, w.camera_ids?.length ? w.camera_ids.map(cameraName).join(", ") : "all cameras"),
        h("td", {}, timeAgo(w.start)), h("td", {}, timeAgo(w.end)), h("td", {}, w.reason ?? ""),
        h("td", {}, w.created_by ? actorName(w.created_by) : ""),
        h("td", {}, admin ? h("button", { type: "button", onclick: async () => {
          try { await del(`/maintenance-windows/${w.id}`); toast(`Window ${w.name} removed`); load(); } catch (err) { toast(err.message); }
        } }, "Remove") : ""))))
      : h("p", { class: "muted" }, "No maintenance windows."));
  }
  const status = statusLine();
  const picker = cameraPicker(cameras, "Cameras (none ticked: all)");
  const later = new Date(Date.now() + 2 * 3600_000).toISOString();
  const form = h("form", { class: "add-window", "aria-label": "New maintenance window" }, h("h3", {}, "New window"),
    h("div", { class: "form-grid" },
      field("Window name", h("input", { name: "mw_name", required: true, maxlength: "100" })),
      field("From", h("input", { name: "mw_start", type: "datetime-local", required: true, value: localOf(null) })),
      field("Until", h("input", { name: "mw_end", type: "datetime-local", required: true, value: localOf(later) })),
      field("Reason", h("input", { name: "mw_reason", maxlength: "500" }))),
    picker.node, status.node, h("button", { type: "submit", class: "primary" }, "Add window"));
  onSubmit(form, status, async () => {
    const el = form.elements;
    await post("/maintenance-windows", { name: el.mw_name.value.trim(), camera_ids: picker.value(),
      start: isoOf(el.mw_start.value), end: isoOf(el.mw_end.value), reason: el.mw_reason.value.trim() });
    status.ok("Window added: alerts in it are stored but not notified.");
    form.reset();
    load();
  });
  await load();
  return h("section", { class: "card maintenance", "aria-label": "Maintenance windows" }, h("h2", {}, "Maintenance windows"),
    list, admin ? form : "");
}

async function snoozesSection(me, rules, cameras, names) {
  const list = h("div", {});
  async function load() {
    const now = Date.now();
    const items = ((await get("/snoozes")).items ?? []).filter((s) => Date.parse(s.until) > now);
    list.replaceChildren(items.length ? table("Snoozes", ["Rule", "Camera", "Until", "Reason", "By", ""],
      items.map((s) => h("tr", { "data-snooze": s.id },
        h("td", {}, s.rule_id ? names.rule(s.rule_id) : "any"), h("td", {}, s.camera_id ? names.camera(s.camera_id) : "any"),
        h("td", {}, timeAgo(s.until)), h("td", {}, s.reason ?? ""), h("td", {}, s.created_by ? actorName(s.created_by) : ""),
        h("td", {}, h("button", { type: "button", onclick: async () => {
          try { await del(`/snoozes/${s.id}`); toast("Snooze lifted"); load(); } catch (err) { toast(err.message); }
        } }, "Lift snooze")))))
      : h("p", { class: "muted" }, "Nothing is snoozed."));
  }
  const status = statusLine();
  const rule = h("select", { name: "sn_rule" }, h("option", { value: "" }, "Any"), rules.map((r) => h("option", { value: r.id }, r.name)));
  const camera = h("select", { name: "sn_camera" }, h("option", { value: "" }, "Any"), cameras.map((c) => h("option", { value: c.id }, c.name)));
  const span = h("select", { name: "sn_for" }, SNOOZE_FOR.map(([label, s]) => h("option", { value: String(s) }, label)));
  const form = h("form", { class: "add-snooze", "aria-label": "New snooze" }, h("h3", {}, "Snooze"),
    h("div", { class: "form-grid" }, field("Snooze rule", rule), field("Snooze camera", camera), field("For", span),
      field("Snooze reason", h("input", { name: "sn_reason", maxlength: "500" }))),
    status.node, h("button", { type: "submit", class: "primary" }, "Add snooze"));
  onSubmit(form, status, async () => {
    if (!rule.value && !camera.value) throw new Error("Choose a rule, a camera, or both.");
    const until = new Date(Date.now() + Number(span.value) * 1000).toISOString();
    await post("/snoozes", { rule_id: rule.value || null, camera_id: camera.value || null, until,
      reason: form.elements.sn_reason.value.trim() });
    status.ok(`Snoozed until ${when(until)}.`);
    load();
  });
  await load();
  return h("section", { class: "card snoozes", "aria-label": "Snoozes" }, h("h2", {}, "Snoozes"),
    h("p", { class: "legend" }, "Snoozed alerts are stored, but nobody is notified and they do not escalate."), list, form);
}

/** A section that could not load (a route missing, or not allowed) says so instead. */
async function guarded(title, build) {
  try { return await build(); } catch (err) {
    return h("section", { class: "card", "aria-label": title }, h("h2", {}, title), h("p", { class: "error" }, err.message));
  }
}

export async function settingsView(me) {
  const [rules, cameras] = await Promise.all([get("/rules?limit=1000"), get("/cameras?limit=1000")]);
  const ruleNames = new Map(rules.items.map((r) => [r.id, r.name]));
  const cameraNames = new Map(cameras.items.map((c) => [c.id, c.name]));
  const names = { rule: (id) => ruleNames.get(id) ?? id, camera: (id) => cameraNames.get(id) ?? id };
  const sections = await Promise.all([
    guarded("Risk policy", () => riskSection(me, rules.items, cameras.items)),
    guarded("Time zones", () => siteSection(me, cameras.items)),
    me.can("admin") ? guarded("Retention", retentionSection) : "",
    me.can("admin") ? guarded("Sign-in security", () => securitySection(me)) : "",
    guarded("Maintenance windows", () => maintenanceSection(me, cameras.items, names.camera)),
    guarded("Snoozes", () => snoozesSection(me, rules.items, cameras.items, names)),
  ]);
  return { node: h("div", { class: "config settings" }, h("h1", {}, "Settings"), sections.flat()) };
}
