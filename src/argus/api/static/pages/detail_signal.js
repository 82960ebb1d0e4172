// An optional signal for high alerts: a desktop notification when the browser permits it,
// else a short beep (WebAudio). Off by default; the choice is kept in localStorage.
//
// startHighAlertSignal() listens for new and escalated high alerts (idempotent; any page may
// call it once signed in); highAlertToggle() is its switch. Every signal given is counted in
// <html data-high-alert-signals>, the last one's alert in data-high-alert-signal-alert.
import { on, subscribe } from "../live.js";
import { h } from "../dom.js";

const KEY = "argus.highAlertSignal";
let audio = null;
let stops = null;

export const signalOn = () => localStorage.getItem(KEY) === "on";

function count(kind, alertId) {
  const root = document.documentElement;
  root.dataset.highAlertSignals = String(Number(root.dataset.highAlertSignals ?? 0) + 1);
  root.dataset.highAlertSignalKind = kind;
  root.dataset.highAlertSignalAlert = alertId;
}

/** A short two-tone beep; browsers allow sound only after a gesture (the toggle was one). */
function beep() {
  try {
    audio ??= new AudioContext();
    audio.resume?.();
    const gain = audio.createGain();
    gain.connect(audio.destination);
    const start = audio.currentTime;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.3, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.45);
    [880, 660].forEach((freq, i) => {
      const tone = audio.createOscillator();
      tone.frequency.value = freq;
      tone.connect(gain);
      tone.start(start + i * 0.2);
      tone.stop(start + i * 0.2 + 0.2);
    });
    return true;
  } catch { return false; }
}

function signal(alert, what) {
  if (!signalOn() || alert?.severity !== "high") return;
  const body = `${alert.rule_name}${alert.class_name ? ` · ${alert.class_name}` : ""}`;
  if ("Notification" in window && Notification.permission === "granted") {
    try {
      const note = new Notification(`${what} high alert`, { body, tag: `argus-${alert.id}-${what}` });
      note.onclick = () => { window.focus(); location.hash = `#/alerts/${encodeURIComponent(alert.id)}`; };
      count("notification", alert.id);
      return;
    } catch { /* some browsers need a service worker: beep instead */ }
  }
  if (beep()) count("sound", alert.id);
}

/** Listens for new and escalated high alerts (once per page load). */
export function startHighAlertSignal() {
  if (stops) return;
  subscribe(["alerts"]);
  stops = [on("alert.created", (m) => signal(m.alert, "New")), on("alert.escalated", (m) => signal(m.alert, "Escalated"))];
}

/** The switch: "Sound or desktop notification for high alerts". */
export function highAlertToggle() {
  const box = h("input", { type: "checkbox", name: "high_alert_signal", checked: signalOn() });
  box.addEventListener("change", async () => {
    localStorage.setItem(KEY, box.checked ? "on" : "off");
    if (!box.checked) return;
    startHighAlertSignal();
    if ("Notification" in window && Notification.permission === "default") {
      try { await Notification.requestPermission(); } catch { /* a beep then */ }
    }
    try { audio ??= new AudioContext(); audio.resume?.(); } catch { /* no sound either */ }
  });
  return h("label", { class: "check signal-toggle" }, box, "Sound or desktop notification for high alerts");
}
