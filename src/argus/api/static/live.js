// The /ws socket: signs in with its first message, resubscribes after reconnecting.
import { renew, session } from "./api.js";

const UNAUTHORIZED = 4401;  // the server's close code for an expired or revoked token

const handlers = new Map();
const channels = new Set();
let socket = null;
let retry = 0;

function connect() {
  if (!session.access) return;
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
  const current = new WebSocket(url);
  const token = session.access;
  socket = current;
  current.addEventListener("open", () => {
    retry = 0;
    current.send(JSON.stringify({ type: "auth", token }));
    if (channels.size) current.send(JSON.stringify({ type: "subscribe", channels: [...channels] }));
  });
  current.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    for (const handler of handlers.get(message.type) ?? []) handler(message);
  });
  current.addEventListener("close", async (event) => {
    if (socket !== current) return;  // closed on purpose (sign-out) or already replaced
    socket = null;
    if (event.code === UNAUTHORIZED && session.access && !(await renew(token))) return;
    if (session.access) setTimeout(() => { if (!socket) connect(); }, Math.min(10_000, 500 * 2 ** retry++));
  });
}

export function subscribe(names) {
  const fresh = names.filter((n) => !channels.has(n));
  fresh.forEach((n) => channels.add(n));
  if (!socket) connect();
  else if (socket.readyState === WebSocket.OPEN && fresh.length) {
    socket.send(JSON.stringify({ type: "subscribe", channels: fresh }));
  }
}

export function unsubscribe(names) {
  const gone = names.filter((n) => channels.delete(n));
  if (socket?.readyState === WebSocket.OPEN && gone.length) {
    socket.send(JSON.stringify({ type: "unsubscribe", channels: gone }));
  }
}

/** Calls handler for each message of this type; returns a function that stops it. */
export function on(type, handler) {
  if (!handlers.has(type)) handlers.set(type, new Set());
  handlers.get(type).add(handler);
  return () => handlers.get(type).delete(handler);
}

export function close() {
  channels.clear();
  socket?.close();
  socket = null;
}
