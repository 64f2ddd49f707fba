"""Uploaded images made fit to serve: checked, upright, stripped of metadata, resized.

Pure functions, bytes in and bytes out: no disk, network or clock, so the Mastodon media
API and the web app can run :func:`process_image` in a thread pool. Decoding and the
checks live in :mod:`weft.media.decoding`; this module chooses the output format, encodes,
and makes the thumbnail and the blurhash. See docs/decisions/0004-media.md for the why.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, TypedDict

from blurhash._functions import ffi as _blurhash_ffi  # type: ignore[import-untyped]
from blurhash._functions import lib as _blurhash_lib
from PIL import Image

from weft.errors import UsageError
from weft.media.decoding import DecodedImage, decode_upload, fit_within
from weft.media.errors import MediaError

MAX_DESCRIPTION_CHARS = 1_500
"""The longest alt text accepted, in characters (Mastodon's limit)."""

BLURHASH_COMPONENTS = (4, 3)
"""Horizontal and vertical blurhash components (Mastodon's choice): 28-character hashes."""

_BLURHASH_SIDE = 64  # the hash keeps a handful of colours; a 64 px copy is plenty and fast
_QUALITY = 85
_THUMB_QUALITY = 80

# Output format for each source format: name for Pillow, MIME type, file extension.
_OUTPUTS = {
    "JPEG": ("JPEG", "image/jpeg", "jpg"),
    "PNG": ("PNG", "image/png", "png"),
    "WEBP": ("WEBP", "image/webp", "webp"),
    "GIF": ("GIF", "image/gif", "gif"),
}


class MediaSize(TypedDict):
    """One entry of Mastodon's MediaAttachment ``meta``: ``{"width", "height", "size", "aspect"}``."""

    width: int
    height: int
    size: str
    aspect: float


class MediaMeta(TypedDict):
    """Mastodon's MediaAttachment ``meta`` for an image: the original and the small version."""

    original: MediaSize
    small: MediaSize


@dataclass(frozen=True)
class ProcessedImage:
    """An upload re-encoded from its pixels, with its thumbnail and blurhash.

    ``extension`` has no dot ("jpg", "png", "webp", "gif"). ``animated`` says whether
    ``data`` holds more than one frame (an animated GIF, WebP or PNG).
    """

    data: bytes
    mime: str
    extension: str
    width: int
    height: int
    thumb: bytes
    thumb_mime: str
    thumb_width: int
    thumb_height: int
    blurhash: str
    animated: bool

    def meta(self) -> MediaMeta:
        """The ``meta`` object of Mastodon's MediaAttachment entity for this image."""
        return {"original": _media_size(self.width, self.height),
                "small": _media_size(self.thumb_width, self.thumb_height)}


def process_image(data: bytes, *, max_side: int = 1920, thumb_side: int = 400,
                  max_bytes: int = 16 * 1024 * 1024,
                  max_pixels: int = 40_000_000) -> ProcessedImage:
    """Check an upload and re-encode it from its pixels alone, with a thumbnail and a blurhash.

    The real format is sniffed (the file name and claimed type are never asked): JPEG
    stays JPEG, PNG stays PNG, WebP stays WebP, an animated GIF stays an animated GIF and
    a still GIF becomes PNG. EXIF orientation is applied, then every piece of metadata is
    left behind. The longer side is scaled down to ``max_side`` and, for the thumbnail
    (JPEG, or WebP when there is transparency), to ``thumb_side``.

    Raises :class:`MediaError` for empty input, more than ``max_bytes`` bytes, another
    format, a damaged file, or more than ``max_pixels`` pixels (all frames counted).
    """
    if min(max_side, thumb_side, max_bytes, max_pixels) < 1:
        raise UsageError("process_image: every limit must be at least 1")
    if not data:
        raise MediaError("the file is empty")
    if len(data) > max_bytes:
        raise MediaError(f"the file is too large: {len(data):,} bytes, at most "
                         f"{max_bytes:,} are accepted")
    decoded = decode_upload(data, max_side=max_side, max_pixels=max_pixels)
    pillow_format, mime, extension = _output_for(decoded)
    encoded = _encode(decoded, pillow_format)
    first = decoded.frames[0]
    thumb, thumb_mime, (thumb_width, thumb_height) = _thumbnail(first, thumb_side)
    return ProcessedImage(
        data=encoded, mime=mime, extension=extension, width=first.width, height=first.height,
        thumb=thumb, thumb_mime=thumb_mime, thumb_width=thumb_width,
        thumb_height=thumb_height, blurhash=_blurhash(first),
        animated=_frame_count(encoded) > 1,
    )


def validate_description(text: str | None) -> str | None:
    """Alt text as it will be stored: stripped, None when empty; MediaError when unacceptable."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise MediaError("the description must be text")
    text = text.strip()
    if "\x00" in text:  # PostgreSQL text cannot hold NUL, and no person typed one
        raise MediaError("the description contains a NUL character")
    if len(text) > MAX_DESCRIPTION_CHARS:
        raise MediaError(f"the description is too long: {len(text):,} characters, at most "
                         f"{MAX_DESCRIPTION_CHARS:,} are accepted")
    return text or None


def _media_size(width: int, height: int) -> MediaSize:
    return {"width": width, "height": height, "size": f"{width}x{height}",
            "aspect": width / height}


def _output_for(decoded: DecodedImage) -> tuple[str, str, str]:
    if decoded.source_format == "GIF" and len(decoded.frames) == 1:
        return _OUTPUTS["PNG"]  # smaller, and no 256-colour palette to squeeze into
    return _OUTPUTS[decoded.source_format]


def _encode(decoded: DecodedImage, pillow_format: str) -> bytes:
    """The frames in ``pillow_format``; nothing but pixels and timing is passed to the writer."""
    first, *rest = decoded.frames
    options: dict[str, Any] = {}
    if pillow_format == "JPEG":
        options = {"quality": _QUALITY, "progressive": True, "optimize": True}
    elif pillow_format == "PNG":
        options = {"optimize": True}
    elif pillow_format == "WEBP":
        options = {"quality": _QUALITY}
    if rest:
        options.update(save_all=True, append_images=rest, duration=list(decoded.durations))
        if decoded.loop is not None:
            options["loop"] = decoded.loop
        if pillow_format == "GIF" and decoded.has_alpha:
            # Frames are whole pictures: clear the canvas between them, or pixels that turn
            # transparent would keep showing the frame before.
            options["disposal"] = 2
    buffer = io.BytesIO()
    first.save(buffer, pillow_format, **options)
    return buffer.getvalue()


def _thumbnail(first: Image.Image, side: int) -> tuple[bytes, str, tuple[int, int]]:
    small = fit_within(first, side)
    buffer = io.BytesIO()
    if small.mode == "RGBA":
        small.save(buffer, "WEBP", quality=_THUMB_QUALITY)
        mime = "image/webp"
    else:
        small.save(buffer, "JPEG", quality=_THUMB_QUALITY, optimize=True)
        mime = "image/jpeg"
    return buffer.getvalue(), mime, small.size


def _blurhash(first: Image.Image) -> str:
    """The image's blurhash, from the C encoder that ships with blurhash-python.

    Why not ``blurhash.encode``: it reads pixels with ``Image.getdata()``, which Pillow
    deprecates (a DeprecationWarning, an error under our test settings) and removes in
    Pillow 14, and it copies them through a Python list. The C function takes raw RGB
    bytes and a buffer of ours (thread-safe since blurhash-python 1.2.1).
    """
    small = fit_within(first, _BLURHASH_SIDE)
    if small.mode == "RGBA":
        # Transparent pixels have arbitrary colours (often black): show them as white.
        backdrop = Image.new("RGBA", small.size, (255, 255, 255, 255))
        small = Image.alpha_composite(backdrop, small)
    rgb = small.convert("RGB")
    x_components, y_components = BLURHASH_COMPONENTS
    destination = _blurhash_ffi.new("char[]", 2 + 4 + 2 * (9 * 9 - 1) + 1)
    result = _blurhash_lib.create_hash_from_pixels(
        x_components, y_components, rgb.width, rgb.height,
        _blurhash_ffi.from_buffer("uint8_t[]", rgb.tobytes()), rgb.width * 3, destination)
    if result == _blurhash_ffi.NULL:  # only for components outside 1..9
        raise ValueError(f"blurhash refused {x_components}x{y_components} components")
    return str(_blurhash_ffi.string(result).decode("ascii"))


def _frame_count(encoded: bytes) -> int:
    """Frames in our own output (writers merge identical neighbouring frames)."""
    with Image.open(io.BytesIO(encoded)) as image:
        return int(getattr(image, "n_frames", 1))
