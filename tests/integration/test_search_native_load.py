"""usearch, sqlite-vec, aiosqlite and ONNX Runtime load together without a crash.

usearch's extension carries its own static C++ runtime; ONNX Runtime loaded
after it (on any thread) crashed the process in ``std::codecvt`` until
``argus.adapters.search`` began sharing the system runtime first. A crash
kills the interpreter, so each check runs in a fresh process and asserts
that it exits 0.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from argus.adapters.search import sqlite_vec_available

_ORT_ON_A_THREAD = textwrap.dedent(
    """
    import threading
    import argus.adapters.search.usearch_index  # usearch first, as a server may

    def load():
        import onnxruntime
        onnxruntime.get_available_providers()

    thread = threading.Thread(target=load)
    thread.start()
    thread.join()
    print("loaded")
    """
)

_ENCODE_BESIDE_INDEXES = textwrap.dedent(
    """
    import asyncio
    import sys
    from pathlib import Path

    import aiosqlite

    from argus.bootstrap.search import open_vector_index, text_encoder
    from argus.config import Settings

    async def main(directory: Path) -> None:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{directory}/argus.db", data_dir=directory
        )
        database = await aiosqlite.connect(str(directory / "argus.db"))
        await database.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
        await database.commit()
        encoder = text_encoder(settings)
        index = await open_vector_index(settings, dim=encoder.dim, namespace=encoder.model_ref)
        vectors = await asyncio.to_thread(encoder.encode, ["a person at the gate", "a red car"])
        await index.upsert([1, 2], vectors)
        hits = await index.search(vectors[0], 2)
        await index.close()
        await database.close()
        assert hits[0][0] == 1, hits
        print("encoded", type(index).__name__)

    asyncio.run(main(Path(sys.argv[1])))
    """
)


def _run(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.mark.parametrize("attempt", range(2))
def test_onnxruntime_loads_on_a_thread_after_usearch(attempt: int) -> None:
    result = _run(_ORT_ON_A_THREAD)
    assert result.returncode == 0, f"attempt {attempt}: rc {result.returncode}\n{result.stderr}"
    assert "loaded" in result.stdout


def test_encoder_on_a_thread_beside_sqlite_vec_and_aiosqlite(tmp_path: Path) -> None:
    reason = sqlite_vec_available()
    if reason is not None:
        pytest.skip(reason)
    result = _run(_ENCODE_BESIDE_INDEXES, str(tmp_path))
    assert result.returncode == 0, f"rc {result.returncode}\n{result.stderr}"
    assert "encoded SqliteVecIndex" in result.stdout
