"""Image dimensions from the header of an encoded image: pixels are never decoded.

Pillow's ``Image.open`` parses only the header (PNG IHDR, JPEG SOF including progressive
files, GIF logical screen, WebP VP8/VP8L/VP8X) and the EXIF block, so reading the size of a
20 MB image costs about as much as reading the size of a 2 KB one (bench/bench_images.py).
An EXIF orientation of 5-8 means the picture is shown rotated by 90 degrees, so width and
height swap, as they do for the model.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings
from typing import NamedTuple

# Explicit limits (docs/configuration.md): bigger payloads are rejected before decoding base64.
MAX_IMAGE_BYTES = 20 * 1024 * 1024
SUPPORTED_FORMATS = frozenset({"PNG", "JPEG", "GIF", "WEBP"})
_EXIF_ORIENTATION = 0x0112
_ROTATED_ORIENTATIONS = frozenset({5, 6, 7, 8})
_DATA_URL = re.compile(
    r"data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^;,]*)*?);base64,",
    re.ASCII | re.IGNORECASE,  # a URL's scheme, and a media type, are case-insensitive
)


class ImageError(ValueError):
    """The image cannot be used: the message says why, for a 400 naming the field."""


class ImageSize(NamedTuple):
    width: int
    height: int
    format: str  # "PNG", "JPEG", "GIF" or "WEBP"


def decode_data_url(url: str, max_bytes: int = MAX_IMAGE_BYTES) -> bytes:
    """The bytes of a base64 ``data:`` URL, refusing payloads over `max_bytes`."""
    match = _DATA_URL.match(url)
    if match is None:
        raise ImageError("The image data URL is not valid: expected 'data:<type>;base64,<data>'.")
    payload = url[match.end() :]
    if len(payload) // 4 * 3 > max_bytes:
        raise ImageError(f"The image is larger than the limit of {max_bytes} bytes.")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ImageError("The image data URL does not contain valid base64 data.") from None


def image_size(data: bytes) -> ImageSize:
    """Width and height as displayed (EXIF rotation applied), from the header only."""
    from PIL import Image, UnidentifiedImageError  # imported on first image: keeps start-up lean

    try:
        with warnings.catch_warnings():
            # Only the header is read, so a huge pixel count costs nothing here.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                fmt = image.format or ""
                width, height = image.size
                orientation = image.getexif().get(_EXIF_ORIENTATION) if fmt == "JPEG" else None
    except Image.DecompressionBombError:
        raise ImageError(
            f"The image has more than {2 * (Image.MAX_IMAGE_PIXELS or 0)} pixels."
        ) from None
    except UnidentifiedImageError:
        raise ImageError(
            "The image is not a supported image (PNG, JPEG, GIF or WebP), or it is corrupt."
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError):
        raise ImageError("The image is corrupt or truncated.") from None
    if fmt not in SUPPORTED_FORMATS:
        raise ImageError(
            f"The image format {fmt or 'unknown'} is not supported: use PNG, JPEG, GIF or WebP."
        )
    if width <= 0 or height <= 0:
        raise ImageError("The image has no pixels.")
    if orientation in _ROTATED_ORIENTATIONS:
        width, height = height, width
    return ImageSize(width, height, fmt)
