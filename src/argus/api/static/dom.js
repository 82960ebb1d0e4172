// Small DOM helpers: h() builds elements, text always goes through textContent.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function toast(message) {
  const box = document.getElementById("toast");
  box.textContent = message;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.textContent = ""; }, 4000);
}

export const when = (iso) => new Date(iso).toLocaleString();

/**
 * A labelled control. A select also gets the label as its aria-label: inside a
 * <label> its accessible name would otherwise be the label plus the chosen option.
 */
export function field(label, input) {
  if (input.tagName === "SELECT") input.setAttribute("aria-label", label);
  return h("label", {}, label, input);
}
