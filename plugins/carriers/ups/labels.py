"""Turn the per-package label images UPS returns into the one document the hub stores.

The Ship API renders labels as GIF, ZPL, EPL or SPL only (Shipping.yaml,
``LabelSpecification.LabelImageFormat.Code``: "For shipments without return service the valid
value is GIF, ZPL, EPL and SPL"). So PDF and PNG labels are asked for as GIF and converted
here: PDF as one page per package sized to the 6 x 4 in label stock, PNG as the package
images stacked top to bottom. ZPL documents are concatenated (each is a complete ``^XA...^XZ``).
"""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

from hub.domain.messages import LabelDocument
from hub.domain.shipment import LabelFormat
from hub.errors import PermanentError

LABEL_LONG_SIDE_INCHES = 6
"""UPS thermal and laser labels are 4 x 6 in (Shipping.yaml ``LabelStockSize``)."""


NATIVE_FORMATS = (LabelFormat.PDF, LabelFormat.ZPL, LabelFormat.PNG)
"""ZPL as UPS renders it, PDF and PNG converted from its GIF: for any number of packages."""


def label_formats(forced: LabelFormat | None) -> tuple[LabelFormat, ...]:
    """What a label can be bought in: ``[carriers.ups] label_format`` if set, else any."""
    return (forced,) if forced is not None else NATIVE_FORMATS


def ups_image_format(wanted: LabelFormat) -> str:
    """The ``LabelImageFormat.Code`` to ask UPS for."""
    return "ZPL" if wanted is LabelFormat.ZPL else "GIF"


def build_document(parts: list[tuple[str, bytes]], wanted: LabelFormat) -> LabelDocument:
    """``parts``: (UPS image format code, decoded image) per package, in package order."""
    if not parts:
        raise PermanentError("UPS label: no package label in the answer")
    codes = {code.upper() for code, _ in parts}
    expected = ups_image_format(wanted)
    if codes != {expected}:
        found = ", ".join(sorted(codes))
        raise PermanentError(f"UPS label: asked for {expected} images, got {found}")
    images = [content for _, content in parts]
    if wanted is LabelFormat.ZPL:
        content = b"\n".join(image.strip() for image in images) + b"\n"
    elif wanted is LabelFormat.PDF:
        content = _pdf(_open_all(images))
    else:
        content = _png(_open_all(images))
    return LabelDocument(label_format=wanted, content=content)


def _open_all(images: list[bytes]) -> list[Image.Image]:
    opened = []
    for number, data in enumerate(images, start=1):
        try:
            image = Image.open(io.BytesIO(data))
            image.load()
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
            raise PermanentError(
                f"UPS label: the image of package {number} cannot be decoded"
            ) from None
        opened.append(image.convert("L"))
    return opened


def _pdf(images: list[Image.Image]) -> bytes:
    # Keep UPS's orientation; size the page so the long side is 6 in, as the label stock.
    first, rest = images[0], images[1:]
    dpi = max(first.size) / LABEL_LONG_SIDE_INCHES
    out = io.BytesIO()
    first.save(out, format="PDF", resolution=dpi, save_all=True, append_images=rest)
    return out.getvalue()


def _png(images: list[Image.Image]) -> bytes:
    if len(images) == 1:
        sheet = images[0]
    else:
        width = max(image.width for image in images)
        sheet = Image.new("L", (width, sum(image.height for image in images)), color=255)
        top = 0
        for image in images:
            sheet.paste(image, (0, top))
            top += image.height
    out = io.BytesIO()
    sheet.save(out, format="PNG")
    return out.getvalue()
