// The Settings page's risk policy editor (weights, night hours in local time, the time zone)
// with a preview of the risk an alert would get, and the site's time zones.
import { get, post, put } from "../api.js";
import { field, h, toast } from "../dom.js";
import { isoOf, localOf, onSubmit, statusLine } from "./kit.js";

const NUMBERS = [["night_start", "Night starts (hour, local)", "0", "23", "1"], ["night_end", "Night ends (hour, local)", "0", "23", "1"],
  ["day_value", "Time value by day (0–1)", "0", "1", "0.05"], ["dwell_full_seconds", "Dwell for full score (s)", "1", null, "1"],
  ["repeat_full", "Repeats for full score", "1", null, "1"], ["repeat_window_s", "Repeat window (s)", "1", null, "1"]];
const INTEGER = new Set(["night_start", "night_end", "repeat_full"]);

/** Every IANA zone the browser knows, for the time zone inputs' suggestions. */
function zoneList(id) {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return h("datalist", { id }, ["UTC", ...zones].map((z) => h("option", { value: z })));
}

function previewForm(rules, cameras, draft) {
  const status = statusLine();
  const result = h("div", { class: "preview-result", "aria-live": "polite" });
  const rule = h("select", { name: "p_rule" }, rules.map((r) => h("option", { value: r.id }, r.name)));
  const camera = h("select", { name: "p_camera" }, cameras.map((c) => h("option", { value: c.id }, c.name)));
  const form = h("form", { class: "preview", "aria-label": "Risk preview" }, h("h3", {}, "Preview (the policy as edited, saved or not)"),
    h("div", { class: "form-grid" }, field("Rule", rule), field("Camera", camera),
      field("At (local time)", h("input", { name: "p_at", type: "datetime-local", value: localOf(null), required: true })),
      field("Confidence (0–1)", h("input", { name: "p_confidence", type: "number", min: "0", max: "1", step: "0.01", value: "0.8" })),
      field("Dwell (s)", h("input", { name: "p_dwell", type: "number", min: "0", step: "any", value: "0" })),
      field("Zone (optional)", h("input", { name: "p_zone" })),
      field("Earlier alerts in the repeat window", h("input", { name: "p_recent", type: "number", min: "0", step: "1", value: "0" }))),
    status.node, h("button", { type: "submit" }, "Preview risk"), result);
  onSubmit(form, status, async () => {
    if (!rule.value || !camera.value) throw new Error("Preview needs a rule and a camera.");
    const el = form.elements;
    const risk = await post("/risk-policy/preview", {
      rule_id: rule.value, camera_id: camera.value, at: isoOf(el.p_at.value),
      confidence: Number(el.p_confidence.value), dwell: Number(el.p_dwell.value), zone: el.p_zone.value.trim() || null,
      recent_alerts: Math.round(Number(el.p_recent.value)), policy: draft(),
    });
    const score = risk.score ?? risk.risk_score;
    const parts = risk.components ?? risk.risk_components ?? [];
    const bounds = [risk.floor ? `floor ${risk.floor}` : "", risk.ceiling ? `ceiling ${risk.ceiling}` : ""].filter(Boolean).join(", ");
    result.replaceChildren(
      h("p", { class: "preview-score", "data-severity": risk.severity },
        h("span", { class: "sev" }, risk.severity), ` · risk ${Number(score).toFixed(2)}`,
        bounds ? ` · rule ${bounds}` : "",
        risk.local_time ? ` · local time ${String(risk.local_time).slice(11, 16)} (${risk.timezone})` : ""),
      h("ul", {}, parts.map((c) => h("li", {}, `${c.name}: ${Number(c.value).toFixed(2)} × ${c.weight} — ${c.reason}`))));
  });
  return form;
}

export async function riskSection(me, rules, cameras) {
  const admin = me.can("admin");
  const policy = await get("/risk-policy");
  const status = statusLine();
  const weights = Object.entries(policy.weights ?? {});
  const zone = h("input", { name: "timezone", list: "zones", value: policy.timezone ?? "",
    placeholder: `blank: each camera's, else the site's (${policy.site_timezone ?? "?"})`, disabled: !admin });
  const form = h("form", { class: "card risk-policy", "aria-label": "Risk policy" }, h("h2", {}, "Risk policy"),
    h("p", { class: "legend" }, "An alert's risk is the weighted mean of its components; severity follows from it, "
      + "within each rule's floor and ceiling (Configuration → Rules)."),
    h("fieldset", { class: "scope" }, h("legend", {}, "Weights"),
      weights.map(([name, value]) => field(`Weight: ${name}`, h("input", { name: `w_${name}`, type: "number", min: "0", max: "100", step: "any", value: String(value), disabled: !admin })))),
    h("div", { class: "form-grid" },
      NUMBERS.map(([key, label, min, max, step]) => field(label, h("input", { name: key, type: "number", min, max, step, value: String(policy[key] ?? ""), disabled: !admin }))),
      field("Night hours' time zone", zone)),
    zoneList("zones"), status.node,
    admin ? h("button", { type: "submit", class: "primary" }, "Save risk policy") : h("p", { class: "muted" }, "Only admins change the policy."));
  /** The policy the form describes (the fields PUT /risk-policy takes). */
  const draft = () => {
    const doc = { weights: Object.fromEntries(weights.map(([name]) => [name, Number(form.elements[`w_${name}`].value)])) };
    for (const [key] of NUMBERS) {
      const value = Number(form.elements[key].value);
      doc[key] = INTEGER.has(key) ? Math.round(value) : value;
    }
    doc.timezone = zone.value.trim() || null;
    return doc;
  };
  onSubmit(form, status, async () => {
    await put("/risk-policy", draft());
    status.ok("Risk policy saved: new alerts use it.");
    toast("Risk policy saved");
  });
  // The preview is a POST (admin permission on this router), so it is an admin's tool too.
  return [form, admin ? h("section", { class: "card", "aria-label": "Risk preview" }, previewForm(rules, cameras, draft)) : ""];
}

export async function siteSection(me, cameras) {
  const admin = me.can("admin");
  const site = await get("/site");
  const status = statusLine();
  const zone = h("input", { name: "site_timezone", list: "zones", value: site.timezone ?? "",
    placeholder: `blank: ${site.default_timezone ?? "the machine's"}`, disabled: !admin });
  const per = cameras.map((c) => h("input", { name: "cam_tz", "data-camera": c.id, list: "zones", value: site.camera_timezones?.[c.id] ?? "", placeholder: "the site's", disabled: !admin }));
  const form = h("form", { class: "card site", "aria-label": "Site time zone" }, h("h2", {}, "Time zones"),
    h("p", { class: "legend" }, "Night hours, schedules and quiet hours are judged in the camera's zone, else the site's."),
    h("div", { class: "form-grid" }, field("Site time zone", zone), cameras.map((c, i) => field(`${c.name} time zone`, per[i]))),
    status.node, admin ? h("button", { type: "submit", class: "primary" }, "Save time zones") : "");
  onSubmit(form, status, async () => {
    const camera_timezones = Object.fromEntries(per.filter((p) => p.value.trim()).map((p) => [p.dataset.camera, p.value.trim()]));
    await put("/site", { timezone: zone.value.trim() || null, camera_timezones });
    status.ok("Time zones saved.");
  });
  return form;
}
