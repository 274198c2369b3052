"""Shipping label documents: a 4x6 in PDF (reportlab) or ZPL II for 203 dpi thermal printers.

One page (PDF) or one ``^XA...^XZ`` format (ZPL) per parcel, each with sender, recipient,
service, references and a Code 128 barcode of the parcel's tracking number.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas

from hub.domain.address import Address
from hub.domain.messages import LabelRequest
from hub.domain.shipment import LabelFormat

PAGE_WIDTH, PAGE_HEIGHT = 4 * inch, 6 * inch
MARGIN = 12.0
ZPL_DOTS_PER_INCH = 203
FORMATS = (LabelFormat.PDF, LabelFormat.ZPL)
"""What the sandbox prints, for any number of parcels (one page or format per parcel)."""


@dataclass(frozen=True)
class LabelContent:
    """What is printed on one parcel's label."""

    service_name: str
    tracking_number: str
    parcel_number: int
    parcel_count: int
    weight_grams: int
    sender: Address
    recipient: Address
    reference: str
    ship_date: str
    eco_option: str | None = None
    """Printed as a service mark, as DHL prints GoGreen on its labels."""


def contents(
    request: LabelRequest, service_name: str, tracking_numbers: Sequence[str]
) -> list[LabelContent]:
    return [
        LabelContent(
            service_name=service_name,
            tracking_number=number,
            parcel_number=index,
            parcel_count=len(tracking_numbers),
            weight_grams=parcel.weight_grams,
            sender=request.ship_from,
            recipient=request.ship_to,
            reference=f"{request.order_reference} / {request.shipment_id}",
            ship_date=request.ship_date.date().isoformat(),
            eco_option=request.eco_option,
        )
        for index, (number, parcel) in enumerate(
            zip(tracking_numbers, request.parcels, strict=True), start=1
        )
    ]


def render(label_format: LabelFormat, labels: Sequence[LabelContent]) -> bytes:
    if label_format is LabelFormat.PDF:
        return render_pdf(labels)
    if label_format is LabelFormat.ZPL:
        return render_zpl(labels)
    raise ValueError(f"the sandbox carrier prints PDF or ZPL labels, not {label_format.value}")


def eco_mark(eco_option: str) -> str:
    return eco_option.replace("_", " ").upper()


def routing_code(address: Address) -> str:
    """Sort code printed large for the depot's sorters: country and postal-code district."""
    district = "".join(c for c in (address.postal_code or "") if c.isalnum())[:3]
    return f"{address.country} {district}".strip()


def address_lines(address: Address) -> list[str]:
    city = " ".join(part for part in (address.postal_code, address.city) if part)
    if address.region:
        city = f"{city} {address.region}"
    lines = [address.name, address.company, address.line1, address.line2, city, address.country]
    return [line for line in lines if line]


# ----------------------------------------------------------------------------- PDF


def render_pdf(labels: Sequence[LabelContent]) -> bytes:
    buffer = io.BytesIO()
    # invariant: no creation date or random id in the file, so equal labels are equal bytes.
    canvas = Canvas(buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), invariant=True)
    canvas.setTitle("Sandbox carrier shipping label")
    for label in labels:
        _pdf_page(canvas, label)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _pdf_page(canvas: Canvas, label: LabelContent) -> None:
    top = PAGE_HEIGHT - MARGIN
    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawString(MARGIN, top - 14, "SANDBOX CARRIER")
    canvas.setFont("Helvetica", 9)
    canvas.drawRightString(
        PAGE_WIDTH - MARGIN, top - 12, f"Parcel {label.parcel_number} of {label.parcel_count}"
    )
    canvas.setFont("Helvetica-Bold", 13)
    canvas.drawString(MARGIN, top - 34, label.service_name.upper())
    if label.eco_option:
        canvas.setFont("Helvetica-Bold", 9)
        canvas.drawRightString(PAGE_WIDTH - MARGIN, top - 32, eco_mark(label.eco_option))
    canvas.line(MARGIN, top - 42, PAGE_WIDTH - MARGIN, top - 42)

    y = _text_block(canvas, "FROM", address_lines(label.sender), top - 56, size=8)
    canvas.line(MARGIN, y - 4, PAGE_WIDTH - MARGIN, y - 4)
    y = _text_block(canvas, "SHIP TO", address_lines(label.recipient), y - 18, size=12)
    canvas.line(MARGIN, y - 4, PAGE_WIDTH - MARGIN, y - 4)

    canvas.setFont("Helvetica", 8)
    canvas.drawString(MARGIN, y - 18, f"Ref: {label.reference}")
    canvas.drawString(
        MARGIN, y - 28, f"Weight: {label.weight_grams / 1000:.2f} kg   Ship date: {label.ship_date}"
    )

    canvas.setFont("Helvetica-Bold", 36)
    canvas.drawCentredString(PAGE_WIDTH / 2, MARGIN + 110, routing_code(label.recipient))

    barcode = Code128(label.tracking_number, barHeight=60, barWidth=1.0, humanReadable=False)
    width = PAGE_WIDTH - 2 * MARGIN - 2 * barcode.lquiet
    barcode = Code128(
        label.tracking_number,
        barHeight=60,
        barWidth=min(1.4, width / barcode.width),
        humanReadable=False,
    )
    barcode.drawOn(canvas, (PAGE_WIDTH - barcode.width) / 2, MARGIN + 24)
    canvas.setFont("Helvetica-Bold", 12)
    canvas.drawCentredString(PAGE_WIDTH / 2, MARGIN + 8, _spaced(label.tracking_number))


def _text_block(canvas: Canvas, title: str, lines: list[str], y: float, *, size: int) -> float:
    canvas.setFont("Helvetica-Bold", 7)
    canvas.drawString(MARGIN, y, title)
    for line in lines:
        y -= size + 2
        # A long street or company name shrinks to fit rather than running off the label.
        width = canvas.stringWidth(line, "Helvetica", size)
        fitted = max(6.0, min(size, size * (PAGE_WIDTH - 2 * MARGIN) / width)) if width else size
        canvas.setFont("Helvetica", fitted)
        canvas.drawString(MARGIN, y, line)
    return y


def _spaced(tracking_number: str) -> str:
    """Grouped in fours, as carriers print them for people to read."""
    return " ".join(tracking_number[i : i + 4] for i in range(0, len(tracking_number), 4))


# ----------------------------------------------------------------------------- ZPL


def render_zpl(labels: Sequence[LabelContent]) -> bytes:
    return "".join(_zpl_format(label) for label in labels).encode("utf-8")


def _zpl_field(x: int, y: int, height: int, text: str) -> str:
    # Font 0 glyphs average about 0.6 x their height: shrink long lines to fit the label.
    room = 4 * ZPL_DOTS_PER_INCH - x - 30
    height = max(16, min(height, int(room / (0.6 * max(len(text), 1)))))
    # ^FH_ lets field data carry _XX hex escapes, so ^ and ~ in an address cannot end the field.
    return f"^FO{x},{y}^A0N,{height},{height}^FH_^FD{_zpl_escape(text)}^FS\n"


def _zpl_escape(text: str) -> str:
    return text.replace("_", "_5F").replace("^", "_5E").replace("~", "_7E")


def _zpl_format(label: LabelContent) -> str:
    width, height = 4 * ZPL_DOTS_PER_INCH, 6 * ZPL_DOTS_PER_INCH
    parts = [
        "^XA\n",
        "^CI28\n",  # field data is UTF-8
        f"^PW{width}\n^LL{height}\n",
        _zpl_field(30, 30, 45, "SANDBOX CARRIER"),
        _zpl_field(560, 40, 25, f"Parcel {label.parcel_number} of {label.parcel_count}"),
        _zpl_field(30, 90, 40, label.service_name.upper()),
        f"^FO30,140^GB{width - 60},3,3^FS\n",
        _zpl_field(30, 160, 22, "FROM"),
    ]
    if label.eco_option:
        parts.append(_zpl_field(560, 160, 22, eco_mark(label.eco_option)))
    y = 190
    for line in address_lines(label.sender):
        parts.append(_zpl_field(30, y, 24, line))
        y += 28
    parts.append(f"^FO30,{y + 6}^GB{width - 60},3,3^FS\n")
    y += 24
    parts.append(_zpl_field(30, y, 22, "SHIP TO"))
    y += 30
    for line in address_lines(label.recipient):
        parts.append(_zpl_field(30, y, 36, line))
        y += 42
    parts.append(f"^FO30,{y + 6}^GB{width - 60},3,3^FS\n")
    y += 24
    parts.append(_zpl_field(30, y, 24, f"Ref: {label.reference}"))
    weight = f"Weight: {label.weight_grams / 1000:.2f} kg   Ship date: {label.ship_date}"
    parts.append(_zpl_field(30, y + 30, 24, weight))
    parts.extend(
        [
            _zpl_field(250, height - 420, 90, routing_code(label.recipient)),
            # Code 128, 200 dots high, text line below, automatic subsets (digits packed in pairs).
            f"^FO60,{height - 300}^BY3^BCN,200,Y,N,N,A^FD{label.tracking_number}^FS\n",
            "^XZ\n",
        ]
    )
    return "".join(parts)
