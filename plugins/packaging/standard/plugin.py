"""The standard packaging plugin: right-sized boxes from a catalogue, priced with CO2e.

The hook is a plain function (pure computation); the host runs it in a worker thread.
"""

from __future__ import annotations

import logging

from hub.domain.messages import PackagingOption, PackagingRequest
from hub.hookspecs import hookimpl
from hub.plugin import Family, HubPlugin
from plugins.packaging.standard.options import packaging_options, unplaceable_skus
from plugins.packaging.standard.settings import StandardPackagingSettings

log = logging.getLogger(__name__)


class StandardPackaging(HubPlugin[StandardPackagingSettings]):
    """Standard, eco and (on opt-in) minimal packaging from a configurable box catalogue."""

    family = Family.PACKAGING
    name = "standard"
    settings_model = StandardPackagingSettings

    @hookimpl
    def packaging_options(self, request: PackagingRequest) -> list[PackagingOption]:
        options = packaging_options(request, self.settings)
        if not options and request.items:
            # No option is an answer, not an error: another packaging plugin may still fit.
            log.warning(
                "shipment %s: no box in the catalogue holds %s",
                request.shipment_id,
                ", ".join(unplaceable_skus(request, self.settings)) or "these items together",
            )
        return options
