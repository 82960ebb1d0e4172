// Notifications (admins): channels (email over SMTP, signed webhooks, MQTT) with a test
// send, routes (rules, cameras, severity, schedule and quiet hours, escalation levels to
// recipients), recipient groups, and the notification log with retry of dead letters.
// Secrets (SMTP and MQTT passwords, webhook keys) are write-only: the server answers
// {"set": true} for them, and a blank field keeps the stored one.
import { del, get, patch, post } from "../api.js";
import { field, h, toast, when } from "../dom.js";
import { forgetChannelNames } from "./deliveries.js";
import { check, onSubmit, statusLine, table, words } from "./kit.js";
import { groupsSection, logSection, routesSection } from "./notify_routes.js";

const KINDS = ["email", "webhook", "mqtt"];
/** Fields of each kind's settings: [key, label, type, choices]; "secret" fields are write-only. */
const SETTINGS = {
  email: [["host", "SMTP host", "text"], ["port", "Port", "number", null, 587],
    ["security", "Security", "select", ["starttls", "tls", "none"]], ["username", "Username", "text"],
    ["password", "Password", "secret"], ["sender", "Sender address", "text", null, "argus@localhost"],
    ["to", "Default recipients (comma separated)", "list"], ["snapshot", "Snapshot", "select", ["link", "attach", "none"]],
    ["timeout_s", "Timeout (s)", "number", null, 10]],
  webhook: [["url", "URL", "text"], ["secret", "Signing secret (blank: generated)", "secret"],
    ["format", "Format", "select", ["json", "slack", "teams"]], ["headers", "Extra headers (Name: value per line)", "headers"],
    ["timeout_s", "Timeout (s)", "number", null, 10]],
  mqtt: [["host", "Broker host", "text"], ["port", "Port", "number", null, 1883], ["tls", "TLS", "bool"],
    ["username", "Username", "text"], ["password", "Password", "secret"],
    ["topic", "Topic", "text", null, "argus/notifications"], ["qos", "QoS", "select", ["1", "0", "2"]], ["retain", "Retain", "bool"]],
};

function settingInput([key, label, type, choices, fallback], value) {
  const name = `s_${key}`;
  if (type === "select") {
    const select = h("select", { name }, choices.map((c) => h("option", { value: c }, c)));
    if (value !== undefined && value !== null) select.value = String(value);
    return field(label, select);
  }
  if (type === "bool") return check(label, h("input", { type: "checkbox", name, checked: Boolean(value) }));
  if (type === "headers") {
    const text = Object.entries(value ?? {}).map(([k, v]) => `${k}: ${v}`).join("\n");
    return field(label, h("textarea", { name, rows: "2" }, text));
  }
  if (type === "secret") {
    const stored = value && typeof value === "object" && value.set;
    return field(label, h("input", { name, type: "password", autocomplete: "new-password",
      placeholder: stored ? "stored: leave blank to keep" : "" }));
  }
  const shown = type === "list" ? (value ?? []).join(", ") : value ?? fallback ?? "";
  return field(label, h("input", { name, type: type === "number" ? "number" : "text", value: String(shown),
    step: type === "number" ? "any" : null, required: key === "host" || key === "url" }));
}

/** The settings object the form describes (secrets only when typed). */
function settingsOf(form, kind) {
  const out = {};
  for (const [key, , type] of SETTINGS[kind]) {
    const input = form.elements[`s_${key}`];
    if (type === "bool") out[key] = input.checked;
    else if (type === "secret") { if (input.value) out[key] = input.value; }
    else if (type === "number") out[key] = Number(input.value);
    else if (type === "list") out[key] = words(input.value);
    else if (type === "headers") {
      out[key] = Object.fromEntries(input.value.split("\n").map((l) => l.trim()).filter(Boolean).map((line) => {
        const at = line.indexOf(":");
        if (at < 1) throw new Error(`header line without "Name: value": ${line}`);
        return [line.slice(0, at).trim(), line.slice(at + 1).trim()];
      }));
    } else if (key === "qos") out[key] = Number(input.value);
    else out[key] = input.value.trim() === "" && ["username"].includes(key) ? null : input.value.trim();
  }
  return out;
}

function channelForm(channel, done) {
  const editing = Boolean(channel);
  const status = statusLine();
  const kind = h("select", { name: "kind", disabled: editing }, KINDS.map((k) => h("option", { value: k }, k)));
  if (editing) kind.value = channel.kind;
  const fields = h("div", { class: "form-grid" });
  const draw = () => fields.replaceChildren(...SETTINGS[kind.value].map((s) => settingInput(s, channel?.settings?.[s[0]])));
  kind.addEventListener("change", draw);
  draw();
  const form = h("form", { class: "channel-form", "aria-label": editing ? `Edit channel ${channel.name}` : "New channel" },
    h("h3", {}, editing ? `Edit ${channel.name}` : "New channel"),
    h("div", { class: "form-grid" },
      field("Name", h("input", { name: "name", required: true, maxlength: "100", value: channel?.name ?? "" })),
      field("Kind", kind),
      field("Rate limit (per minute)", h("input", { name: "rate_per_minute", type: "number", min: "1", max: "10000", value: String(channel?.rate_per_minute ?? 30) })),
      check("Enabled", h("input", { type: "checkbox", name: "enabled", checked: channel ? channel.enabled : true }))),
    fields,
    h("details", {}, h("summary", {}, "Templates (blank: the built-in one)"),
      field("Subject template", h("input", { name: "t_subject", value: channel?.templates?.subject ?? "" })),
      field("Body template", h("textarea", { name: "t_body", rows: "4" }, channel?.templates?.body ?? ""))),
    status.node,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, editing ? "Save channel" : "Create channel"),
      editing ? h("button", { type: "button", onclick: () => done(false) }, "Cancel") : ""));
  onSubmit(form, status, async () => {
    const body = {
      name: form.elements.name.value.trim(), enabled: form.elements.enabled.checked,
      rate_per_minute: Number(form.elements.rate_per_minute.value),
      templates: { subject: form.elements.t_subject.value, body: form.elements.t_body.value },
      settings: settingsOf(form, kind.value),
    };
    const saved = editing ? await patch(`/channels/${channel.id}`, body) : await post("/channels", { ...body, kind: kind.value });
    forgetChannelNames();
    toast(editing ? "Channel saved" : "Channel created");
    done(true, saved);
  });
  return form;
}

const destination = (c) => ({
  email: () => `${c.settings.host}:${c.settings.port} (${c.settings.security}) → ${(c.settings.to ?? []).join(", ") || "route recipients"}`,
  webhook: () => `${c.settings.format} ${c.settings.url}`,
  mqtt: () => `${c.settings.host}:${c.settings.port} ${c.settings.topic}`,
}[c.kind]?.() ?? "");

function channelsSection(state) {
  const section = h("section", { class: "card", "aria-label": "Channels" }, h("h2", {}, "Channels"));
  const body = h("div", {});
  const editor = h("div", {});
  const secret = h("div", { class: "secret-once", role: "status" });
  section.append(body, secret, editor);
  /** A webhook secret Argus generated is in the create answer only: shown here, once. */
  const created = (channel) => {
    secret.replaceChildren(...(channel?.generated_secret ? [h("p", { class: "note" },
      `Signing secret of ${channel.name} (shown this once; give it to the receiver): `,
      h("code", {}, channel.generated_secret))] : []));
  };
  async function load() {
    const items = (await get("/channels?limit=1000")).items;
    state.channels = items;
    const rows = items.map((c) => {
      const act = (label, call) => h("button", { type: "button", onclick: async () => {
        try { await call(); } catch (err) { toast(`${label}: ${err.message}`); }
      } }, label);
      return h("tr", { "data-channel": c.id },
        h("td", {}, c.name), h("td", {}, c.kind), h("td", { class: c.enabled ? "on" : "off" }, c.enabled ? "enabled" : "disabled"),
        h("td", {}, String(c.rate_per_minute)), h("td", {}, destination(c)), h("td", {}, when(c.updated_at)),
        h("td", { class: "actions" },
          act("Edit", () => {
            editor.replaceChildren(channelForm(c, (saved) => { editor.replaceChildren(newForm()); if (saved) reload(); }));
            editor.scrollIntoView({ block: "start" });
          }),
          act("Send test", async () => { await post(`/channels/${c.id}/test`); toast(`Test queued for ${c.name}: see the notification log`); state.refreshLog?.(); }),
          act("Delete", async () => {
            if (!window.confirm(`Delete channel ${c.name}? Routes that name it stop reaching it.`)) return;
            await del(`/channels/${c.id}`);
            toast(`Channel ${c.name} deleted`);
            reload();
          })));
    });
    body.replaceChildren(items.length
      ? table("Channels", ["Name", "Kind", "State", "Per minute", "Destination", "Updated", "Actions"], rows)
      : h("p", { class: "muted" }, "No channels yet: add one below."));
  }
  const newForm = () => channelForm(null, (saved, channel) => {
    if (saved) { created(channel); editor.replaceChildren(newForm()); reload(); }
  });
  const reload = () => { load().then(() => state.channelsChanged?.()).catch((err) => toast(err.message)); };
  editor.append(newForm());
  return { node: section, load };
}

export async function notifyView() {
  const state = { channels: [] };
  const channels = channelsSection(state);
  await channels.load();
  const [rules, cameras] = await Promise.all([get("/rules?limit=1000"), get("/cameras?limit=1000")]);
  const routes = routesSection(state, rules.items, cameras.items);
  const groups = groupsSection();
  const log = logSection(state);
  state.channelsChanged = () => { routes.redraw(); log.redraw(); };
  state.refreshLog = () => log.load();
  await Promise.all([routes.load(), groups.load(), log.load()]);
  const node = h("div", { class: "config notify" }, h("h1", {}, "Notifications"),
    channels.node, routes.node, groups.node, log.node);
  return { node, cleanup: () => log.stop() };
}
