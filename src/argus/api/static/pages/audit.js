// Audit trail (placeholder: being built for issue 22).
import { h } from "../dom.js";

export async function auditView() {
  return { node: h("div", { class: "card" }, h("h1", {}, "Audit trail")) };
}
