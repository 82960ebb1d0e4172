// Search in words over events, alerts and incidents.
// Groundwork stub (issue 21, part F2); its owner replaces it.
import { h } from "../dom.js";

export async function searchView() {
  return { node: h("div", { class: "card" }, h("h1", {}, "Search")) };
}
