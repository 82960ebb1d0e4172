// The inbox's selection and its bulk actions: tick alert cards (or "Select all on the page"), then
// acknowledge them, or dismiss them as false positives with a reason, in one request
// (POST /alerts/bulk). Every alert is named by its id; the answer says per alert whether the
// step was taken, and the alerts it failed on stay selected.
import { post } from "../api.js";
import { field, h, toast } from "../dom.js";

/**
 * bulkBar(me, { selection (a Set of ids), shownIds() (ids of the cards on screen),
 * applied(alerts) (the alerts after the step) }) → { node, refresh() (after the selection changed) }.
 */
export function bulkBar(me, ctx) {
  const count = h("span", { class: "picked", role: "status" });
  const reason = h("input", { name: "bulk_reason", maxlength: "500", placeholder: "why these are false positives" });
  const all = h("input", { type: "checkbox", name: "select_all", "aria-label": "Select all alerts on the page",
    onchange: () => {
      for (const id of ctx.shownIds()) { if (all.checked) ctx.selection.add(id); else ctx.selection.delete(id); }
      ctx.picked();
      refresh();
    } });
  let busy = false;
  const run = async (action, label) => {
    const ids = [...ctx.selection].slice(0, 500);
    if (!ids.length || busy) return;
    const note = reason.value.trim();
    if (action === "dismiss" && !note) { toast("Give a reason for dismissing first"); reason.focus(); return; }
    busy = true;
    refresh();
    try {
      const request = post("/alerts/bulk", { ids, action, note });
      ctx.track?.(request);  // a list read waits for it
      const result = await request;
      const failed = result.items.filter((i) => !i.ok);
      for (const item of result.items) if (item.ok) ctx.selection.delete(item.id);
      ctx.applied(result.items.filter((i) => i.ok).map((i) => i.alert));
      toast(`${label}: ${result.done} of ${ids.length} done${failed.length ? `; ${failed.length} failed (${failed[0].error})` : ""}`);
      if (action === "dismiss" && !failed.length) reason.value = "";
    } catch (err) { toast(`${label}: ${err.message}`); }
    finally { busy = false; ctx.picked(); refresh(); }
  };
  const acknowledge = h("button", { type: "button", onclick: () => run("acknowledge", "Acknowledge selected") }, "Acknowledge selected");
  const dismiss = h("button", { type: "button", onclick: () => run("dismiss", "Dismiss selected") }, "Dismiss selected");
  const clear = h("button", { type: "button", onclick: () => { ctx.selection.clear(); ctx.picked(); refresh(); } }, "Clear selection");
  const node = h("section", { class: "bulk", "aria-label": "Bulk actions" },
    h("label", { class: "select-all" }, all, "Select all on the page"), count,
    acknowledge, field("Reason", reason), dismiss, clear);

  function refresh() {
    const n = ctx.selection.size;
    count.textContent = n ? `${n} selected` : "None selected";
    node.dataset.selected = String(n);
    for (const button of [acknowledge, dismiss, clear]) button.disabled = busy || !n;
    const shown = ctx.shownIds();
    all.checked = shown.length > 0 && shown.every((id) => ctx.selection.has(id));
  }
  if (!me.can("act")) return { node: h("span", { hidden: true }), refresh() {} };
  refresh();
  return { node, refresh };
}
