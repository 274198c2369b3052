"""The customs declaration a parcel leaving the EU customs union travels with, as a CN 23 style
A4 PDF (the UPU form for postal items over 300 SDR; couriers print their own equivalent).

It carries what customs asks of every commodity line (description, quantity, net weight,
value, HS tariff number, country of origin), the category of the contents, the Incoterm, the
invoice number and the parcels' tracking numbers, then the sender's certification.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from hub.domain.customs import Customs
from hub.domain.messages import LabelRequest
from hub.domain.money import Money
from plugins.carriers.sandbox.documents import address_lines

COLUMNS = ("Detailed description", "Qty", "Net kg", "Value", "HS tariff no.", "Origin")


def render_cn23(request: LabelRequest, customs: Customs, tracking_numbers: Sequence[str]) -> bytes:
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    buffer = io.BytesIO()
    # invariant: no creation date or random id in the file, so equal forms are equal bytes.
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        invariant=True,
        pageCompression=0,  # a page or two of text: plain streams stay small and searchable
        title="CN 23 customs declaration",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    gross_grams = sum(parcel.weight_grams for parcel in request.parcels)
    story = [
        Paragraph("CN 23 &nbsp; CUSTOMS DECLARATION &nbsp; (Sandbox carrier)", styles["Title"]),
        _parties(request, small),
        Spacer(1, 4 * mm),
        Paragraph(
            f"Category of item: <b>{customs.contents.value.replace('_', ' ')}</b> &nbsp; "
            f"Incoterm: <b>{customs.incoterm.value}</b> &nbsp; "
            f"Invoice no.: <b>{customs.invoice_number or request.shipment_id}</b>",
            small,
        ),
        Paragraph(f"Item(s): {', '.join(tracking_numbers)}", small),
        Spacer(1, 3 * mm),
        _items(customs, small),
        Spacer(1, 3 * mm),
        Paragraph(
            f"Total gross weight: <b>{gross_grams / 1000:.3f} kg</b> &nbsp; "
            f"Total value: <b>{_money(customs.total_value)}</b> &nbsp; "
            f"Postal charges/fees: <b>{_charges(customs)}</b>",
            small,
        ),
        Spacer(1, 8 * mm),
        Paragraph(
            "I, the undersigned, certify that the particulars given in this declaration are "
            "correct and that this item does not contain any dangerous article or articles "
            "prohibited by legislation or by postal or customs regulations.",
            small,
        ),
        Spacer(1, 10 * mm),
        Paragraph(
            f"Date: {request.ship_date.date().isoformat()} &nbsp;&nbsp; "
            f"Sender's signature: ______________________ ({request.ship_from.name})",
            small,
        ),
    ]
    document.build(story)
    return buffer.getvalue()


def _parties(request: LabelRequest, style: object) -> Table:
    sender = "<br/>".join(_escape(line) for line in address_lines(request.ship_from))
    recipient = "<br/>".join(_escape(line) for line in address_lines(request.ship_to))
    table = Table(
        [
            [Paragraph("<b>From</b>", style), Paragraph("<b>To</b>", style)],
            [Paragraph(sender, style), Paragraph(recipient, style)],
        ],
        colWidths=[90 * mm, 90 * mm],
    )
    table.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.5, colors.black)]))
    return table


def _items(customs: Customs, style: object) -> Table:
    rows: list[list[object]] = [[Paragraph(f"<b>{c}</b>", style) for c in COLUMNS]]
    for item in customs.items:
        rows.append(
            [
                Paragraph(_escape(item.description), style),
                str(item.quantity),
                f"{item.unit_weight_grams * item.quantity / 1000:.3f}",
                _money(item.total_value),
                item.hs_code,
                item.origin_country,
            ]
        )
    widths = [70 * mm, 12 * mm, 18 * mm, 30 * mm, 28 * mm, 22 * mm]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
            ]
        )
    )
    return table


def _charges(customs: Customs) -> str:
    charges = customs.shipping_charges
    return _money(charges) if charges else "none"


def _money(value: Money) -> str:
    return f"{value.amount:.2f} {value.currency}"


def _escape(text: str) -> str:
    """Paragraphs read a little markup: names such as "Smith & Sons" must print as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
