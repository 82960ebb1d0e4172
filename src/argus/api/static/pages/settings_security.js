// Settings → Sign-in security (admins): which roles must use two-factor authentication
// (``/security/policy``), and who of those roles has not enrolled yet.
import { get, put } from "../api.js";
import { h } from "../dom.js";
import { check, onSubmit, statusLine } from "./kit.js";

const ROLES = [["viewer", "Viewers"], ["operator", "Operators"], ["admin", "Admins"]];

/** "2 operators have no MFA yet (ana, bo)" lines for the roles that require it. */
function pending(users, required) {
  const lines = [];
  for (const [role, plural] of ROLES) {
    if (!required.has(role)) continue;
    const without = users.filter((u) => u.role === role && !u.mfa_enabled && !u.disabled).map((u) => u.username);
    lines.push(h("li", { "data-role": role }, without.length
      ? `${plural}: ${without.length} without MFA yet (${without.join(", ")}); they must enrol at their next sign-in.`
      : `${plural}: all use MFA.`));
  }
  return lines;
}

export async function securitySection(me) {
  const [policy, users] = await Promise.all([get("/security/policy"), get("/users?limit=1000")]);
  let required = new Set(policy.mfa_required_roles);
  const boxes = ROLES.map(([role]) => h("input", { type: "checkbox", name: `mfa_${role}`, value: role, checked: required.has(role) }));
  const status = statusLine();
  const who = h("ul", { class: "mfa-pending", "aria-label": "Users without MFA" });
  const self = h("p", { class: "note", hidden: true });
  const show = () => {
    who.replaceChildren(...pending(users.items, required));
    const mine = !me.user?.mfa_enabled && required.has(me.user?.role);
    self.hidden = !mine;
    self.replaceChildren(mine ? ["You have no MFA yet either: ", h("a", { href: "#/mfa" }, "set it up now"),
      " or at your next sign-in."] : "");
  };
  const form = h("form", { class: "card security", "aria-label": "Sign-in security" },
    h("h2", {}, "Sign-in security"),
    h("p", { class: "legend" }, "Require two-factor authentication (an authenticator app) per role. "
      + "Users of a ticked role who have not enrolled are asked to at their next sign-in and can do nothing else until then."),
    h("fieldset", { class: "scope" }, h("legend", {}, "Require MFA for"),
      ROLES.map(([, plural], i) => check(plural, boxes[i]))),
    status.node,
    h("button", { type: "submit", class: "primary" }, "Save MFA policy"),
    who, self);
  onSubmit(form, status, async () => {
    const roles = boxes.filter((b) => b.checked).map((b) => b.value);
    const saved = await put("/security/policy", { mfa_required_roles: roles });
    required = new Set(saved.mfa_required_roles);
    status.ok(required.size
      ? `Saved: MFA is required for ${ROLES.filter(([r]) => required.has(r)).map(([, p]) => p.toLowerCase()).join(", ")}.`
      : "Saved: MFA is optional for every role.");
    show();
  });
  show();
  return form;
}
