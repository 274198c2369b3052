"""Checks over the workflows a test run left on a Temporal server.

A failed workflow task is invisible to a test that only waits for a result: the SDK retries it
(forever, for a bug), so an order can pass a test while its history says the worker crashed on
it. `failed_workflow_tasks` reads every history; the session's dev server runs it after the last
test (tests/conftest.py), and a time-skipping environment can run it too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus

# Workflows of the guard's own self-test (tests/integration/test_guards.py) fail on purpose; the
# session guard skips them only once they are terminated, so a self-test that leaves one running
# still trips it. Nothing in the hub starts a workflow with this id prefix.
SELFTEST_PREFIX = "guard-selftest-"
# Set by the server (a keyword list such as "category=WorkflowTaskFailed") once a run's task
# has failed several times in a row; a run whose history shows no failed task still counts.
REPORTED_PROBLEMS = "TemporalReportedProblems"
FAILED = EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
MESSAGE_CHARS = 300  # the first line of a failure is enough to find it; stack traces are not


@dataclass(frozen=True, order=True)
class Problem:
    """One failed workflow task (or the server's report of some) in one workflow run."""

    workflow_id: str
    run_id: str
    workflow_type: str
    status: str
    cause: str
    message: str
    event_id: int | None = None  # None when only TemporalReportedProblems says so

    def __str__(self) -> str:
        where = f"event {self.event_id}" if self.event_id is not None else "search attribute"
        return (
            f"{self.workflow_id} (run {self.run_id}, {self.workflow_type}, {self.status}), "
            f"{where}: {self.cause}: {self.message}"
        )


async def failed_workflow_tasks(client: Client, query: str | None = None) -> list[Problem]:
    """Every failed workflow task in the runs `query` lists (all of the namespace by default)."""
    return await _check(client, [run async for run in client.list_workflows(query)])


async def failed_tasks_of_workflows(client: Client, workflow_ids: Iterable[str]) -> list[Problem]:
    """The same for the latest run of each named workflow, for a server that cannot list them
    (the time-skipping test server implements no visibility API)."""
    runs = [await client.get_workflow_handle(wid).describe() for wid in workflow_ids]
    return await _check(client, runs)


async def _check(
    client: Client, runs: Sequence[WorkflowExecution], concurrency: int = 16
) -> list[Problem]:
    limit = asyncio.Semaphore(concurrency)

    async def check(run: WorkflowExecution) -> list[Problem]:
        async with limit:
            return await failed_tasks_of_run(client, run)

    found = await asyncio.gather(*(check(run) for run in runs))
    return sorted(problem for problems in found for problem in problems)


async def failed_tasks_of_run(client: Client, run: WorkflowExecution) -> list[Problem]:
    history = await client.get_workflow_handle(run.id, run_id=run.run_id).fetch_history()
    status = run.status.name if run.status is not None else "UNKNOWN"

    def problem(cause: str, message: str, event_id: int | None = None) -> Problem:
        first_line = message.strip().splitlines()[0] if message.strip() else "(no message)"
        return Problem(
            run.id,
            run.run_id,
            run.workflow_type,
            status,
            cause,
            first_line[:MESSAGE_CHARS],
            event_id,
        )

    problems: list[Problem] = []
    for event in history.events:
        if event.event_type != FAILED:
            continue
        failed = event.workflow_task_failed_event_attributes
        kind = failed.failure.application_failure_info.type
        message = f"{kind}: {failed.failure.message}" if kind else failed.failure.message
        cause = WorkflowTaskFailedCause.Name(failed.cause).removeprefix(
            "WORKFLOW_TASK_FAILED_CAUSE_"
        )
        problems.append(problem(cause, message, event.event_id))
    reported = next(
        (v for k, v in run.typed_search_attributes if k.name == REPORTED_PROBLEMS), None
    )
    if reported and not problems:
        problems.append(problem(REPORTED_PROBLEMS, str(reported)))
    return problems


def is_finished_selftest(problem: Problem) -> bool:
    return (
        problem.workflow_id.startswith(SELFTEST_PREFIX)
        and problem.status == WorkflowExecutionStatus.TERMINATED.name
    )


def report(problems: Iterable[Problem]) -> str:
    lines = [str(p) for p in problems]
    return f"{len(lines)} failed workflow task(s) in the workflows these tests ran:\n" + "\n".join(
        f"  {line}" for line in lines
    )
