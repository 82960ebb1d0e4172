"""Which camera sources this server may open: local media directories and host networks.

A camera's stream URL, or a stream an operator probes, is chosen by whoever
holds the ``configure`` permission, an API key included. Left open, that lets
such a caller make the server read its own files (FFmpeg's text demuxers draw
a key file legibly, and the first frame comes back as a JPEG) or fetch from
hosts only the server can reach (loopback services, a cloud metadata address).
``SourcePolicy`` is the admin's answer:

* a local path is read only when its canonical form (symlinks resolved) is a
  file or directory inside one of the media directories, or one of the named
  media files (the demo clip); every refusal, whether the path is missing,
  unreadable or outside, has the same text, so an answer never tells whether
  a path exists;
* a host name is resolved and every address must lie in an allowed network
  and in no denied network.

Only video and image demuxers read local files (``VIDEO_FORMATS``, checked by
``FileSource`` before the first frame is decoded).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from argus.adapters.video._base import redact_url
from argus.domain.errors import SourceOpenError

__all__ = [
    "LIVE_SCHEMES",
    "Network",
    "SourcePolicy",
    "parse_networks",
    "resolve_host",
]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Sequence[str]]

LIVE_SCHEMES = frozenset({"rtsp", "rtsps", "http", "https"})
"""URL schemes of network streams; anything else is a local path."""

ANY_NETWORK: tuple[Network, ...] = (
    ipaddress.ip_network("0.0.0.0/0"),
    ipaddress.ip_network("::/0"),
)

REFUSED = (
    "cannot be opened: it does not exist, cannot be read, or is outside the media "
    "directories the administrator allows (ARGUS_MEDIA_DIRS)"
)
"""The one answer for every refused local path, so that it never tells whether a path exists."""


def parse_networks(text: str) -> tuple[Network, ...]:
    """Comma-separated addresses or networks (``10.0.0.0/8,::1``) as networks.

    Raises:
        ValueError: An item is not an address or network.
    """
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()
    )


def resolve_host(host: str) -> list[str]:
    """Every address ``host`` resolves to (an address literal resolves to itself).

    Raises:
        OSError: The name does not resolve.
    """
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def _canonical(path: str | os.PathLike[str]) -> Path:
    """``path`` made absolute with symlinks resolved, as far as it exists."""
    return Path(os.path.realpath(path))


@dataclass(frozen=True, slots=True)
class SourcePolicy:
    """The local paths and networks cameras and probes may use.

    Attributes:
        media_dirs: Directories whose files and subdirectories may be read
            (canonicalised on construction).
        media_files: Single files that may be read besides (the demo clip).
        allow_networks: Networks a host's addresses must lie in.
        deny_networks: Networks a host's addresses must not lie in; they win
            over ``allow_networks``.
        resolve: Resolves a host name to its addresses (``resolve_host``).
    """

    media_dirs: tuple[Path, ...] = ()
    media_files: tuple[Path, ...] = ()
    allow_networks: tuple[Network, ...] = ANY_NETWORK
    deny_networks: tuple[Network, ...] = ()
    resolve: Resolver = field(default=resolve_host, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "media_dirs", tuple(_canonical(d) for d in self.media_dirs))
        object.__setattr__(self, "media_files", tuple(_canonical(f) for f in self.media_files))

    @classmethod
    def of(
        cls,
        *,
        media_dirs: Iterable[Path] = (),
        media_files: Iterable[Path] = (),
        allow_networks: str = "0.0.0.0/0,::/0",
        deny_networks: str = "",
        resolve: Resolver = resolve_host,
    ) -> SourcePolicy:
        """A policy from settings' text (comma-separated networks)."""
        return cls(
            tuple(media_dirs),
            tuple(media_files),
            parse_networks(allow_networks),
            parse_networks(deny_networks),
            resolve,
        )

    def check(self, target: str, *, unresolved_ok: bool = False) -> str:
        """Return what to open for ``target`` if the policy allows it.

        A network URL is returned as it is, once its host's addresses passed;
        a local path (or ``file://`` URL) comes back canonical, so that what is
        opened is what was checked.

        Args:
            target: The stream URL or path, without credentials.
            unresolved_ok: Let a host name that does not resolve pass (when a
                camera is saved, or its pipeline starts: it is checked again at
                every start, and the source reports the failure itself).

        Raises:
            SourceOpenError: The policy refuses the target.
        """
        parts = urlsplit(target)
        scheme = parts.scheme.lower()
        if scheme in LIVE_SCHEMES:
            self.check_host(target, unresolved_ok=unresolved_ok)
            return target
        if scheme == "file":
            return str(self.check_path(unquote(parts.path), shown=target))
        return str(self.check_path(target))

    def check_path(self, path: str, *, shown: str | None = None) -> Path:
        """The canonical form of ``path`` if it is a readable file or directory allowed here.

        Raises:
            SourceOpenError: With the same text whatever the reason.
        """
        refused = SourceOpenError(f"{shown or path}: {REFUSED}")
        try:
            real = Path(os.path.realpath(path, strict=True))
            mode = real.stat().st_mode
        except (OSError, ValueError, RuntimeError):
            raise refused from None
        inside = real in self.media_files or any(real.is_relative_to(d) for d in self.media_dirs)
        # Devices and pipes are refused too: reading one may block or never end.
        kind_ok = stat.S_ISREG(mode) or stat.S_ISDIR(mode)
        if not (inside and kind_ok and os.access(real, os.R_OK)):
            raise refused
        return real

    def check_host(self, url: str, *, unresolved_ok: bool = False) -> None:
        """Check that every address of ``url``'s host is allowed.

        Raises:
            SourceOpenError: No host, an unresolvable name (unless
                ``unresolved_ok``), or an address in a refused network.
        """
        shown = redact_url(url)
        try:
            host = urlsplit(url).hostname
        except ValueError as exc:
            raise SourceOpenError(f"{shown}: not a valid URL") from exc
        if not host:
            raise SourceOpenError(f"{shown}: the URL names no host")
        try:
            addresses = self.resolve(host)
        except (OSError, UnicodeError) as exc:
            if unresolved_ok:
                return
            raise SourceOpenError(f"{shown}: the host name {host!r} does not resolve") from exc
        for text in addresses:
            address = _address(text)
            if address is None or not self.allows(address):
                raise SourceOpenError(
                    f"{shown}: {host} resolves to {text}, in a network cameras may not use "
                    "(ARGUS_CAMERA_ALLOW_NETWORKS, ARGUS_CAMERA_DENY_NETWORKS)"
                )

    def pin(self, host: str) -> str:
        """The address to connect to for ``host``, once every address of it passed.

        HTTP sources call it for every connection they open, the first one, a
        reconnection and each redirect alike, and connect to the address it
        returns: a camera that redirects to a denied host, or a name whose DNS
        answer changed since the camera was saved, is refused there.

        Raises:
            SourceOpenError: The host does not resolve, or an address of it is refused.
        """
        try:
            addresses = self.resolve(host)
        except (OSError, UnicodeError) as exc:
            raise SourceOpenError(f"the host name {host!r} does not resolve") from exc
        if not addresses:
            raise SourceOpenError(f"the host name {host!r} does not resolve")
        for text in addresses:
            address = _address(text)
            if address is None or not self.allows(address):
                raise SourceOpenError(
                    f"{host} resolves to {text}, in a network cameras may not use "
                    "(ARGUS_CAMERA_ALLOW_NETWORKS, ARGUS_CAMERA_DENY_NETWORKS)"
                )
        return addresses[0]

    def allows(self, address: Address) -> bool:
        """Whether ``address`` is in an allowed network and in no denied one."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            # ::ffff:127.0.0.1 reaches 127.0.0.1: judge it as the IPv4 address it is.
            address = address.ipv4_mapped
        return _within(address, self.allow_networks) and not _within(address, self.deny_networks)


def _within(address: Address, networks: Iterable[Network]) -> bool:
    return any(address in net for net in networks if net.version == address.version)


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.partition("%")[0])
    except ValueError:
        return None
