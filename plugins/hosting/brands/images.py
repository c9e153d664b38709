"""Uploaded brand images: what is accepted and why.

Only raster formats, recognised by their first bytes (never by the file name or the type the
browser claims) and then opened by Pillow: SVG is refused because an SVG file can carry
script, and a file that only starts like a PNG is refused too. Sizes are limited in bytes and
pixels, so a small file cannot unpack into a huge picture.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from pyramid.i18n import TranslationStringFactory

from hashinsight_core.exceptions import InvalidInput

_ = TranslationStringFactory("hashinsight")

MAX_BYTES = {"logo": 512 * 1024, "favicon": 128 * 1024}
MAX_PIXELS = 4096
# first bytes -> (content type, the name Pillow gives the format)
MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "PNG"),
    (b"\xff\xd8\xff", "image/jpeg", "JPEG"),
    (b"\x00\x00\x01\x00", "image/x-icon", "ICO"),
)


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    content_type: str
    digest: str


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, Pillow format) from the first bytes, or None."""
    for magic, content_type, pil_format in MAGIC:
        if data.startswith(magic):
            return content_type, pil_format
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "WEBP"
    return None


def check_image(kind: str, data: bytes) -> CheckedImage:
    """The image if it may be stored; InvalidInput (422) naming the problem otherwise."""
    if kind not in MAX_BYTES:
        raise InvalidInput(_("kind must be logo or favicon"), "kind")
    if not data:
        raise InvalidInput(_("choose a file to upload"), "file")
    limit = MAX_BYTES[kind]
    if len(data) > limit:
        raise InvalidInput(
            _("the file is too big (at most ${size} KB)", mapping={"size": limit // 1024}), "file"
        )
    found = sniff(data)
    if found is None:
        raise InvalidInput(_("the file must be a PNG, JPEG, WebP or ICO image"), "file")
    content_type, pil_format = found
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != pil_format:
                raise InvalidInput(_("the file is not the image it claims to be"), "file")
            width, height = image.size
            if not (0 < width <= MAX_PIXELS and 0 < height <= MAX_PIXELS):
                raise InvalidInput(
                    _(
                        "the image must be at most ${size} x ${size} pixels",
                        mapping={"size": MAX_PIXELS},
                    ),
                    "file",
                )
            image.verify()
    except InvalidInput:
        raise
    except Exception:  # Pillow raises many kinds for broken files; all mean the same here
        raise InvalidInput(_("the file is not a readable image"), "file") from None
    return CheckedImage(data, content_type, hashlib.sha256(data).hexdigest())
