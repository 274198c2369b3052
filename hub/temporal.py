"""Connecting to Temporal and building the worker: the same code for `hub dev`, `hub worker`,
`hub demo` and the tests."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from hub.activities.orders import OrderActivities
from hub.activities.polling import PollingActivities
from hub.documents import LocalDocumentStore
from hub.host import PluginHost
from hub.intake import Intake
from hub.ledger import SqliteOrderLedger
from hub.noops import NoOpRecords
from hub.plugin import Family
from hub.pushes import PushBuffer
from hub.settings import HubSettings
from hub.workflows.order import SEARCH_ATTRIBUTES, OrderWorkflow
from hub.workflows.polling import ChannelPollerWorkflow
from hub.workflows.polling_contracts import PollerInput, poller_workflow_id
from hub.workflows.tracking import ShipmentTrackingWorkflow

log = logging.getLogger(__name__)

WORKFLOWS: Sequence[type] = (OrderWorkflow, ShipmentTrackingWorkflow, ChannelPollerWorkflow)
SEARCH_ATTRIBUTE_NAMES = tuple(key.name for key in SEARCH_ATTRIBUTES)
KEYWORD = IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD


async def connect(settings: HubSettings) -> Client:
    temporal = settings.temporal
    return await Client.connect(
        temporal.address,
        namespace=temporal.namespace,
        api_key=temporal.api_key.get_secret_value() if temporal.api_key else None,
        tls=temporal.tls,
        data_converter=pydantic_data_converter,
    )


async def ensure_search_attributes(client: Client, namespace: str) -> list[str]:
    """Register the hub's Keyword search attributes if missing; return the ones added."""
    service = client.operator_service
    existing = await service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    missing = [n for n in SEARCH_ATTRIBUTE_NAMES if n not in existing.custom_attributes]
    if missing:
        await service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=namespace,
                search_attributes=dict.fromkeys(missing, KEYWORD),
            )
        )
    return missing


def build_activities(settings: HubSettings, host: PluginHost) -> OrderActivities:
    return OrderActivities(
        host=host,
        documents=LocalDocumentStore(settings.data_dir / "documents"),
        carrier_rules=settings.carrier_choice,
        packing_rules=settings.packing,
        customs=settings.customs,
        label_format=settings.labels.format,
        pushes=PushBuffer.in_dir(settings.data_dir),
    )


def build_intake(client: Client, settings: HubSettings) -> Intake:
    data = settings.data_dir
    return Intake(
        client=client,
        task_queue=settings.temporal.task_queue,
        policy=settings.orders,
        problems_file=data / "intake-problems.jsonl",
        ledger=SqliteOrderLedger(data / "intake-ledger.sqlite3"),
        noops=NoOpRecords(data / "intake-noops.jsonl"),
    )


def build_worker(client: Client, settings: HubSettings, host: PluginHost) -> Worker:
    orders = build_activities(settings, host)
    polling = PollingActivities(host, build_intake(client, settings))
    return Worker(
        client,
        task_queue=settings.temporal.task_queue,
        workflows=list(WORKFLOWS),
        activities=[*orders.all(), *polling.all()],  # type: ignore[list-item]
        max_concurrent_activities=settings.worker.max_concurrent_activities,
        max_concurrent_local_activities=settings.worker.max_concurrent_activities,
        max_concurrent_workflow_tasks=settings.worker.max_concurrent_workflow_tasks,
    )


async def ensure_pollers(client: Client, settings: HubSettings, host: PluginHost) -> list[str]:
    """Make sure every enabled marketplace account has its poller running; return their ids.

    Safe to call from every worker at start-up: a running poller is left as it is.
    """
    if not settings.polling.enabled:
        return []
    ensured: list[str] = []
    for marketplace in host.names(Family.MARKETPLACES):
        for account in settings.polling.accounts.get(marketplace) or [
            _account_of(host, marketplace)
        ]:
            workflow_id = poller_workflow_id(marketplace, account)
            await client.start_workflow(
                ChannelPollerWorkflow.run,
                PollerInput(
                    marketplace=marketplace,
                    account=account,
                    config=settings.polling.schedule(),
                ),
                id=workflow_id,
                task_queue=settings.temporal.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                static_summary=f"poller of {marketplace}/{account}",
            )
            ensured.append(workflow_id)
    return ensured


def _account_of(host: PluginHost, marketplace: str) -> str:
    """The account a marketplace plugin serves (its `account` setting), else "default"."""
    account = getattr(host.plugin(Family.MARKETPLACES, marketplace).settings, "account", None)
    return account if isinstance(account, str) and account else "default"
