"""``ConfigKeeper``: an edge node's configuration, cached on disk and followed by long polling.

The keeper holds the node's current ``EdgeConfig``. At start it loads the
cached one (``load_cached``) and applies it, so a node whose control plane is
unreachable starts analysing at once with the cameras it had. Then it asks
the control plane for the configuration after the revision it holds
(``EdgeLink.fetch_config``: the server holds the request until something
changes or the wait runs out), and on a new revision it first writes the cache
(atomically, sealed: the adapter behind ``ConfigCache`` does that) and then
applies the difference to the pipelines: ``apply`` for cameras that are new or
whose camera, lines or zones changed, ``remove`` for cameras no longer
assigned. A camera whose JSON does not make a valid camera is logged and not
run (an older pipeline of it is removed), the others are not held up.

When the link is down the keeper retries with backoff and keeps the
configuration it has; an unauthorized key is retried too (slowly), since an
admin may fix it without the node being restarted.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Protocol

from argus.domain.backoff import Backoff, BackoffPolicy
from argus.domain.cameras import Camera, Credentials, Line, Zone
from argus.domain.edge import EdgeCamera, EdgeConfig
from argus.domain.errors import ArgusError, ValidationError
from argus.ports.edge_link import EdgeLink, LinkDown, LinkUnauthorized
from argus.ports.pipelines import PipelineSupervisor
from argus.services.background import TaskGroup

__all__ = ["ConfigCache", "ConfigKeeper", "camera_from_json", "line_from_json", "zone_from_json"]

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Listener = Callable[[EdgeConfig], None]

_RETRY = BackoffPolicy(initial=1.0, max_delay=30.0)
_UNAUTHORIZED_DELAY_S = 60.0


class ConfigCache(Protocol):
    """Where the node keeps its latest configuration between runs (sealed by the adapter)."""

    def load(self) -> bytes | None:
        """The saved bytes, or ``None`` when there are none (or they do not open)."""
        ...

    def save(self, data: bytes) -> None:
        """Replace the saved bytes atomically; durable on return."""
        ...


def _time(value: object, where: str) -> datetime:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValidationError(f"{where} must be an ISO 8601 time")
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError(f"{where} is not ISO 8601: {value!r}") from exc


def _known(cls: type[Any], data: Mapping[str, object], where: str) -> dict[str, Any]:
    """The entries of ``data`` that are fields of ``cls`` (others, such as status, ignored)."""
    if not isinstance(data, Mapping):
        raise ValidationError(f"{where} must be an object")
    names = {f.name for f in fields(cls)}
    return {key: value for key, value in data.items() if key in names}


def _points(value: object, where: str) -> Any:
    if not isinstance(value, list | tuple):
        raise ValidationError(f"{where} must be a list of points")
    return tuple(tuple(p) if isinstance(p, list | tuple) else p for p in value)


def camera_from_json(data: Mapping[str, object]) -> Camera:
    """The ``Camera`` of a configuration's camera JSON (credentials included).

    Raises:
        ValidationError: It does not make a valid camera.
    """
    values = _known(Camera, data, "camera")
    secret = values.get("credentials")
    if isinstance(secret, Mapping):
        values["credentials"] = Credentials(
            username=str(secret.get("username", "")), password=str(secret.get("password", ""))
        )
    elif secret is not None:
        raise ValidationError("camera.credentials must be an object or null")
    for key in ("created_at", "updated_at"):
        if key in values:
            values[key] = _time(values[key], f"camera.{key}")
    try:
        return Camera(**values)
    except TypeError as exc:  # a required field is missing
        raise ValidationError(f"camera: {exc}") from exc


def line_from_json(data: Mapping[str, object]) -> Line:
    """The ``Line`` of a configuration's line JSON.

    Raises:
        ValidationError: It does not make a valid line.
    """
    values = _known(Line, data, "line")
    for key in ("start", "end"):
        if isinstance(values.get(key), list):
            values[key] = tuple(values[key])
    for key in ("anchors", "classes"):
        if isinstance(values.get(key), list):
            values[key] = tuple(values[key])
    try:
        return Line(**values)
    except TypeError as exc:
        raise ValidationError(f"line: {exc}") from exc


def zone_from_json(data: Mapping[str, object]) -> Zone:
    """The ``Zone`` of a configuration's zone JSON.

    Raises:
        ValidationError: It does not make a valid zone.
    """
    values = _known(Zone, data, "zone")
    if "polygon" in values:
        values["polygon"] = _points(values["polygon"], "zone.polygon")
    for key in ("anchors", "classes"):
        if isinstance(values.get(key), list):
            values[key] = tuple(values[key])
    try:
        return Zone(**values)
    except TypeError as exc:
        raise ValidationError(f"zone: {exc}") from exc


@dataclass(frozen=True, slots=True)
class _Built:
    camera: Camera
    lines: tuple[Line, ...]
    zones: tuple[Zone, ...]


def _build(entry: EdgeCamera) -> _Built:
    return _Built(
        camera_from_json(entry.camera),
        tuple(line_from_json(line) for line in entry.lines),
        tuple(zone_from_json(zone) for zone in entry.zones),
    )


def _key(entry: EdgeCamera) -> str:
    """What must be equal for a camera's pipeline to keep running as it is."""
    body = entry.to_dict()
    del body["evidence_types"]  # evidence is the node's business, not the pipeline's
    return json.dumps(body, sort_keys=True, default=str)


class ConfigKeeper:
    """Holds, caches and applies the node's configuration (see the module docstring).

    Args:
        link: The link to the control plane.
        pipelines: The node's camera pipelines.
        cache: Where the configuration is kept between runs.
        node_id: This node's id.
        wait_s: Seconds each configuration request may wait on the server.
        retry: Backoff between failed requests.
        sleep: Waits between retries (injected in tests).
    """

    def __init__(
        self,
        link: EdgeLink,
        pipelines: PipelineSupervisor,
        cache: ConfigCache,
        *,
        node_id: str,
        wait_s: float = 25.0,
        retry: BackoffPolicy = _RETRY,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._link = link
        self._pipelines = pipelines
        self._cache = cache
        self._node_id = node_id
        self._wait_s = wait_s
        self._backoff = Backoff(retry)
        self._sleep = sleep
        self._config: EdgeConfig | None = None
        self._running: dict[str, str] = {}  # camera id -> _key of what runs
        self._listeners: list[Listener] = []
        self._tasks = TaskGroup()
        self._lock = asyncio.Lock()
        self.last_error: str | None = None

    @property
    def config(self) -> EdgeConfig | None:
        """The configuration applied last (``None`` before the first)."""
        return self._config

    @property
    def revision(self) -> str | None:
        """Its revision."""
        return None if self._config is None else self._config.revision

    def camera(self, camera_id: str) -> EdgeCamera | None:
        """The current configuration's entry of ``camera_id``."""
        return None if self._config is None else self._config.camera(camera_id)

    def on_change(self, listener: Listener) -> None:
        """Call ``listener`` with every configuration applied from now on."""
        self._listeners.append(listener)

    async def load_cached(self) -> EdgeConfig | None:
        """Apply the cached configuration, if there is one that opens and parses."""
        raw = await asyncio.to_thread(self._cache.load)
        if raw is None:
            return None
        try:
            config = EdgeConfig.from_dict(json.loads(raw))
        except (ValueError, ValidationError):
            log.warning("the cached configuration does not parse; waiting for the server")
            return None
        if config.node_id != self._node_id:
            log.warning("the cached configuration is node %s's; ignored", config.node_id)
            return None
        await self._apply(config)
        log.info("running the cached configuration %s", config.revision[:12])
        return config

    async def fetch_once(self) -> bool:
        """Ask the server once (long polling); apply and cache a new revision.

        Returns:
            Whether a new revision was applied.

        Raises:
            LinkDown: The control plane is unreachable.
            LinkUnauthorized: The key was refused.
        """
        config = await self._link.fetch_config(self._node_id, self.revision, self._wait_s)
        if config.revision == self.revision:
            return False
        data = json.dumps(config.to_dict(), separators=(",", ":")).encode()
        try:
            await asyncio.to_thread(self._cache.save, data)
        except OSError:
            log.exception("could not cache the configuration (it is applied all the same)")
        await self._apply(config)
        log.info(
            "configuration %s applied: %d camera(s)", config.revision[:12], len(config.cameras)
        )
        return True

    async def run(self) -> None:
        """Follow the configuration until cancelled."""
        while True:
            try:
                await self.fetch_once()
            except LinkUnauthorized as exc:
                self.last_error = f"unauthorized: {exc}"
                log.error("the control plane refuses this node's key: %s", exc)
                await self._sleep(_UNAUTHORIZED_DELAY_S)
                continue
            except LinkDown as exc:
                self.last_error = str(exc)
                delay = self._backoff.next_delay()
                log.debug("configuration request failed (%s); retrying in %.1f s", exc, delay)
                await self._sleep(delay)
                continue
            except ArgusError as exc:  # a reply that does not parse: retry, keep what runs
                self.last_error = str(exc)
                log.warning("bad configuration reply: %s", exc)
                await self._sleep(self._backoff.next_delay())
                continue
            self.last_error = None
            self._backoff.reset()

    def start(self) -> None:
        """Start following the configuration in the background."""
        self._tasks.start(("edge-config", self.run))

    async def stop(self) -> None:
        """Stop following it (the pipelines keep what they run)."""
        await self._tasks.stop()

    async def _apply(self, config: EdgeConfig) -> None:
        async with self._lock:
            wanted: dict[str, EdgeCamera] = {}
            for entry in config.cameras:
                wanted[entry.camera_id] = entry
            for camera_id in sorted(set(self._running) - set(wanted)):
                await self._remove(camera_id)
            for camera_id, entry in wanted.items():
                key = _key(entry)
                if self._running.get(camera_id) == key:
                    continue
                try:
                    built = _build(entry)
                except ValidationError as exc:
                    log.error("camera %s: invalid configuration, not run: %s", camera_id, exc)
                    await self._remove(camera_id)
                    continue
                await self._pipelines.apply(built.camera, built.lines, built.zones)
                self._running[camera_id] = key
            self._config = config
        for listener in self._listeners:
            try:
                listener(config)
            except Exception:
                log.exception("a configuration listener failed")

    async def _remove(self, camera_id: str) -> None:
        if camera_id in self._running:
            del self._running[camera_id]
            await self._pipelines.remove(camera_id)

    @property
    def cameras(self) -> Sequence[str]:
        """Ids of the cameras the keeper runs."""
        return sorted(self._running)
