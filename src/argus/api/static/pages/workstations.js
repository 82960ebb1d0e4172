// Workstations (admins): the face subjects with their enrolled faces, the workstation clients
// (register, pause, block, unblock, delete), the shared pipelines and queue, the decision
// history with its evidence, and the verification policy (workstation_policy.js).
// The sections live in workstations_*.js; this module loads the data they share.
import { get } from "../api.js";
import { h } from "../dom.js";
import { clientsSection } from "./workstations_clients.js";
import { decisionsSection } from "./workstations_decisions.js";
import { pipelinesSection } from "./workstations_pipelines.js";
import { subjectsSection } from "./workstations_subjects.js";

const REFRESH_MS = 5000;  // pipelines, queue and where clients are: polled while the page is open
const MAX_PAGE = 200;

async function everything(path) {
  const items = [];
  for (let offset = 0; ; offset += MAX_PAGE) {
    const page = await get(`${path}?limit=${MAX_PAGE}&offset=${offset}`);
    items.push(...page.items);
    if (!page.items.length || items.length >= page.total) return items;
  }
}

/** The verification policy section of helper module workstation_policy.js, when present. */
async function policy() {
  try {
    const module = await import("./workstation_policy.js");
    const made = await module.policySection();
    if (made instanceof Node) return { node: made };
    return made?.node instanceof Node ? made : null;
  } catch (err) {
    console.warn("workstation policy section unavailable:", err);
    return null;
  }
}

export async function workstationsView() {
  const state = { subjects: [], clients: [] };
  let sections = [];
  async function reload() {
    [state.subjects, state.clients] = await Promise.all([
      everything("/workstations/subjects"), everything("/workstations/clients")]);
    for (const section of sections) section.render?.();
  }
  const changed = async () => { await reload(); await Promise.all([pipelines.load(), decisions.load()]); };
  const subjects = subjectsSection(state, changed);
  const clients = clientsSection(state, changed);
  const pipelines = pipelinesSection(state);
  const decisions = decisionsSection(state);
  sections = [subjects, clients, decisions];
  await reload();
  await Promise.all([pipelines.load(), decisions.load()]);
  const policyPart = await policy();
  const node = h("div", { class: "workstations" }, h("h1", {}, "Workstations"),
    h("p", { class: "legend" }, "Face verification at workstations: who may sit where, the agents, "
      + "and what the server decided."),
    subjects.node, clients.node, pipelines.node, decisions.node, policyPart?.node ?? "");
  let busy = false;
  const timer = setInterval(async () => {
    if (busy || document.hidden) return;
    busy = true;
    try {
      await pipelines.load();
      state.clients = await everything("/workstations/clients");
      clients.refresh?.();
    } catch { /* the next tick tries again; a lost session is handled by the app */ } finally { busy = false; }
  }, REFRESH_MS);
  return {
    node,
    cleanup: () => {
      clearInterval(timer);
      subjects.cleanup();
      decisions.cleanup();
      policyPart?.cleanup?.();
    },
  };
}
