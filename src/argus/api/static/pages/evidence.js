// Evidence (placeholder: being built for issue 22).
import { h } from "../dom.js";

export async function evidenceView() {
  return { node: h("div", { class: "card" }, h("h1", {}, "Evidence")) };
}
