"""The session guard (tests/guards.py) sees a failed workflow task and fails the run for it."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from temporalio import workflow
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from hub.devserver import DevServer
from tests.conftest import ROOT
from tests.guards import (
    SELFTEST_PREFIX,
    Problem,
    failed_tasks_of_workflows,
    failed_workflow_tasks,
    is_finished_selftest,
)

pytestmark = pytest.mark.integration

T = TypeVar("T")
CRASH = "guard self-test: workflow code crashed"


@workflow.defn(name="GuardSelftestBroken", sandboxed=False)
class BrokenWorkflow:
    """Its workflow task raises a plain exception (not an ApplicationError): the task fails and
    the server retries it until the workflow is terminated."""

    @workflow.run
    async def run(self) -> None:
        raise RuntimeError(CRASH)


async def wait_for(
    check: Callable[[], Awaitable[T | None]], *, what: str, timeout: float = 30
) -> T:
    deadline = time.monotonic() + timeout
    while (found := await check()) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout} s")
        await asyncio.sleep(0.1)
    return found


@dataclass(frozen=True)
class Seen:
    """What the guard reported on a BrokenWorkflow run."""

    running: list[Problem]
    by_id: list[Problem]  # the same, found by workflow id instead of by listing
    terminated: list[Problem]


async def crash_and_terminate(address: str, workflow_id: str) -> Seen:
    """Run BrokenWorkflow until the guard reports its failed task, then terminate it."""
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    query = f"WorkflowId = '{workflow_id}'"

    async def reported(status: str) -> list[Problem] | None:
        problems = await failed_workflow_tasks(client, f"{query} AND ExecutionStatus = '{status}'")
        return problems or None

    task_queue = f"guard-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=task_queue, workflows=[BrokenWorkflow]):
        handle = await client.start_workflow(
            BrokenWorkflow.run, id=workflow_id, task_queue=task_queue
        )
        running = await wait_for(lambda: reported("Running"), what="failed task reported")
        by_id = await failed_tasks_of_workflows(client, [workflow_id])
        await handle.terminate("guard self-test done")
    # Visibility is eventually consistent: wait until the session guard, which lists, sees the
    # termination too.
    terminated = await wait_for(lambda: reported("Terminated"), what="terminated run listed")
    return Seen(running, by_id, terminated)


async def test_the_guard_reports_a_failed_workflow_task(temporal_server: DevServer) -> None:
    workflow_id = f"{SELFTEST_PREFIX}{uuid.uuid4().hex[:8]}"

    seen = await crash_and_terminate(temporal_server.address, workflow_id)

    (problem,) = seen.running
    assert (problem.workflow_id, problem.workflow_type) == (workflow_id, "GuardSelftestBroken")
    assert problem.cause == "WORKFLOW_WORKER_UNHANDLED_FAILURE"
    assert problem.message == f"RuntimeError: {CRASH}"
    assert problem.event_id is not None
    assert seen.by_id == seen.running
    assert not is_finished_selftest(problem), "a running self-test workflow still counts"
    assert [p.status for p in seen.terminated] == ["TERMINATED"]
    assert is_finished_selftest(seen.terminated[0]), "the session guard skips it now"


INNER_TEST = """
from tests.integration.test_guards import crash_and_terminate


async def test_leaves_failed_workflow_tasks(temporal_server):
    await crash_and_terminate(temporal_server.address, {skipped!r})
    await crash_and_terminate(temporal_server.address, {reported!r})
"""
INNER_INI = """[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = session
asyncio_default_test_loop_scope = session
filterwarnings = error
markers = integration
"""


async def test_a_failed_workflow_task_fails_the_whole_run(tmp_path: Path) -> None:
    """A passing test that leaves a failed workflow task behind: the pytest run exits non-zero
    and names the workflow and its error, and only that one: the terminated self-test workflow
    is skipped."""
    skipped = f"{SELFTEST_PREFIX}{uuid.uuid4().hex[:8]}"
    reported = f"guard-e2e-{uuid.uuid4().hex[:8]}"  # terminated too, but not a self-test
    (tmp_path / "pytest.ini").write_text(INNER_INI)
    (tmp_path / "conftest.py").write_text("from tests.conftest import temporal_server  # noqa\n")
    (tmp_path / "test_inner.py").write_text(INNER_TEST.format(skipped=skipped, reported=reported))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "test_inner.py",
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": str(Path(sys.executable).parent)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=180)
    text = out.decode()

    assert proc.returncode == pytest.ExitCode.TESTS_FAILED, text
    assert "1 passed, 1 error" in text, text
    header = "1 failed workflow task(s) in the workflows these tests ran:\n"
    assert header in text, text
    (listed, *_) = text.split(header, 1)[1].splitlines()  # the worker's own logs follow
    assert listed.startswith(f"  {reported} (run "), text
    assert listed.endswith(f"WORKFLOW_WORKER_UNHANDLED_FAILURE: RuntimeError: {CRASH}"), text
