// Configuration: cameras (with a connection test), lines and zones drawn on the
// snapshot, rules, and users (admin only). Viewers and operators see it read-only.
import { blobUrl, del, get, patch, post } from "../api.js";
import { field, h, toast } from "../dom.js";

function cameraForm(me, camera, done) {
  const input = (name, value, extra = {}) => h("input", { name, value: value ?? "", disabled: !me.can("configure"), ...extra });
  const form = h("form", { class: "card", "aria-label": camera ? `Edit camera ${camera.name}` : "Add a camera" },
    h("h3", {}, camera ? `Edit ${camera.name}` : "Add a camera"),
    field("Name", input("name", camera?.name, { required: true })),
    field("Stream URL", input("stream_url", camera?.stream_url, { required: true })),
    field("Location", input("location", camera?.location)),
    field("Detection fps", input("detect_fps", camera?.detect_fps ?? 5, { type: "number", min: "0.1", step: "0.1" })),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", disabled: !me.can("configure") }, "Save")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: form.name.value, stream_url: form.stream_url.value,
      location: form.location.value, detect_fps: Number(form.detect_fps.value) };
    try {
      if (camera) await patch(`/cameras/${camera.id}`, body); else await post("/cameras", body);
      toast("Camera saved");
      done();
    } catch (err) { toast(err.message); }
  });
  return form;
}

/** Click points on the snapshot: two for a line (start → end sets the direction), three or more for a zone. */
function editor(me, camera, lines, zones, done) {
  const img = h("img", { alt: `Snapshot of ${camera.name}` });
  const canvas = h("canvas", { "aria-label": "Drawing area: click to add points", role: "img" });
  const points = [];
  const mode = h("select", { name: "shape" }, h("option", { value: "zone" }, "Zone (polygon)"), h("option", { value: "line" }, "Line (start → end)"));
  const name = h("input", { name: "shape_name", required: true });
  const status = h("p", { role: "status" }, "Click on the image to add points.");
  function draw() {
    if (!img.naturalWidth) return;
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const g = canvas.getContext("2d");
    g.lineWidth = Math.max(2, canvas.width / 400);
    g.strokeStyle = "#f5a524";
    for (const z of zones) { g.beginPath(); z.polygon.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y))); g.closePath(); g.stroke(); }
    g.strokeStyle = "#3d8bfd";
    for (const l of lines) { g.beginPath(); g.moveTo(...l.start); g.lineTo(...l.end); g.stroke(); }
    g.strokeStyle = "#ff4df0";
    g.fillStyle = "#ff4df0";
    g.beginPath();
    points.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y)));
    if (mode.value === "zone" && points.length > 2) g.closePath();
    g.stroke();
    points.forEach(([x, y]) => g.fillRect(x - 4, y - 4, 8, 8));
  }
  img.addEventListener("load", draw);
  blobUrl(`/cameras/${camera.id}/snapshot`).then((url) => { img.src = url; }).catch(() => { status.textContent = "No snapshot yet."; });
  canvas.addEventListener("click", (event) => {
    if (!me.can("configure")) return;
    const box = canvas.getBoundingClientRect();
    const x = Math.round(((event.clientX - box.left) / box.width) * canvas.width);
    const y = Math.round(((event.clientY - box.top) / box.height) * canvas.height);
    if (mode.value === "line" && points.length === 2) points.length = 0;
    points.push([x, y]);
    status.textContent = `${points.length} point(s)`;
    draw();
  });
  mode.addEventListener("change", () => { points.length = 0; draw(); });
  const save = h("button", { type: "submit", class: "primary", disabled: !me.can("configure") }, "Save shape");
  const clear = h("button", { type: "button", onclick: () => { points.length = 0; draw(); } }, "Clear");
  const form = h("form", { "aria-label": "Draw a line or zone" },
    h("div", { class: "editor" }, img, canvas), status,
    h("div", { class: "filters" }, field("Shape", mode), field("Shape name", name), save, clear));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      if (mode.value === "zone") {
        if (points.length < 3) throw new Error("A zone needs at least three points.");
        await post(`/cameras/${camera.id}/zones`, { name: name.value, polygon: points });
      } else {
        if (points.length !== 2) throw new Error("A line needs two points.");
        await post(`/cameras/${camera.id}/lines`, { name: name.value, start: points[0], end: points[1] });
      }
      toast(`${mode.value} ${name.value} saved`);
      done();
    } catch (err) { toast(err.message); }
  });
  return form;
}

async function cameraSection(me, camera, reload) {
  const [lines, zones] = await Promise.all([get(`/cameras/${camera.id}/lines`), get(`/cameras/${camera.id}/zones`)]);
  const result = h("span", { role: "status" });
  const test = h("button", { type: "button", onclick: async () => {
    result.textContent = "testing…";
    try {
      const status = await get(`/cameras/${camera.id}/status`);
      await blobUrl(`/cameras/${camera.id}/snapshot`);
      result.textContent = `${status.state}, ${status.fps_in.toFixed(1)} fps in — snapshot OK`;
    } catch (err) { result.textContent = `failed: ${err.message}`; }
  } }, "Test connection");
  const remove = (deleteIt) => h("button", { type: "button", disabled: !me.can("configure"),
    onclick: async () => { await deleteIt(); reload(); } }, "Remove");
  return h("section", { class: "card", "aria-label": `Camera ${camera.name}` },
    h("h2", {}, camera.name), h("div", { class: "actions" }, test, result),
    cameraForm(me, camera, reload),
    h("h3", {}, "Lines"),
    h("ul", { "aria-label": "Lines" }, lines.items.map((l) => h("li", {},
      `${l.name}: (${l.start}) → (${l.end}) · ${l.in_label}/${l.out_label} `, remove(() => del(`/cameras/${camera.id}/lines/${l.id}`))))),
    h("h3", {}, "Zones"),
    h("ul", { "aria-label": "Zones" }, zones.items.map((z) => h("li", {},
      `${z.name}: ${z.polygon.length} points `, remove(() => del(`/cameras/${camera.id}/zones/${z.id}`))))),
    editor(me, camera, lines.items, zones.items, reload));
}

function rulesSection(me, rules, reload) {
  return h("section", { class: "card", "aria-label": "Rules" }, h("h2", {}, "Rules"),
    h("ul", {}, rules.map((rule) => {
      const text = h("textarea", { rows: "3", cols: "60", "aria-label": `Rule ${rule.name} as JSON`, disabled: !me.can("configure") },
        JSON.stringify({ name: rule.name, enabled: rule.enabled, cooldown_seconds: rule.cooldown_seconds }));
      return h("li", {}, h("strong", {}, rule.name), ` (${rule.event_types.join(", ")})`, h("br"), text,
        h("button", { type: "button", disabled: !me.can("configure"), onclick: async () => {
          try { await patch(`/rules/${rule.id}`, JSON.parse(text.value)); toast("Rule saved"); reload(); } catch (err) { toast(err.message); }
        } }, "Save rule"));
    })));
}

async function usersSection() {
  const users = (await get("/users")).items;
  const name = h("input", { name: "username", required: true });
  const password = h("input", { name: "password", type: "password", required: true, minlength: "12" });
  const role = h("select", { name: "role" }, ["viewer", "operator", "admin"].map((r) => h("option", { value: r }, r)));
  const form = h("form", { class: "filters", "aria-label": "Add a user" }, field("Username", name),
    field("Password", password), field("Role", role), h("button", { type: "submit" }, "Add user"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try { await post("/users", { username: name.value, password: password.value, role: role.value }); toast("User added"); }
    catch (err) { toast(err.message); }
  });
  return h("section", { class: "card", "aria-label": "Users" }, h("h2", {}, "Users and roles"),
    h("table", {}, h("thead", {}, h("tr", {}, ["User", "Role", "Cameras", "MFA"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, users.map((u) => h("tr", {}, h("td", {}, u.username), h("td", {}, u.role),
        h("td", {}, u.cameras ? u.cameras.join(", ") : "all"), h("td", {}, u.mfa_enabled ? "on" : "off"))))), form);
}

export async function configView(me) {
  const node = h("div", {}, h("h1", {}, "Configuration"));
  const reload = async () => { node.replaceChildren(...(await configView(me)).node.childNodes); };
  const cameras = (await get("/cameras")).items;
  for (const camera of cameras) node.append(await cameraSection(me, camera, reload));
  if (me.can("configure")) node.append(cameraForm(me, null, reload));
  node.append(rulesSection(me, (await get("/rules")).items, reload));
  if (me.can("admin")) node.append(await usersSection());
  return { node };
}
