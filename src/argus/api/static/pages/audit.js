// Audit trail (admins): the hash-chained record of every change, filtered and paged; verifying
// the chain, and the head (sequence and hash) to write down elsewhere, so that records cut off
// the end later are caught too.
import { get } from "../api.js";
import { field, h, timeAgo } from "../dom.js";
import { actorName, isoOf, onSubmit, statusLine, table } from "./kit.js";
import { adminPage, copyable, pager } from "./admin_kit.js";

const PAGE = 50;
const OUTCOMES = [["", "Any"], ["success", "Success"], ["failure", "Failure"], ["denied", "Denied"]];

/** The chain check: a Verify button, the outcome, and the head to record. */
function chainSection() {
  const status = statusLine();
  const result = h("div", { class: "chain-result" });
  const expected = h("input", { name: "expect_head", placeholder: "e.g. 1234:9f86d08…", maxlength: "100", autocomplete: "off", spellcheck: "false" });
  const form = h("form", { class: "card chain", "aria-label": "Verify the audit chain" },
    h("h2", {}, "Verify the chain"),
    h("p", { class: "legend" }, "Each record holds the hash of the one before it. Verifying recomputes every hash: "
      + "an edited, deleted or reordered record is reported. Records cut off the end are caught only "
      + "against a head recorded earlier: paste it here."),
    h("div", { class: "form-grid" }, field("Head recorded earlier (optional)", expected)),
    status.node, h("button", { type: "submit", class: "primary" }, "Verify the chain"), result);
  onSubmit(form, status, async () => {
    const head = expected.value.trim();
    const params = new URLSearchParams(head ? { expect_head: head } : {});
    const report = await get(`/audit/verify?${params}`);
    const headText = `${report.head_seq}:${report.head_hash}`;
    result.replaceChildren(
      h("p", { class: "integrity", "data-ok": String(report.ok) },
        report.ok ? `The chain is intact: ${report.records} records checked.`
          : `The chain is broken: ${report.problems.length} problem(s) in ${report.records} records.`),
      report.problems.length ? h("ul", { class: "problems" }, report.problems.map((p) =>
        h("li", {}, `#${p.seq} ${p.kind}: ${p.detail}`))) : "",
      h("div", { class: "head", "data-head": headText },
        h("h3", {}, "Record this head"),
        h("p", { class: "legend" }, "Write this down outside Argus (a ticket, a notebook, another system's log) "
          + "with today's date. A later check against it proves no record up to it was removed or changed; "
          + "anyone able to rewrite the database could otherwise rebuild a shorter chain."),
        h("p", {}, h("span", { class: "head-label" }, `Head (record ${report.head_seq}, then its hash): `), copyable(headText, "Copy the head"))));
    if (report.ok) status.ok("Verified."); else status.fail("The chain failed its check: see the problems below.");
  });
  return form;
}

function detailsText(details) {
  const entries = Object.entries(details ?? {});
  if (!entries.length) return "";
  return entries.map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`).join(", ");
}

/** The filtered, paged list of records, newest first. */
function recordsSection() {
  const input = (name, placeholder) => h("input", { name, placeholder, maxlength: "300", autocomplete: "off" });
  const outcome = h("select", { name: "outcome" }, OUTCOMES.map(([v, label]) => h("option", { value: v }, label)));
  const since = h("input", { name: "since", type: "datetime-local" });
  const until = h("input", { name: "until", type: "datetime-local" });
  const status = statusLine();
  const body = h("div", { class: "records" });
  const form = h("form", { class: "filters audit-filters", "aria-label": "Filter the audit trail" },
    field("Actor", input("actor", "user:ana")), field("Action (or prefix)", input("action", "evidence.")),
    field("Target", input("target", "camera:…")), field("Outcome", outcome),
    field("From", since), field("Until", until),
    h("button", { type: "submit", class: "primary" }, "Filter"),
    h("button", { type: "reset" }, "Clear"));
  const paging = pager(PAGE, () => load());
  async function load() {
    const params = new URLSearchParams({ limit: String(PAGE), offset: String(paging.offset) });
    for (const name of ["actor", "action", "target", "outcome"]) {
      const value = form.elements[name].value.trim();
      if (value) params.set(name, value);
    }
    const from = isoOf(since.value);
    const to = isoOf(until.value);
    if (from) params.set("since", from);
    if (to) params.set("until", to);
    const page = await get(`/audit?${params}`);
    body.replaceChildren(table("Audit records", ["#", "When", "Actor", "Action", "Target", "Outcome", "Details"],
      page.items.map((r) => h("tr", { "data-seq": String(r.seq) },
        h("td", { "data-label": "#" }, String(r.seq)),
        h("td", { "data-label": "When" }, timeAgo(r.at)),
        h("td", { "data-label": "Actor", title: r.actor }, actorName(r.actor)),
        h("td", { "data-label": "Action" }, h("code", {}, r.action)),
        h("td", { "data-label": "Target", class: "wrap" }, r.target),
        h("td", { "data-label": "Outcome", class: `outcome ${r.outcome}` }, r.outcome),
        h("td", { "data-label": "Details", class: "wrap details" }, [detailsText(r.details), r.ip ? ` (from ${r.ip})` : ""].join(""))))));
    paging.show(page.total, page.items.length);
    status.ok(`${page.total} record(s) match.`);
  }
  onSubmit(form, status, async () => { paging.reset(); await load(); });
  form.addEventListener("reset", () => { setTimeout(() => { paging.reset(); load().catch((err) => status.fail(err)); }, 0); });
  return { node: h("section", { class: "card audit-records", "aria-label": "Audit records" }, h("h2", {}, "Records"), form, status.node, body, paging.node), load };
}

export async function auditView() {
  const records = recordsSection();
  await records.load();
  return { node: adminPage("audit-page", "Audit trail",
    "Every change, sign-in and evidence access, in one tamper-evident chain (newest first).",
    chainSection(), records.node) };
}
