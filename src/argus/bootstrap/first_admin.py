"""The first admin of an empty installation, and the hand-over of its one-time password."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from argus.config import Settings
from argus.services.auth import AuthService

__all__ = ["FIRST_ADMIN_FILE", "create_first_admin"]

log = logging.getLogger(__name__)

FIRST_ADMIN_FILE = "first-admin-password.txt"
"""Where, in the data directory, the first admin's one-time password goes without a terminal."""


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to a new file only its owner can read (an old one is replaced)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


async def create_first_admin(auth: AuthService, settings: Settings) -> None:
    """Create the first admin on an empty installation and hand over its one-time password.

    On a terminal the password is shown on it. Otherwise stderr is a log (a
    service manager's journal, a redirected file), which many can read and
    which is kept: the password goes to a 0600 file in the data directory and
    only that file's path is written.
    """
    given = settings.admin_password.get_secret_value() if settings.admin_password else None
    one_time = await auth.ensure_admin(settings.admin_username, given)
    if one_time is None:
        return
    user = settings.admin_username
    if sys.stderr.isatty():
        sys.stderr.write(
            f"\nArgus: first start. Sign in as {user!r} with the one-time "
            f"password\n\n    {one_time}\n\nIt must be changed at first sign-in.\n\n"
        )
    else:
        path = settings.data_dir / FIRST_ADMIN_FILE
        _write_private(path, f"{one_time}\n")
        sys.stderr.write(
            f"\nArgus: first start. The one-time password of {user!r} is in {path} "
            "(readable by this account only). It must be changed at first sign-in; "
            "delete the file then.\n\n"
        )
    sys.stderr.flush()
    log.warning("created the first admin %r with a one-time password", user)
