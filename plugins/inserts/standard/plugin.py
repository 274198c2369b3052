"""The standard inserts plugin: cards and flyers by configurable rules (see rules.py)."""

from __future__ import annotations

from hub.domain.messages import Insert, InsertRequest
from hub.hookspecs import hookimpl
from hub.plugin import Family, HubPlugin
from plugins.inserts.standard.rules import inserts_for
from plugins.inserts.standard.settings import StandardInsertsSettings


class StandardInserts(HubPlugin[StandardInsertsSettings]):
    """Thank-you card, return guide, gift note, coupon card and new-season flyer."""

    family = Family.INSERTS
    name = "standard"
    settings_model = StandardInsertsSettings

    @hookimpl
    def inserts_for_order(self, request: InsertRequest) -> list[Insert]:
        return inserts_for(request, self.settings)
