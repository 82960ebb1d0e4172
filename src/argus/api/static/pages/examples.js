// Hard examples: the labelling queue, the annotation canvas and review.
// Groundwork stub (issue 21, part B); its owner replaces it.
import { h } from "../dom.js";

export async function examplesView() {
  return { node: h("div", { class: "card" }, h("h1", {}, "Examples")) };
}
