"""Customer message templates, one subject and one plain-text body per notice kind.

Kept as Python strings rather than package data so they ship with the code in every install.
Bodies extend ``base.txt`` (greeting and sign-off). Templates see the order reference, the
customer's name, the shop name (may be empty) and the notice's facts (missing ones are empty
strings); any other name is an error (StrictUndefined), so a typo fails the tests, not a
customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jinja2 import DictLoader, Environment, StrictUndefined, select_autoescape

from hub.domain.messages import CustomerNotice, NoticeKind

FACTS = (
    "carrier",
    "carrier_name",
    "tracking_number",
    "tracking_url",
    "eta",
    "reason",
    "status",
    "description",
    "parcel",
    "ship_date",
)
"""Facts the workflows put in notices (``carrier_name`` when they know it; ``carrier`` is the
plugin key; ``parcel``, e.g. "2 of 3", for a shipment of several parcels); templates may use
each, present or not."""

_BASE = """\
Hello{% if customer_name %} {{ customer_name }}{% endif %},

{% block content %}{% endblock %}


Thank you for shopping with us.
{% if shop_name %}
{{ shop_name }}
{% endif %}
"""

_TRACKING = """\
{% if parcel %}
Parcel {{ parcel }} of this shipment.
{% endif %}
{% if tracking_number %}
Tracking number: {{ tracking_number }}{% if carrier %} ({{ carrier_name or carrier }}){% endif %}

{% endif %}
{% if tracking_url %}
Follow your parcel: {{ tracking_url }}
{% endif %}
"""

_SUBJECTS = {
    NoticeKind.ORDER_ON_HOLD: "Your order {{ order_ref }} is on hold",
    NoticeKind.SHIP_DATE: "Your pre-order {{ order_ref }} ships from {{ ship_date | day }}",
    NoticeKind.SHIPPED: "Your order {{ order_ref }} is on its way",
    NoticeKind.OUT_FOR_DELIVERY: "Your parcel for order {{ order_ref }} arrives today",
    NoticeKind.DELAYED: "Your parcel for order {{ order_ref }} is running late",
    NoticeKind.DELIVERY_FAILED: "We could not deliver your parcel for order {{ order_ref }}",
    NoticeKind.DELIVERED: "{% if parcel %}Parcel {{ parcel }} of your order {{ order_ref }} "
    "has been delivered{% else %}Your order {{ order_ref }} has been delivered{% endif %}",
    NoticeKind.REVIEW_INVITATION: "How was your order {{ order_ref }}?",
    NoticeKind.CANCELLED: "Your order {{ order_ref }} has been cancelled",
}

_CONTENT = {
    NoticeKind.ORDER_ON_HOLD: """\
We have paused your order {{ order_ref }}{% if reason %} because {{ reason }}{% endif %}.
We will be in touch, or reply to this message if you can help us sort it out.""",
    NoticeKind.SHIP_DATE: """\
Thank you for your pre-order {{ order_ref }}. It ships from {{ ship_date | day }}, the day
it is released; we will tell you again if that date moves.""",
    NoticeKind.SHIPPED: """\
Your order {{ order_ref }} has left our warehouse
{%- if carrier %} with {{ carrier_name or carrier }}{% endif %}.
{% if eta %}
Expected delivery: {{ eta | day }}.
{% endif %}

{% include "tracking.txt" %}""",
    NoticeKind.OUT_FOR_DELIVERY: """\
Your parcel for order {{ order_ref }} is out for delivery today.

{% include "tracking.txt" %}""",
    NoticeKind.DELAYED: """\
Your parcel for order {{ order_ref }} is taking longer than we promised, sorry.
{% if description %}
Latest news from the carrier: {{ description }}
{% endif %}
{% if reason %}
Reason: {{ reason }}
{% endif %}
{% if eta %}
New expected delivery: {{ eta | day }}.
{% endif %}

{% include "tracking.txt" %}""",
    NoticeKind.DELIVERY_FAILED: """\
The carrier could not deliver your parcel for order {{ order_ref }}.
{% if description %}
What they told us: {{ description }}
{% endif %}
{% if reason %}
Reason: {{ reason }}
{% endif %}
The tracking page says when they will try again or where to collect it.

{% include "tracking.txt" %}""",
    NoticeKind.DELIVERED: """\
{% if parcel %}Parcel {{ parcel }} of your order {{ order_ref }} has been delivered.
{% else %}Your order {{ order_ref }} has been delivered. We hope you enjoy it.
{% endif %}
If something is wrong, reply to this message and we will put it right.""",
    NoticeKind.REVIEW_INVITATION: """\
Your order {{ order_ref }} arrived a little while ago. How did we do?
Reply to this message with a line or two: we read every answer.""",
    NoticeKind.CANCELLED: """\
Your order {{ order_ref }} has been cancelled{% if reason %}: {{ reason }}{% endif %}.
If you did not expect this, reply to this message and we will look into it.""",
}


def _day(value: str) -> str:
    """An ISO timestamp as people read a date ("Tuesday 3 March 2026"); other text unchanged."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return value
    return f"{when:%A} {when.day} {when:%B %Y}"


def _templates() -> dict[str, str]:
    templates = {"base.txt": _BASE, "tracking.txt": _TRACKING}
    for kind in NoticeKind:
        templates[f"{kind.value}.subject.txt"] = _SUBJECTS[kind]
        body = f'{{% extends "base.txt" %}}{{% block content %}}{_CONTENT[kind]}{{% endblock %}}'
        templates[f"{kind.value}.body.txt"] = body
    return templates


_ENV = Environment(
    loader=DictLoader(_templates()),
    undefined=StrictUndefined,
    # Plain-text email: HTML escaping would turn "&" in a carrier message into "&amp;".
    autoescape=select_autoescape(enabled_extensions=("html", "htm", "xml")),
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["day"] = _day


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def render(notice: CustomerNotice, shop_name: str | None = None) -> Rendered:
    context = {name: notice.facts.get(name, "") for name in FACTS}
    context |= {
        # The order number the customer knows: the channel's id, without the hub's prefix.
        "order_ref": notice.order_key.partition(":")[2] or notice.order_key,
        "customer_name": notice.recipient.name,
        "shop_name": shop_name or "",
    }
    subject = _ENV.get_template(f"{notice.kind.value}.subject.txt").render(context)
    body = _ENV.get_template(f"{notice.kind.value}.body.txt").render(context)
    # One line, whatever a fact holds: a line break in a subject would start a new header.
    return Rendered(subject=" ".join(subject.split()), body=_tidy(body))


def _tidy(body: str) -> str:
    """No trailing spaces, at most one blank line in a row, one newline at the end."""
    lines = [line.rstrip() for line in body.strip().splitlines()]
    kept = [line for i, line in enumerate(lines) if line or (i > 0 and lines[i - 1])]
    return "\n".join(kept) + "\n"
