// Model versions: the registry, assignment per camera, promote and roll back.
// Groundwork stub (issue 21, part D1); its owner replaces it.
import { h } from "../dom.js";

export async function modelsView() {
  return { node: h("div", { class: "card" }, h("h1", {}, "Models")) };
}
