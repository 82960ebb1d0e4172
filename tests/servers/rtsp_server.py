"""A loopback RTSP test server built on GStreamer's gst-rtsp-server.

Run it with the system interpreter (``/usr/bin/python3``), which can import
``gi``; a virtualenv cannot. It serves a live H.264 test pattern
(``videotestsrc`` encoded by ``x264enc``) at ``rtsp://HOST:PORT/PATH`` and
accepts both RTP over TCP (interleaved) and RTP over UDP.

Once the server listens it writes ``READY <port>`` on a line of its own to
stdout, so a test can pass ``--port 0`` and read back the port the kernel chose,
then restart the server on that same port after killing it.

Debian packages: ``python3-gi``, ``gir1.2-gst-rtsp-server-1.0``,
``gstreamer1.0-rtsp`` and ``gstreamer1.0-plugins-{base,good,bad,ugly}``
(see ``scripts/system-deps.sh``).
"""

from __future__ import annotations

import argparse
import signal
import sys

import gi  # type: ignore[import-not-found,unused-ignore]

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import (  # type: ignore[import-not-found,unused-ignore]  # noqa: E402
    GLib,
    Gst,
    GstRtsp,
    GstRtspServer,
)

__all__ = ["build_pipeline", "main"]


def build_pipeline(width: int, height: int, fps: int, gop: int) -> str:
    """Return the launch description of the served media.

    Args:
        width: Frame width in pixels.
        height: Frame height in pixels.
        fps: Frames per second of the live test pattern.
        gop: Frames between key frames, so a client that joins (or rejoins)
            mid-stream starts decoding quickly.

    Returns:
        A ``gst-launch`` style description whose payloader is named ``pay0``.
    """
    return (
        "( videotestsrc is-live=true pattern=ball "
        f"! video/x-raw,width={width},height={height},framerate={fps}/1 "
        "! videoconvert "
        f"! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={gop} "
        "bframes=0 threads=1 "
        "! video/x-h264,profile=baseline "
        "! rtph264pay name=pay0 pt=96 config-interval=-1 )"
    )


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 lets the kernel choose")
    parser.add_argument("--path", default="/test")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--gop", type=int, default=10)
    parser.add_argument(
        "--sub-path", default=None, help="also serve a second (sub-)stream at this path"
    )
    parser.add_argument("--sub-width", type=int, default=320)
    parser.add_argument("--sub-height", type=int, default=180)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT.

    Args:
        argv: Command-line arguments, ``sys.argv[1:]`` when ``None``.

    Returns:
        The process exit status: 0 after a clean stop, 2 when the port is taken.
    """
    args = _parse_args(argv)
    Gst.init(None)

    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))

    mounts = [(args.path, args.width, args.height)]
    if args.sub_path is not None:
        # A camera's low-resolution sub-stream, as IP cameras serve beside the main one.
        mounts.append((args.sub_path, args.sub_width, args.sub_height))
    for path, width, height in mounts:
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(build_pipeline(width, height, args.fps, args.gop))
        # One encoder feeds every client; a reconnecting client joins the live stream.
        factory.set_shared(True)
        factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP | GstRtsp.RTSPLowerTrans.UDP)
        server.get_mount_points().add_factory(path, factory)

    if server.attach(None) == 0:
        sys.stderr.write(f"rtsp_server: cannot listen on {args.host}:{args.port}\n")
        return 2

    loop = GLib.MainLoop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, _quit, loop)
    sys.stdout.write(f"READY {server.get_bound_port()}\n")
    sys.stdout.flush()
    loop.run()
    return 0


def _quit(loop: object) -> bool:
    loop.quit()  # type: ignore[attr-defined]
    return False  # remove the signal source


if __name__ == "__main__":
    sys.exit(main())
