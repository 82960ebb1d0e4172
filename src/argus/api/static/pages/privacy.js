// Privacy requests (admins): erase everything about a face subject, export what is held about
// one as an encrypted bundle, erase the events, evidence and recordings of a camera over a range,
// and the log of past requests. Erasure keeps what a legal hold protects, and says why.
import { get, post, postRaw } from "../api.js";
import { field, h, toast, when } from "../dom.js";
import { check, isoOf, localOf, onSubmit, statusLine, table } from "./kit.js";
import { download } from "./admin_kit.js";

const MIN_PASSPHRASE = 12;

/** A result object as lines: counts ("events: 12"), lists of kept things with their reason. */
function outcome(result) {
  const counts = [];
  const kept = [];
  const walk = (obj, prefix = "") => {
    for (const [key, value] of Object.entries(obj ?? {})) {
      if (typeof value === "number") counts.push(`${prefix}${key}: ${value}`);
      else if (Array.isArray(value) && key.startsWith("kept")) kept.push(...value);
      else if (value && typeof value === "object" && !Array.isArray(value)) walk(value, `${prefix}${key} `);
    }
  };
  walk(result);
  return h("div", { class: "privacy-result", role: "status" },
    h("p", {}, counts.length ? counts.join(" · ") : "Done."),
    kept.length ? h("div", {}, h("p", {}, "Kept:"), h("ul", { class: "kept" }, kept.map((k) => h("li", {},
      typeof k === "string" ? k : `${k.kind ?? "item"} ${k.id ?? ""}: ${k.reason ?? ""}`)))) : "");
}


function fromBase64(text) {
  const raw = atob(text);
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

function subjectSection(subjects, reload) {
  const choose = h("select", { name: "subject" }, subjects.map((s) => h("option", { value: s.id }, `${s.name} (${s.embeddings ?? 0} descriptors)`)),
    h("option", { value: "" }, "Another id…"));
  const other = h("input", { name: "subject_id", placeholder: "subject id" });
  const otherField = field("Subject id", other);
  const sync = () => { otherField.hidden = choose.value !== ""; };
  choose.addEventListener("change", sync);
  sync();
  const subjectId = () => {
    const id = choose.value || other.value.trim();
    if (!id) throw new Error("Choose a subject.");
    return id;
  };
  const eraseStatus = statusLine();
  const eraseResult = h("div", {});
  const erase = h("form", { class: "erase-subject", "aria-label": "Erase a subject" }, h("h3", {}, "Erase"),
    h("p", { class: "legend" }, "Descriptors, enrolment photos, decisions and evidence frames of the person are erased, "
      + "except evidence under legal hold (listed with its reason)."),
    field("Erasure reason", h("input", { name: "reason", required: true, maxlength: "500" })),
    check("I understand this cannot be undone", h("input", { type: "checkbox", name: "sure", required: true })),
    eraseStatus.node, h("button", { type: "submit", class: "primary danger" }, "Erase subject"), eraseResult);
  onSubmit(erase, eraseStatus, async () => {
    const id = subjectId();
    const result = await post(`/privacy/subjects/${encodeURIComponent(id)}/erase`, { reason: erase.elements.reason.value.trim() });
    eraseResult.replaceChildren(outcome(result));
    eraseStatus.ok(`Subject ${id} erased.`);
    for (const option of choose.options) if (option.value === id) option.remove();
    sync();
    erase.reset();
    reload();
  });
  const exportStatus = statusLine();
  const pass = h("input", { name: "passphrase", type: "password", autocomplete: "new-password", required: true, minlength: String(MIN_PASSPHRASE) });
  const again = h("input", { name: "passphrase_again", type: "password", autocomplete: "new-password", required: true });
  const exporter = h("form", { class: "export-subject", "aria-label": "Export a subject" }, h("h3", {}, "Export"),
    h("p", { class: "legend" }, "Everything held about the subject, as a zip encrypted with this passphrase (AES-GCM)."),
    field(`Bundle passphrase (${MIN_PASSPHRASE} characters or more)`, pass), field("Passphrase again", again),
    field("Export reason (optional)", h("input", { name: "export_reason", maxlength: "1000" })),
    exportStatus.node, h("button", { type: "submit", class: "primary" }, "Export subject"));
  onSubmit(exporter, exportStatus, async () => {
    if (pass.value !== again.value) throw new Error("The passphrases differ.");
    const id = subjectId();
    const res = await postRaw(`/privacy/subjects/${encodeURIComponent(id)}/export`, { passphrase: pass.value,
      reason: exporter.elements.export_reason.value.trim() });
    const name = `argus-subject-${id}.bundle`;
    if ((res.headers.get("content-type") ?? "").includes("json")) {
      const body = await res.json();
      const data = body.bundle ?? body.data ?? body.content;
      download(new Blob([fromBase64(data)], { type: "application/octet-stream" }), body.filename ?? name);
    } else {
      const given = /filename="?([^";]+)"?/.exec(res.headers.get("content-disposition") ?? "")?.[1];
      download(await res.blob(), given ?? name);
    }
    exportStatus.ok(`Bundle of ${id} saved.`);
    exporter.reset();
    reload();
  });
  return h("section", { class: "card subject", "aria-label": "Face subject" }, h("h2", {}, "A person (face subject)"),
    h("div", { class: "form-grid" }, field("Subject", choose), otherField), erase, exporter);
}

function rangeSection(cameras, reload) {
  const status = statusLine();
  const result = h("div", {});
  const camera = h("select", { name: "camera" }, cameras.map((c) => h("option", { value: c.id }, c.name)));
  const form = h("form", { class: "card erase-range", "aria-label": "Erase a camera's range" },
    h("h2", {}, "A camera over a time range"),
    h("p", { class: "legend" }, "Erases the camera's events, evidence and recordings in the range (recordings across its edges are cut at keyframes, so a few seconds beyond it may go too); what a legal hold protects is kept."),
    h("div", { class: "form-grid" }, field("Camera", camera),
      field("Since", h("input", { name: "since", type: "datetime-local", required: true, value: localOf(new Date(Date.now() - 3600_000).toISOString()) })),
      field("Until", h("input", { name: "until", type: "datetime-local", required: true, value: localOf(null) })),
      field("Range erasure reason", h("input", { name: "reason", required: true, maxlength: "500" }))),
    check("I understand this cannot be undone", h("input", { type: "checkbox", name: "sure", required: true })),
    status.node, h("button", { type: "submit", class: "primary danger" }, "Erase range"), result);
  onSubmit(form, status, async () => {
    const el = form.elements;
    const answer = await post("/privacy/erasures", { camera_id: camera.value, since: isoOf(el.since.value),
      until: isoOf(el.until.value), reason: el.reason.value.trim() });
    result.replaceChildren(outcome(answer));
    status.ok("Range erased.");
    el.sure.checked = false;
    reload();
  });
  return form;
}

function requestLog() {
  const body = h("div", {});
  async function load() {
    const items = (await get("/privacy/requests?limit=100")).items ?? [];
    // Each request is its audit record: action, target, actor, and details (reason, counts).
    body.replaceChildren(items.length ? table("Privacy requests", ["When", "Request", "About", "By", "Reason", "Result"],
      items.map((r) => {
        const d = r.details ?? {};
        const counts = Object.entries(d.erased ?? d.counts ?? {}).filter(([, v]) => typeof v === "number").map(([k, v]) => `${k} ${v}`);
        const range = d.since ? ` ${when(d.since)} – ${d.until ? when(d.until) : ""}` : "";
        return h("tr", { "data-request": String(r.seq), "data-action": r.action }, h("td", {}, when(r.at)),
          h("td", {}, (r.action ?? "").replace("privacy.", "").replaceAll("_", " ")),
          h("td", {}, `${r.target ?? ""}${range}`), h("td", {}, r.actor ?? ""), h("td", {}, d.reason ?? ""),
          h("td", {}, counts.join(", ")));
      }))
      : h("p", { class: "muted" }, "No privacy requests yet."));
  }
  return { node: h("section", { class: "card", "aria-label": "Request log" }, h("h2", {}, "Request log"), body), load };
}

export async function privacyView() {
  const [subjects, cameras] = await Promise.all([
    get("/workstations/subjects?limit=1000").catch(() => ({ items: [] })), get("/cameras?limit=1000")]);
  const log = requestLog();
  const reload = () => log.load().catch((err) => toast(err.message));
  await log.load();
  return { node: h("div", { class: "config privacy" }, h("h1", {}, "Privacy requests"),
    subjectSection(subjects.items, reload), rangeSection(cameras.items, reload), log.node) };
}
