"""Signature images drawn on screen (consent, the Medicare ABN): read what the signature pad sends (a PNG data URL),
refuse anything else or a blank pad.

Pillow (a WeasyPrint dependency) decodes the image: a file that only claims to be a PNG, one too large, or a pad
with nothing drawn on it is refused with a message that says what to do.
"""

import base64
import binascii
import io
import math
import random

from django.core.exceptions import ValidationError
from PIL import Image, UnidentifiedImageError

MAX_BYTES = 400_000
MAX_SIDE = 3000
PREFIX = "data:image/png;base64,"
# At least this many inked pixels: a dot or an accidental tap is not a signature.
MIN_INKED_PIXELS = 40


def png_from_data_url(value: str, field: str, who: str) -> bytes:
    """The PNG bytes of a drawn signature, or a ValidationError on `field`."""
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: f"{who} has not signed: draw the signature in the box."})
    if not value.startswith(PREFIX):
        raise ValidationError(
            {field: f"{who}'s signature was not received as a PNG image: clear the box and sign again."}
        )
    try:
        raw = base64.b64decode(value[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError({field: f"{who}'s signature arrived damaged: clear the box and sign again."}) from None
    if len(raw) > MAX_BYTES:
        raise ValidationError({field: f"{who}'s signature image is too large: clear the box and sign again."})
    check_png(raw, field, who)
    return raw


def check_png(raw: bytes, field: str, who: str) -> None:
    """Refuse bytes that are not a PNG of a sensible size with something drawn on it."""
    try:
        image = Image.open(io.BytesIO(raw))
        if image.format != "PNG":
            raise UnidentifiedImageError
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError({field: f"{who}'s signature is not a readable PNG image: sign again."}) from None
    if image.width > MAX_SIDE or image.height > MAX_SIDE:
        raise ValidationError({field: f"{who}'s signature image is too large: sign again."})
    if inked_pixels(image) < MIN_INKED_PIXELS:
        raise ValidationError({field: f"{who}'s signature box is empty: draw the signature, not just a dot."})


def inked_pixels(image: Image.Image) -> int:
    """How many pixels carry ink: opaque and darker than light grey (the pad draws dark ink on transparent)."""
    from PIL import ImageChops

    rgba = image.convert("RGBA")
    opaque = rgba.getchannel("A").point(lambda v: 255 if v > 64 else 0)
    dark = rgba.convert("RGB").convert("L").point(lambda v: 255 if v < 200 else 0)
    return ImageChops.multiply(opaque, dark).histogram()[255]


def scribble_png(seed: int, width: int = 420, height: int = 120) -> bytes:
    """A synthetic handwritten-looking stroke, for the demo and the tests (never for a real patient)."""
    from PIL import ImageDraw

    rng = random.Random(seed)  # noqa: S311 - a synthetic drawing, not a secret
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    points = []
    x = 20.0
    phase = rng.random() * math.pi
    while x < width - 30:
        y = height / 2 + math.sin(x / (14 + rng.random() * 8) + phase) * (18 + rng.random() * 14)
        points.append((x, y))
        x += 4 + rng.random() * 3
    draw.line(points, fill=(20, 30, 80, 255), width=3, joint="curve")
    draw.line([(30, height - 22), (width - 60, height - 26)], fill=(20, 30, 80, 255), width=2)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def data_url(raw: bytes | memoryview | None) -> str:
    """A data: URL for an image stored as PNG bytes (for pages and the PDF, which fetches nothing else)."""
    if not raw:
        return ""
    return PREFIX + base64.b64encode(bytes(raw)).decode("ascii")
