"""Fixtures every test directory shares.

Async tests run on asyncio only (``@pytest.mark.anyio``): the server code is
asyncio, and trio would only double the run time. The fixture is session
scoped so module and session scoped async fixtures can use it too.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """The one event loop the async tests run on."""
    return "asyncio"
