"""Reading the Labels API's ``multipart/form-data`` answer with the standard library's MIME
parser (RFC 7578 bodies are MIME multiparts; no string splitting on boundaries).

Labels 3.9.13, ``POST /label`` 200: parts named ``labelMetadata`` (JSON) and ``labelImage``
(and, on request, ``receiptImage``, ``returnLabel*``, ``labelBrokerQR``). The spec says to
ignore each image part's Content-Transfer-Encoding and Content-Encoding headers: the contents
are always Base64 text, which is decoded here.
"""

from __future__ import annotations

import base64
import binascii
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser


class MultipartError(ValueError):
    """The body is not the multipart the Content-Type announces, or a part is malformed."""


def parse_form_data(content_type: str, body: bytes) -> dict[str, bytes]:
    """Part name (``Content-Disposition: form-data; name=...``) -> the part's raw bytes."""
    if not content_type.lower().startswith("multipart/"):
        raise MultipartError(f"expected a multipart answer, got {content_type or 'no type'}")
    # Content-Type is a single header line; refuse folded or smuggled extra headers.
    if "\r" in content_type or "\n" in content_type:
        raise MultipartError("malformed Content-Type header")
    head = f"MIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        raise MultipartError("the multipart body has no parts (missing or wrong boundary)")
    if message.defects:
        raise MultipartError(f"malformed multipart body: {type(message.defects[0]).__name__}")
    parts: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            continue  # a part without a form-data name carries nothing the spec defines
        payload = part.get_payload(decode=False)
        if not isinstance(payload, str):
            raise MultipartError(f"part {name} is itself a multipart")
        # The parser keeps undecodable bytes as surrogates; turn them back into the bytes sent.
        parts[name] = payload.encode("ascii", errors="surrogateescape")
    return parts


def decode_base64(name: str, raw: bytes) -> bytes:
    """An image part's Base64 text as the image bytes."""
    compact = b"".join(raw.split())
    if not compact:
        raise MultipartError(f"part {name} is empty")
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise MultipartError(f"part {name} is not Base64 text") from None
