"""One time-skipping Temporal server for the workflow tests; a fresh worker and world per test.

A test that may leave a workflow task running forever (a workflow stuck in a loop) gets a
server of its own (`own_hub`): on the time-skipping server such a task keeps time from
skipping for everyone, even after its workflow is terminated.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeWorld
from tests.workflows.harness import Hub, open_hub, time_skipping_env


@pytest.fixture(scope="session")
async def workflow_env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_env() as env:
        yield env


@pytest.fixture
def world() -> FakeWorld:
    return FakeWorld()


@pytest.fixture
async def hub(workflow_env: WorkflowEnvironment, world: FakeWorld) -> AsyncIterator[Hub]:
    async with open_hub(workflow_env, world) as running:
        yield running


@pytest.fixture
async def own_hub(world: FakeWorld) -> AsyncIterator[Hub]:
    async with time_skipping_env() as env, open_hub(env, world) as running:
        yield running


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.workflows.test_order_properties import SEQUENCES_RUN

    if SEQUENCES_RUN:
        terminalreporter.write_line(
            f"order workflow properties: {len(SEQUENCES_RUN)} random sequences run "
            f"({sum(SEQUENCES_RUN)} steps at most)"
        )
