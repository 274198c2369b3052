"""The dev server `hub dev`, `hub demo` and the tests run on."""

from __future__ import annotations

import pytest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client

from hub.devserver import NAMESPACE, RETENTION, DevServer

pytestmark = pytest.mark.integration


async def test_closed_workflows_are_kept_for_the_set_retention(temporal_server: DevServer):
    """`start-dev` itself keeps them 24 h; the hub sets its own retention at every start."""
    client = await Client.connect(temporal_server.address)
    answer = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=NAMESPACE)
    )
    assert answer.config.workflow_execution_retention_ttl.ToTimedelta() == RETENTION
