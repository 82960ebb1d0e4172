// The Notifications page's routes, recipient groups and notification log (see notify.js).
import { del, get, patch, post, put } from "../api.js";
import { field, h, toast, when } from "../dom.js";
import { check, onSubmit, statusLine, table, words } from "./kit.js";

const SEVERITIES = ["low", "medium", "high"];
const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const LOG_PAGE = 25;
const LOG_REFRESH_MS = 5000;

function severitySelect(name, label, value) {
  const select = h("select", { name }, SEVERITIES.map((s) => h("option", { value: s }, s)));
  select.value = value;
  return field(label, select);
}

/** Days, start and end of a schedule, behind a tick box ("off" = null). */
function scheduleFields(label, prefix, schedule, defaults = ["00:00", "24:00"], extra = "") {
  const on = h("input", { type: "checkbox", name: `${prefix}_on`, checked: Boolean(schedule) });
  const days = DAYS.map((d, i) => h("input", { type: "checkbox", name: `${prefix}_day`, value: String(i),
    checked: schedule ? schedule.days.includes(i) : true }));
  const start = h("input", { name: `${prefix}_start`, type: "time", value: schedule?.start ?? defaults[0] });
  const end = h("input", { name: `${prefix}_end`, type: "text", pattern: "([01][0-9]|2[0-3]):[0-5][0-9]|24:00", value: schedule?.end ?? defaults[1] });
  const box = h("fieldset", { class: "scope" }, h("legend", {}, label), check("On", on),
    DAYS.map((d, i) => check(d, days[i])), field(`${label}: from`, start), field(`${label}: until (24:00 = midnight)`, end), extra);
  return {
    node: box,
    value() {
      if (!on.checked) return null;
      return { days: days.filter((d) => d.checked).map((d) => Number(d.value)), start: start.value, end: end.value };
    },
  };
}

function targetRow(channels, target, remove) {
  const channel = h("select", { name: "t_channel" }, channels.map((c) => h("option", { value: c.id }, `${c.name} (${c.kind})`)));
  if (target) channel.value = target.channel_id;
  const level = h("input", { name: "t_level", type: "number", min: "0", max: "10", value: String(target?.level ?? 0) });
  const to = h("input", { name: "t_to", value: (target?.to ?? []).join(", "), placeholder: "blank: the channel's own" });
  const row = h("div", { class: "form-grid target" }, field("Channel", channel),
    field("Escalation level (0 = when raised)", level), field("Recipients (addresses or group:name)", to),
    h("button", { type: "button", onclick: () => remove(row) }, "Remove target"));
  row.value = () => ({ channel_id: channel.value, level: Number(level.value), to: words(to.value) });
  return row;
}

function routeForm(route, ctx, done) {
  const editing = Boolean(route);
  const status = statusLine();
  const pick = (items, chosen, name) => {
    const boxes = items.map((it) => h("input", { type: "checkbox", name, value: it.id, checked: (chosen ?? []).includes(it.id) }));
    return { node: h("fieldset", { class: "scope" }, h("legend", {}, `${name === "rule" ? "Rules" : "Cameras"} (none ticked: any)`),
      items.map((it, i) => check(it.name, boxes[i]))), value: () => boxes.filter((b) => b.checked).map((b) => b.value) };
  };
  const rules = pick(ctx.rules, route?.rule_ids, "rule");
  const cameras = pick(ctx.cameras, route?.camera_ids, "camera");
  const schedule = scheduleFields("Schedule", "sched", route?.schedule);
  const quiet = scheduleFields("Quiet hours", "quiet", route?.quiet_hours, ["22:00", "06:00"],
    severitySelect("quiet_min_severity", "During quiet hours, only from", route?.quiet_min_severity ?? "high"));
  const targets = h("div", { class: "targets" });
  const remove = (row) => row.remove();
  const addTarget = (t) => targets.append(targetRow(ctx.state.channels, t, remove));
  (route?.targets ?? [null]).forEach(addTarget);
  const form = h("form", { class: "route-form", "aria-label": editing ? `Edit route ${route.name}` : "New route" },
    h("h3", {}, editing ? `Edit ${route.name}` : "New route"),
    h("div", { class: "form-grid" },
      field("Route name", h("input", { name: "name", required: true, maxlength: "100", value: route?.name ?? "" })),
      severitySelect("min_severity", "Lowest severity", route?.min_severity ?? "low"),
      field("Time zone (blank: the camera's or the site's)", h("input", { name: "timezone", value: route?.timezone ?? "", placeholder: "Europe/Berlin" })),
      check("Route enabled", h("input", { type: "checkbox", name: "enabled", checked: route ? route.enabled : true }))),
    rules.node, cameras.node, schedule.node, quiet.node,
    h("h4", {}, "Targets"), targets,
    h("button", { type: "button", onclick: () => addTarget(null) }, "Add target"),
    status.node,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, editing ? "Save route" : "Create route"),
      editing ? h("button", { type: "button", onclick: () => done(false) }, "Cancel") : ""));
  onSubmit(form, status, async () => {
    const timezone = form.elements.timezone.value.trim();
    const body = {
      name: form.elements.name.value.trim(), enabled: form.elements.enabled.checked,
      rule_ids: rules.value(), camera_ids: cameras.value(), min_severity: form.elements.min_severity.value,
      schedule: schedule.value(), quiet_hours: quiet.value(), quiet_min_severity: form.elements.quiet_min_severity.value,
      timezone: timezone || null, targets: [...targets.children].map((row) => row.value()),
    };
    if (!body.targets.length) throw new Error("Add at least one target.");
    if (editing) await patch(`/routes/${route.id}`, body);
    else await post("/routes", body);
    toast(editing ? "Route saved" : "Route created");
    done(true);
  });
  return form;
}

const span = (s) => (s ? `${s.days.map((d) => DAYS[d]).join(" ")} ${s.start}–${s.end}` : "always");

export function routesSection(state, rules, cameras) {
  const ctx = { state, rules, cameras };
  const ruleName = new Map(rules.map((r) => [r.id, r.name]));
  const cameraName = new Map(cameras.map((c) => [c.id, c.name]));
  const section = h("section", { class: "card", "aria-label": "Routes" }, h("h2", {}, "Routes"));
  const body = h("div", {});
  const editor = h("div", {});
  section.append(body, editor);
  let items = [];
  const newForm = () => routeForm(null, ctx, (saved) => { editor.replaceChildren(newForm()); if (saved) load(); });
  function draw() {
    const channel = new Map(state.channels.map((c) => [c.id, c.name]));
    const rows = items.map((r) => h("tr", { "data-route": r.id },
      h("td", {}, r.name), h("td", { class: r.enabled ? "on" : "off" }, r.enabled ? "enabled" : "disabled"),
      h("td", {}, [`≥ ${r.min_severity}`, r.rule_ids.length ? `rules ${r.rule_ids.map((id) => ruleName.get(id) ?? id).join(", ")}` : "any rule",
        r.camera_ids.length ? `cameras ${r.camera_ids.map((id) => cameraName.get(id) ?? id).join(", ")}` : "any camera"].join(" · ")),
      h("td", {}, `${span(r.schedule)}${r.quiet_hours ? ` · quiet ${span(r.quiet_hours)} (only ${r.quiet_min_severity})` : ""}${r.timezone ? ` · ${r.timezone}` : ""}`),
      h("td", {}, r.targets.map((t) => `L${t.level}: ${channel.get(t.channel_id) ?? t.channel_id}${t.to.length ? ` → ${t.to.join(", ")}` : ""}`).join("; ")),
      h("td", { class: "actions" },
        h("button", { type: "button", onclick: () => {
          editor.replaceChildren(routeForm(r, ctx, (saved) => { editor.replaceChildren(newForm()); if (saved) load(); }));
          editor.scrollIntoView({ block: "start" });
        } }, "Edit"),
        h("button", { type: "button", onclick: async () => {
          if (!window.confirm(`Delete route ${r.name}?`)) return;
          try { await del(`/routes/${r.id}`); toast(`Route ${r.name} deleted`); load(); } catch (err) { toast(err.message); }
        } }, "Delete"))));
    body.replaceChildren(items.length
      ? table("Routes", ["Name", "State", "Matches", "When", "Targets", "Actions"], rows)
      : h("p", { class: "muted" }, state.channels.length ? "No routes yet: alerts reach nobody outside the dashboard." : "Create a channel first."));
  }
  async function load() { items = (await get("/routes?limit=1000")).items; draw(); }
  /** Channels changed: names in the table, and the choices of a new route's targets. */
  function redraw() {
    draw();
    if (editor.firstChild?.getAttribute("aria-label") === "New route") editor.replaceChildren(newForm());
  }
  editor.append(newForm());
  return { node: section, load, redraw };
}

export function groupsSection() {
  const status = statusLine();
  const rows = h("div", { class: "recipient-groups" });
  const addRow = (name = "", addresses = []) => {
    const row = h("div", { class: "form-grid group-row" },
      field("Group name", h("input", { name: "g_name", value: name, pattern: "[A-Za-z0-9_.\\-]+" })),
      field("Addresses (comma separated)", h("input", { name: "g_to", value: addresses.join(", ") })),
      h("button", { type: "button", onclick: () => row.remove() }, "Remove group"));
    rows.append(row);
  };
  const form = h("form", { class: "card", "aria-label": "Recipient groups" }, h("h2", {}, "Recipient groups"),
    h("p", { class: "legend" }, "A route target reaches a group by its name: group:night-shift."),
    rows, status.node, h("div", { class: "actions" }, h("button", { type: "button", onclick: () => addRow() }, "Add group"),
      h("button", { type: "submit", class: "primary" }, "Save groups")));
  onSubmit(form, status, async () => {
    const groups = {};
    for (const row of rows.children) {
      const name = row.querySelector("[name=g_name]").value.trim();
      if (name) groups[name] = words(row.querySelector("[name=g_to]").value);
    }
    await put("/recipient-groups", { groups });
    status.ok(`Saved ${Object.keys(groups).length} group(s).`);
  });
  async function load() {
    const doc = await get("/recipient-groups");
    rows.replaceChildren();
    for (const [name, addresses] of Object.entries(doc.groups ?? {})) addRow(name, addresses);
    if (!rows.children.length) addRow();
  }
  return { node: form, load };
}

export function logSection(state) {
  const filterState = h("select", { name: "log_state" }, ["", "pending", "delivered", "dead"].map((s) => h("option", { value: s }, s || "All")));
  const filterChannel = h("select", { name: "log_channel" });
  const body = h("tbody", {});
  const shown = h("p", { class: "muted", role: "status" });
  const more = h("button", { type: "button", hidden: true }, "Load more");
  let cursor = null;
  let loaded = LOG_PAGE;
  let timer = null;
  let latest = 0;
  const channelName = (id) => state.channels.find((c) => c.id === id)?.name ?? id;
  const row = (n) => h("tr", { "data-notification": n.id, "data-state": n.state },
    h("td", {}, when(n.created_at)), h("td", {}, channelName(n.channel_id)), h("td", {}, n.kind),
    h("td", {}, n.alert_id ? h("code", {}, n.alert_id) : "—"), h("td", {}, String(n.level ?? 0)),
    h("td", {}, h("span", { class: "delivery-state", "data-state": n.state }, n.state)), h("td", {}, String(n.attempts)),
    h("td", {}, n.state === "pending" && n.next_attempt_at ? `next try ${when(n.next_attempt_at)}${n.last_error ? ` · ${n.last_error}` : ""}` : n.last_error ?? (n.delivered_at ? `delivered ${when(n.delivered_at)}` : "")),
    h("td", {}, n.state === "dead" ? h("button", { type: "button", onclick: async () => {
      try { await post(`/notifications/${n.id}/retry`); toast("Queued again"); load(); } catch (err) { toast(`Retry: ${err.message}`); }
    } }, "Retry") : ""));
  async function load(append = false) {
    const mine = ++latest;
    const q = new URLSearchParams({ limit: String(append ? LOG_PAGE : loaded) });
    if (append && cursor) q.set("cursor", cursor);
    if (filterState.value) q.set("state", filterState.value);
    if (filterChannel.value) q.set("channel_id", filterChannel.value);
    const page = await get(`/notifications?${q}`);
    if (mine !== latest) return;
    const rows = page.items.map(row);
    if (append) body.append(...rows); else body.replaceChildren(...rows);
    cursor = page.next_cursor ?? null;
    loaded = Math.max(LOG_PAGE, body.children.length);
    more.hidden = !cursor;
    const count = body.children.length;
    shown.textContent = count ? `Showing ${count} of ${page.total ?? count} notifications` : "No notifications.";
  }
  function redraw() {
    const chosen = filterChannel.value;
    filterChannel.replaceChildren(h("option", { value: "" }, "All"), state.channels.map((c) => h("option", { value: c.id }, c.name)));
    filterChannel.value = chosen;
  }
  redraw();
  const reset = () => { loaded = LOG_PAGE; load().catch((err) => toast(err.message)); };
  [filterState, filterChannel].forEach((s) => s.addEventListener("change", reset));
  more.addEventListener("click", () => load(true).catch((err) => toast(err.message)));
  const tick = async () => {
    try { await load(); } catch { /* shown at the next try */ }
    if (timer !== null) timer = setTimeout(tick, LOG_REFRESH_MS);
  };
  timer = setTimeout(tick, LOG_REFRESH_MS);
  const node = h("section", { class: "card", "aria-label": "Notification log" }, h("h2", {}, "Notification log"),
    h("form", { class: "filters", "aria-label": "Filter notifications", onsubmit: (e) => e.preventDefault() },
      field("Delivery state", filterState), field("Channel", filterChannel)),
    shown,
    table("Notifications", ["Created", "Channel", "Kind", "Alert", "Level", "State", "Attempts", "Detail", "Retry"], []), more);
  node.querySelector("tbody").replaceWith(body);
  return { node, load, redraw, stop() { clearTimeout(timer); timer = null; } };
}
