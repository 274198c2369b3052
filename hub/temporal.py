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
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from hub.activities.orders import OrderActivities
from hub.documents import LocalDocumentStore
from hub.host import PluginHost
from hub.settings import HubSettings
from hub.workflows.order import SEARCH_ATTRIBUTES, OrderWorkflow
from hub.workflows.tracking import ShipmentTrackingWorkflow

log = logging.getLogger(__name__)

WORKFLOWS: Sequence[type] = (OrderWorkflow, ShipmentTrackingWorkflow)
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
    )


def build_worker(client: Client, settings: HubSettings, host: PluginHost) -> Worker:
    activities = build_activities(settings, host)
    return Worker(
        client,
        task_queue=settings.temporal.task_queue,
        workflows=list(WORKFLOWS),
        activities=activities.all(),  # type: ignore[arg-type]
        max_concurrent_activities=settings.worker.max_concurrent_activities,
        max_concurrent_local_activities=settings.worker.max_concurrent_activities,
        max_concurrent_workflow_tasks=settings.worker.max_concurrent_workflow_tasks,
    )
