"""Sandbox carrier: rates by zone and billable weight, idempotent label purchase with PDF/ZPL
labels, voids until the first scan, and deterministic tracking on a compressed clock."""

from plugins.carriers.sandbox.plugin import SandboxCarrier
from plugins.carriers.sandbox.settings import SandboxCarrierSettings
from plugins.carriers.sandbox.store import Charge

__all__ = ["Charge", "SandboxCarrier", "SandboxCarrierSettings"]
