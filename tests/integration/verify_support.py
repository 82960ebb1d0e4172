"""Workstation verification over a real server: the app, photos, frames and a ``/ws/verify`` client.

The app runs on the in-memory store, bus and camera pipelines (``served`` puts
it behind a real uvicorn on loopback); the verification models are the real
ones, built into the data directory on first use. Faces come from
``matplotlib``'s sample photo of Grace Hopper (a dependency, always there) or
from ``../shared/eval`` (skipped with a reason when absent).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import numpy.typing as npt
import pytest
from fastapi import FastAPI
from matplotlib import cbook
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.db.memory import MemoryDatabase
from argus.adapters.pipelines_memory import MemoryPipelines
from argus.bootstrap.adapters import Adapters
from argus.bootstrap.app import build_app
from argus.config import Settings
from tests.auth_support import bearer, settings_for
from tests.integration.live_support import WAIT, served, token_for

Image = npt.NDArray[np.uint8]
Message = dict[str, Any]

EVAL_FACES = Path(__file__).resolve().parents[3] / "shared" / "eval" / "face"
PHOTOS = EVAL_FACES / "face_recognition_examples"
WS = "/api/v1/workstations"


def grace_hopper() -> bytes:
    """A portrait JPEG shipped with matplotlib (one face)."""
    path = Path(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    return path.read_bytes()


def eval_photo(name: str) -> Image:
    """A photo of ``../shared/eval/face/face_recognition_examples``, BGR (skips when absent)."""
    path = PHOTOS / name
    if not path.is_file():
        pytest.skip(f"{path} is absent: ../shared/eval is only beside a project checkout")
    return np.asarray(cv2.imread(str(path), cv2.IMREAD_COLOR), np.uint8)


def webcam(image: Image, width: int = 640, height: int = 480) -> Image:
    """``image`` scaled to cover a ``width`` x ``height`` webcam frame and cropped to it."""
    scale = max(width / image.shape[1], height / image.shape[0])
    resized = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    top = (resized.shape[0] - height) // 4  # keep the upper part: faces sit high in portraits
    left = (resized.shape[1] - width) // 2
    return np.ascontiguousarray(resized[top : top + height, left : left + width])


def jpeg(image: Image, quality: int = 90) -> bytes:
    """``image`` as JPEG bytes."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return bytes(data.tobytes())


def draw_phone(frame: Image, corner: tuple[int, int], screen: Image) -> Image:
    """``frame`` with a phone held up in it: a dark 60x120 body tilted by -15 degrees whose
    screen shows ``screen`` (the camera app pointed at the monitor), and a hand below it."""
    out = frame.copy()
    w, h, margin = 60, 120, 3
    body = np.full((h, w, 3), (40, 40, 45), np.uint8)
    body[2 * margin : h - 2 * margin, margin : w - margin] = np.asarray(
        cv2.resize(screen, (w - 2 * margin, h - 4 * margin), interpolation=cv2.INTER_AREA),
        np.uint8,
    )
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), -15, 1.0)
    tilted = np.asarray(cv2.warpAffine(body, turn, (w, h)), np.float64)
    alpha = (cv2.warpAffine(np.full((h, w), 255, np.uint8), turn, (w, h)) / 255.0)[:, :, None]
    x, y = corner
    region = out[y : y + h, x : x + w].astype(np.float64)
    out[y : y + h, x : x + w] = (tilted * alpha + region * (1 - alpha)).astype(np.uint8)
    cv2.ellipse(out, (x + w // 2, y + h), (w // 2 + 10, h // 4), 0, 0, 360, (120, 150, 200), -1)
    return out


def verify_app(data_dir: Path, **overrides: Any) -> tuple[FastAPI, Adapters]:
    """The app over the in-memory store (returned too, for looking at rows)."""
    plane = Adapters(
        database=MemoryDatabase(), bus=MemoryEventBus(ack_wait=0.5), pipelines=MemoryPipelines()
    )

    async def opener(_: Settings) -> Adapters:
        return plane

    return build_app(settings_for(data_dir, **overrides), open_adapters=opener), plane


@dataclass
class Server:
    """A served app, an admin HTTP client on it, and its store."""

    address: str
    http: httpx.AsyncClient
    plane: Adapters

    async def subject(self, name: str, *photos: bytes) -> str:
        """Create a subject and enrol it from ``photos``; its id."""
        made = await self.http.post(f"{WS}/subjects", json={"name": name})
        assert made.status_code == 201, made.text
        subject_id = str(made.json()["id"])
        if photos:
            files = [("photos", (f"p{i}.jpg", p, "image/jpeg")) for i, p in enumerate(photos)]
            enrolled = await self.http.post(f"{WS}/subjects/{subject_id}/photos", files=files)
            assert enrolled.status_code == 201, enrolled.text
        return subject_id

    async def client(self, *subjects: str, name: str = "Desk") -> tuple[str, str]:
        """Register a client for ``subjects``; its id and key."""
        made = await self.http.post(
            f"{WS}/clients", json={"name": name, "subjects": list(subjects)}
        )
        assert made.status_code == 201, made.text
        return str(made.json()["id"]), str(made.json()["key"])


@asynccontextmanager
async def server(data_dir: Path, **overrides: Any) -> AsyncIterator[Server]:
    """Serve the app on loopback with the test admin signed in over HTTP."""
    app, plane = verify_app(data_dir, **overrides)
    async with served(app) as address:
        token = await token_for(address)
        async with httpx.AsyncClient(
            base_url=f"http://{address}", headers=bearer(token), timeout=WAIT
        ) as http:
            yield Server(address, http, plane)


class Workstation:
    """A ``/ws/verify`` connection that keeps what it read while waiting for something else."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.seen: list[Message] = []
        self.frames = 0

    async def send(self, message: Message | str) -> None:
        """Send a JSON message (or raw text)."""
        await self.connection.send(message if isinstance(message, str) else json.dumps(message))

    async def expect(self, kind: str, **fields: object) -> Message:
        """The first message of type ``kind`` whose fields equal ``fields``."""
        for earlier in self.seen:
            if earlier.get("type") == kind and all(earlier.get(k) == v for k, v in fields.items()):
                self.seen.remove(earlier)
                return earlier
        while True:
            try:
                raw = await asyncio.wait_for(self.connection.recv(), WAIT)
            except TimeoutError:
                types = [m.get("type") for m in self.seen]
                raise AssertionError(
                    f"timed out waiting for {kind} {fields}; got {types}"
                ) from None
            message: Message = json.loads(raw)
            if message.get("type") == kind and all(message.get(k) == v for k, v in fields.items()):
                return message
            self.seen.append(message)

    async def frame(self, data: bytes) -> Message:
        """Send one frame and wait for its decision."""
        await self.connection.send(data)
        self.frames += 1
        return await self.expect("decision", frame_seq=self.frames)

    async def closed(self) -> tuple[int | None, list[Message]]:
        """Read until the server closes; the close code and the messages read meanwhile."""
        try:
            while True:
                raw = await asyncio.wait_for(self.connection.recv(), WAIT)
                self.seen.append(json.loads(raw))
        except ConnectionClosed as closed:
            return (closed.rcvd.code if closed.rcvd else None), self.seen


@asynccontextmanager
async def workstation(
    address: str, client_id: str, key: str, *, sign_in: bool = True
) -> AsyncIterator[Workstation]:
    """Open ``/ws/verify`` (and send the ``auth`` message unless ``sign_in`` is False)."""
    async with connect(f"ws://{address}/ws/verify", open_timeout=WAIT, max_size=None) as connection:
        station = Workstation(connection)
        if sign_in:
            await station.send({"type": "auth", "client_id": client_id, "key": key})
        yield station
