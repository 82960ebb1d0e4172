// Live video: reads the MJPEG stream (multipart/x-mixed-replace) through fetch,
// because an <img> cannot send the bearer header, and hands each JPEG on as a blob URL.
import { stream } from "./api.js";

const HEADER_END = [13, 10, 13, 10];

function indexOf(buffer, pattern, from = 0) {
  outer: for (let i = from; i <= buffer.length - pattern.length; i++) {
    for (let j = 0; j < pattern.length; j++) if (buffer[i + j] !== pattern[j]) continue outer;
    return i;
  }
  return -1;
}

function concat(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Parts of a multipart stream: each part's headers carry its Content-Length. */
export function partReader() {
  let buffer = new Uint8Array(0);
  const latin1 = new TextDecoder("latin1");
  return function feed(chunk) {
    buffer = concat(buffer, chunk);
    const parts = [];
    for (;;) {
      const end = indexOf(buffer, HEADER_END);
      if (end < 0) break;
      const head = latin1.decode(buffer.subarray(0, end));
      const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? NaN);
      if (!Number.isFinite(length)) throw new Error("MJPEG part without Content-Length");
      const start = end + HEADER_END.length;
      if (buffer.length < start + length) break;
      parts.push(buffer.slice(start, start + length));
      buffer = buffer.slice(start + length);
    }
    return parts;
  };
}

/**
 * Plays a camera's MJPEG stream until stop() is called: onFrame(url) gets a
 * blob URL per frame (the previous one is revoked), onState(text) says when
 * the stream breaks; it reconnects with a growing delay.
 */
export function play(cameraId, fps, onFrame, onState) {
  let controller = null;
  let stopped = false;
  let retry = 0;
  let last = null;
  async function run() {
    while (!stopped) {
      controller = new AbortController();
      try {
        const res = await stream(`/cameras/${encodeURIComponent(cameraId)}/stream?fps=${fps}`, controller.signal);
        const reader = res.body.getReader();
        const feed = partReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const jpeg of feed(value)) {
            retry = 0;
            const url = URL.createObjectURL(new Blob([jpeg], { type: "image/jpeg" }));
            onFrame(url);
            if (last) URL.revokeObjectURL(last);
            last = url;
          }
        }
        if (!stopped) onState("video stream ended; reconnecting");
      } catch (err) {
        if (stopped) break;
        onState(`video: ${err.message}; reconnecting`);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * 2 ** retry++)));
    }
  }
  run();
  return function stop() {
    stopped = true;
    controller?.abort();
  };
}
