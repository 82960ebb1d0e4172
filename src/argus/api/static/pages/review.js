// False-positive review (placeholder: being built for issue 22).
import { h } from "../dom.js";

export async function reviewView() {
  return { node: h("div", { class: "card" }, h("h1", {}, "False-positive review")) };
}
