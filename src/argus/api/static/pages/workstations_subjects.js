// Workstations page, face subjects: add a person, enrol their face from photos (each photo
// keeps a small thumbnail of the face, shown here), delete them (GDPR erasure, confirmed).
import { blobUrl, del, post, postRaw } from "../api.js";
import { field, h, toast, when } from "../dom.js";
import { onSubmit, statusLine } from "./kit.js";

const MAX_PHOTOS = 10;  // routers/workstations.py MAX_PHOTOS
const subjectPath = (id) => `/workstations/subjects/${encodeURIComponent(id)}`;

/** The thumbnails of one subject, loaded as blob URLs (the bearer cannot ride on img src). */
function thumbnails(subject, urls) {
  const strip = h("ul", { class: "ws-faces", "aria-label": `Faces of ${subject.name}` });
  if (!subject.photos?.length) {
    const none = subject.embeddings ? "Enrolled before thumbnails were kept." : "No face enrolled yet.";
    strip.append(h("li", { class: "muted" }, none));
    return strip;
  }
  subject.photos.forEach((photoId, i) => {
    const img = h("img", { alt: `Face ${i + 1} of ${subject.name}`, width: "96", height: "96", "data-photo": photoId });
    strip.append(h("li", {}, img));
    blobUrl(`${subjectPath(subject.id)}/photos/${encodeURIComponent(photoId)}`)
      .then((url) => { urls.push(url); img.src = url; })
      .catch(() => { img.replaceWith(h("span", { class: "muted" }, "(unavailable)")); });
  });
  return strip;
}

function subjectCard(subject, urls, reload) {
  const status = statusLine();
  const files = h("input", { type: "file", name: "photos", accept: "image/jpeg,image/png", multiple: true, required: true });
  const enrol = h("form", { class: "ws-enrol", "aria-label": `Enrol ${subject.name}` },
    field(`Photos of ${subject.name}`, files),
    h("button", { type: "submit", class: "primary" }, "Enrol photos"), status.node);
  onSubmit(enrol, status, async () => {
    if (files.files.length > MAX_PHOTOS) throw new Error(`Send at most ${MAX_PHOTOS} photos at once.`);
    const form = new FormData();
    for (const file of files.files) form.append("photos", file, file.name);
    const made = await (await postRaw(`${subjectPath(subject.id)}/photos`, form)).json();
    toast(`${subject.name}: ${made.added} photo(s) enrolled.`);
    await reload();
  });
  const remove = h("button", { type: "button", class: "danger" }, "Delete");
  remove.setAttribute("aria-label", `Delete ${subject.name}`);
  remove.addEventListener("click", async () => {
    const sure = window.confirm(`Delete ${subject.name}? Their face descriptors and thumbnails are erased `
      + "for good (GDPR), and no workstation accepts them any more.");
    if (!sure) return;
    try {
      await del(subjectPath(subject.id));
      toast(`${subject.name} deleted; their face data is erased.`);
      await reload();
    } catch (err) { status.fail(err); }
  });
  const count = `${subject.embeddings} descriptor${subject.embeddings === 1 ? "" : "s"}`;
  return h("li", { class: "ws-subject", "data-subject": subject.id },
    h("div", { class: "ws-subject-head" }, h("strong", {}, subject.name),
      h("span", { class: "muted" }, ` ${count} · added ${when(subject.created_at)}`), remove),
    thumbnails(subject, urls), enrol);
}

/**
 * The subjects section.
 * @param {{subjects: object[]}} state shared with the other sections (the client form lists them)
 * @param {() => Promise<void>} changed called after a change (reloads subjects and clients)
 */
export function subjectsSection(state, changed) {
  const list = h("ul", { class: "ws-subjects" });
  const urls = [];
  const status = statusLine();
  const name = h("input", { name: "name", required: true, maxlength: "200", autocomplete: "off" });
  const add = h("form", { class: "ws-add-subject", "aria-label": "Add a subject" },
    field("Name", name), h("button", { type: "submit", class: "primary" }, "Add subject"), status.node);
  onSubmit(add, status, async () => {
    const made = await post("/workstations/subjects", { name: name.value.trim() });
    status.ok(`${made.name} added: enrol their face from photos below.`);
    add.reset();
    await changed();
  });
  function render() {
    for (const url of urls.splice(0)) URL.revokeObjectURL(url);
    list.replaceChildren(...(state.subjects.length
      ? state.subjects.map((s) => subjectCard(s, urls, changed))
      : [h("li", { class: "muted" }, "No subjects yet.")]));
  }
  const node = h("section", { class: "card ws-section", "aria-label": "Face subjects" },
    h("h2", {}, "Face subjects"),
    h("p", { class: "legend" }, "People who may use workstations. Each photo must show their face alone; "
      + "a small thumbnail of the face is kept with its descriptor, never the photo."),
    add, list);
  return { node, render, cleanup: () => { for (const url of urls.splice(0)) URL.revokeObjectURL(url); } };
}
