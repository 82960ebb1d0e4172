// Configuration: cameras (with a connection test), lines and zones drawn and edited on the
// snapshot (pages/scene_edit.js), rules (pages/rules.js), and users (admin only). Viewers and
// operators see it read-only; camera-scoped users get only their cameras from the API.
import { blobUrl, del, get, patch, post } from "../api.js";
import { field, h, toast } from "../dom.js";
import { explain, rulesSection } from "./rules.js";
import { pointText, sceneEditor } from "./scene_edit.js";


function check(label, input) {
  return h("label", { class: "check" }, input, label);
}

/** Tick boxes for a camera scope: "All cameras" (null) or a list of camera ids. */
function scopePicker(cameras, selected, name, locked = false) {
  const all = h("input", { type: "checkbox", checked: selected === null || selected === undefined, disabled: locked });
  const boxes = cameras.map((c) => h("input", { type: "checkbox", value: c.id,
    checked: Array.isArray(selected) && selected.includes(c.id), disabled: locked }));
  const sync = () => { for (const b of boxes) b.disabled = locked || all.checked; };
  all.addEventListener("change", sync);
  sync();
  const node = h("fieldset", { class: "scope" }, h("legend", {}, name),
    check("All cameras", all), cameras.map((c, i) => check(c.name, boxes[i])));
  return {
    node,
    value() {
      if (all.checked) return null;
      const ids = boxes.filter((b) => b.checked).map((b) => b.value);
      if (!ids.length) throw new Error("Choose at least one camera, or All cameras.");
      return ids;
    },
  };
}

// --- cameras ------------------------------------------------------------------------------

function credentialsOf(form) {
  const username = form.cam_username.value;
  const password = form.cam_password.value;
  return username || password ? { username, password } : undefined;
}

function cameraForm(me, camera, done) {
  const locked = !me.can("configure");
  const input = (name, value, extra = {}) => h("input", { name, value: value ?? "", disabled: locked, ...extra });
  const probeResult = h("p", { role: "status", class: "probe-result" });
  const probeImage = h("img", { alt: "Test snapshot", class: "probe", hidden: true });
  const forgetLogin = camera?.has_credentials
    ? check("Remove the stored login", h("input", { type: "checkbox", name: "forget_login", disabled: locked })) : null;
  const form = h("form", { class: camera ? "camera-form" : "card camera-form", "aria-label": camera ? `Edit camera ${camera.name}` : "Add a camera" },
    h("h3", {}, camera ? "Settings" : "Add a camera"),
    h("div", { class: "form-grid" },
      field("Name", input("name", camera?.name, { required: true, maxlength: "200" })),
      field("Stream URL", input("stream_url", camera?.stream_url, { required: true, maxlength: "2048",
        placeholder: "rtsp://10.0.0.5:554/stream1" })),
      field("Sub-stream for detection (optional)", input("detect_stream_url", camera?.detect_stream_url, { maxlength: "2048",
        placeholder: "rtsp://10.0.0.5:554/stream2",
        title: "A low-resolution stream of the same camera: detection runs on it, evidence and recording use the stream URL" })),
      field("Location", input("location", camera?.location, { maxlength: "200" })),
      field("Detection fps", input("detect_fps", camera?.detect_fps ?? 5, { type: "number", min: "0.1", max: "120", step: "0.1" })),
      field("Stream username", input("cam_username", "", { autocomplete: "off" })),
      field("Stream password", input("cam_password", "", { type: "password", autocomplete: "new-password",
        placeholder: camera?.has_credentials ? "stored: empty keeps it" : "" })),
      check("Run its pipeline", h("input", { type: "checkbox", name: "enabled", checked: camera?.enabled ?? true, disabled: locked })),
      forgetLogin),
    h("p", { class: "legend" }, "The stream login is stored encrypted and never shown again."),
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "primary", disabled: locked }, camera ? "Save camera" : "Add camera"),
      camera ? null : h("button", { type: "button", disabled: locked, onclick: () => probe() }, "Test connection"),
      camera ? h("button", { type: "button", class: "danger", disabled: locked, onclick: async () => {
        if (!confirm(`Remove camera ${camera.name} with its lines and zones?`)) return;
        try { await del(`/cameras/${camera.id}`); toast(`Camera ${camera.name} removed`); done(); } catch (err) { toast(explain(err)); }
      } }, "Remove camera") : null),
    camera ? null : probeResult, camera ? null : probeImage);

  async function probe() {
    if (!form.stream_url.value) { probeResult.textContent = "Enter a stream URL first."; return; }
    probeResult.textContent = "Testing…";
    probeImage.hidden = true;
    const body = { stream_url: form.stream_url.value, timeout_s: 10 };
    const credentials = credentialsOf(form);
    if (credentials) body.credentials = credentials;
    try {
      const answer = await post("/cameras/probe", body);
      if (answer.ok) {
        const size = answer.width ? `${answer.width}×${answer.height} ` : "";
        probeResult.textContent = `OK ${size}in ${answer.elapsed_s.toFixed(1)} s`;
        if (answer.snapshot_jpeg_base64) {
          probeImage.src = `data:image/jpeg;base64,${answer.snapshot_jpeg_base64}`;
          probeImage.hidden = false;
        }
      } else {
        probeResult.textContent = `Failed: ${answer.error ?? "no frame"}`;
      }
    } catch (err) { probeResult.textContent = `Failed: ${explain(err)}`; }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: form.name.value, stream_url: form.stream_url.value, location: form.location.value,
      detect_fps: Number(form.detect_fps.value), enabled: form.enabled.checked,
      detect_stream_url: form.detect_stream_url.value.trim() || null };
    const credentials = credentialsOf(form);
    if (credentials) body.credentials = credentials;
    else if (form.forget_login?.checked) body.credentials = null;
    try {
      if (camera) await patch(`/cameras/${camera.id}`, body); else await post("/cameras", body);
      toast(`Camera ${body.name} saved`);
      done();
    } catch (err) { toast(explain(err)); }
  });
  return form;
}

function cameraSection(me, camera, scene, reload, urls) {
  const lines = { items: scene.lines };
  const zones = { items: scene.zones };
  const board = sceneEditor(me, camera, lines.items, zones.items, reload, urls);
  const edit = (kind, item) => h("button", { type: "button", disabled: !me.can("configure"),
    "aria-label": `Edit ${kind} ${item.name}`, onclick: () => board.edit(kind, item.id) }, "Edit");
  const result = h("span", { role: "status" });
  const shot = h("img", { alt: `Snapshot from the connection test of ${camera.name}`, class: "probe", hidden: true });
  const test = h("button", { type: "button", onclick: async () => {
    result.textContent = "Testing…";
    shot.hidden = true;
    let state = "";
    try {
      const status = await get(`/cameras/${camera.id}/status`);
      const error = status.last_error ? ` (${status.last_error})` : "";
      state = `${status.state}, ${status.fps_in.toFixed(1)} fps in${error}`;
      const url = await blobUrl(`/cameras/${camera.id}/snapshot`);
      urls.push(url);
      shot.src = url;
      shot.hidden = false;
      result.textContent = `${state} — snapshot OK`;
    } catch (err) { result.textContent = `${state ? `${state} — ` : ""}Failed: ${explain(err)}`; }
  } }, "Test connection");
  const remove = (what, deleteIt) => h("button", { type: "button", disabled: !me.can("configure"), "aria-label": `Remove ${what}`,
    onclick: async () => {
      if (!confirm(`Remove ${what}?`)) return;
      try { await deleteIt(); toast(`Removed ${what}`); reload(); } catch (err) { toast(explain(err)); }
    } }, "Remove");
  return h("section", { class: "card camera", "aria-label": `Camera ${camera.name}`, "data-camera": camera.id },
    h("h2", {}, camera.name), h("p", { class: "legend" }, `id ${camera.id}${camera.location ? ` · ${camera.location}` : ""}`),
    h("div", { class: "actions" }, test, result), shot,
    cameraForm(me, camera, reload),
    h("h3", {}, "Lines"),
    lines.items.length ? null : h("p", { class: "legend" }, "No lines."),
    h("ul", { "aria-label": "Lines", class: "shapes" }, lines.items.map((l) => h("li", {},
      h("span", {}, h("strong", {}, l.name), ` (${pointText(l.start)}) → (${pointText(l.end)}) · in: ${l.in_label} · out: ${l.out_label}`
        + (l.expected_direction ? ` · expected: ${l.expected_direction}` : "")
        + (l.counting ? ` · ${l.counting}` : "")),
      edit("line", l), remove(`line ${l.name}`, () => del(`/cameras/${camera.id}/lines/${l.id}`))))),
    h("h3", {}, "Zones"),
    zones.items.length ? null : h("p", { class: "legend" }, "No zones."),
    h("ul", { "aria-label": "Zones", class: "shapes" }, zones.items.map((z) => h("li", {},
      h("span", {}, h("strong", {}, z.name), `: ${z.polygon.length} points`
        + (z.loiter_seconds ? ` · loitering after ${z.loiter_seconds} s` : "")
        + (z.crowd_threshold ? ` · crowd at ${z.crowd_threshold}` : "")
        + ` · criticality ${z.criticality}`),
      edit("zone", z), remove(`zone ${z.name}`, () => del(`/cameras/${camera.id}/zones/${z.id}`))))),
    board.form);
}

/** Each camera's lines and zones, by camera id (the rule editor picks names from them). */
async function scenesOf(cameras) {
  const scenes = await Promise.all(cameras.map(async (c) => {
    const [lines, zones] = await Promise.all([get(`/cameras/${c.id}/lines?limit=1000`), get(`/cameras/${c.id}/zones?limit=1000`)]);
    return [c.id, { lines: lines.items, zones: zones.items }];
  }));
  return Object.fromEntries(scenes);
}

// --- users (admin only) -------------------------------------------------------------------

const ROLES = ["viewer", "operator", "admin"];

function userRow(me, u, cameras, reload) {
  const self = u.id === me.user?.id;
  const role = h("select", { "aria-label": `Role of ${u.username}`, disabled: self },
    ROLES.map((r) => h("option", { value: r, selected: r === u.role }, r)));
  const scope = scopePicker(cameras, u.cameras, `Cameras of ${u.username}`);
  const disabled = h("input", { type: "checkbox", checked: u.disabled, disabled: self });
  const act = async (what, call) => {
    try { await call(); toast(`${u.username}: ${what}`); reload(); } catch (err) { toast(explain(err)); }
  };
  const save = h("button", { type: "button", class: "primary", onclick: () => {
    let cams;
    try { cams = scope.value(); } catch (err) { toast(err.message); return; }
    const body = {};
    if (role.value !== u.role) body.role = role.value;
    if (JSON.stringify(cams) !== JSON.stringify(u.cameras)) body.cameras = cams;
    if (disabled.checked !== u.disabled) body.disabled = disabled.checked;
    if (!Object.keys(body).length) { toast("Nothing changed"); return; }
    act("saved", () => patch(`/users/${u.id}`, body));
  } }, "Save");
  const locked = u.locked_until && new Date(u.locked_until) > new Date();
  return h("tr", { "data-user": u.username },
    h("th", { scope: "row", "data-label": "User" }, u.username, self ? " (you)" : ""),
    h("td", { "data-label": "Role" }, role),
    h("td", { "data-label": "Cameras" }, scope.node),
    h("td", { "data-label": "Account" }, check("Disabled", disabled),
      locked ? h("button", { type: "button", onclick: () => act("unlocked", () => post(`/users/${u.id}/unlock`)) }, "Unlock") : null),
    h("td", { "data-label": "MFA" }, u.mfa_enabled ? "on " : "off",
      u.mfa_enabled ? h("button", { type: "button", "aria-label": `Reset MFA of ${u.username}`, onclick: () => {
        if (confirm(`Remove the MFA of ${u.username}? They enrol again at next sign-in.`)) act("MFA reset", () => post(`/users/${u.id}/reset-mfa`));
      } }, "Reset MFA") : null),
    h("td", { "data-label": "Actions" }, h("div", { class: "actions" }, save,
      h("button", { type: "button", class: "danger", disabled: self, "aria-label": `Delete ${u.username}`, onclick: () => {
        if (confirm(`Delete user ${u.username}?`)) act("deleted", () => del(`/users/${u.id}`));
      } }, "Delete"))));
}

async function usersSection(me, cameras, reload) {
  const users = (await get("/users?limit=200")).items;
  const name = h("input", { name: "username", required: true, autocomplete: "off" });
  const password = h("input", { name: "password", type: "password", required: true, minlength: "12", autocomplete: "new-password" });
  const role = h("select", { name: "role" }, ROLES.map((r) => h("option", { value: r }, r)));
  const mustChange = h("input", { type: "checkbox", name: "must_change_password" });
  const scope = scopePicker(cameras, null, "Cameras");
  const form = h("form", { class: "add-user", "aria-label": "Add a user" }, h("h3", {}, "Add a user"),
    h("div", { class: "form-grid" }, field("Username", name), field("Password", password), field("Role", role),
      check("Must change password at next sign-in", mustChange)),
    scope.node, h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Add user")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await post("/users", { username: name.value, password: password.value, role: role.value,
        cameras: scope.value(), must_change_password: mustChange.checked });
      toast(`User ${name.value} added`);
      reload();
    } catch (err) { toast(explain(err)); }
  });
  return h("section", { class: "card", "aria-label": "Users" }, h("h2", {}, "Users and roles"),
    h("p", { class: "legend" }, "Viewers watch; operators also handle alerts and incidents; admins configure. "
      + "A camera scope limits a user to those cameras. Any change ends the user's sessions."),
    h("table", { class: "users", "aria-label": "Users" },
      h("thead", {}, h("tr", {}, ["User", "Role", "Cameras", "Account", "MFA", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, users.map((u) => userRow(me, u, cameras, reload)))),
    form);
}

// --- the page -----------------------------------------------------------------------------

async function build(me, reload, urls) {
  const cameras = (await get("/cameras?limit=200")).items;
  const rules = (await get("/rules?limit=200")).items;
  const parts = [h("h1", {}, "Configuration")];
  if (!me.can("configure")) {
    parts.push(h("p", { class: "note", role: "note" },
      `Read-only: your role (${me.user?.role ?? "unknown"}) can see the configuration but not change it.`));
  }
  if (!cameras.length) parts.push(h("p", { class: "legend" }, "No cameras."));
  const scenes = await scenesOf(cameras);
  parts.push(...cameras.map((c) => cameraSection(me, c, scenes[c.id], reload, urls)));
  if (me.can("configure")) parts.push(cameraForm(me, null, reload));
  parts.push(await rulesSection(me, rules, cameras, scenes, reload));
  if (me.can("admin")) parts.push(await usersSection(me, cameras, reload));
  return parts;
}

export async function configView(me) {
  const node = h("div", { class: "config" });
  let urls = [];
  const revoke = () => { urls.forEach((u) => URL.revokeObjectURL(u)); urls = []; };
  const reload = async () => {
    try {
      const fresh = [];
      const parts = await build(me, reload, fresh);
      revoke();
      urls = fresh;
      node.replaceChildren(...parts);
    } catch (err) { toast(explain(err)); }
  };
  node.replaceChildren(...await build(me, reload, urls));
  return { node, cleanup: revoke };
}
