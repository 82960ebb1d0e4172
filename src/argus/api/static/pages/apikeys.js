// API keys (placeholder: being built for issue 22).
import { h } from "../dom.js";

export async function keysView() {
  return { node: h("div", { class: "card" }, h("h1", {}, "API keys")) };
}
