"""Reading an upload: find its real format, refuse what is unsafe, keep nothing but pixels.

Pillow is told which formats it may try (``Image.open(..., formats=...)``), so a file is
only ever parsed by the JPEG, PNG, WebP or GIF reader, whatever its name or claimed content
type. The declared size is checked against the pixel budget before a single pixel is
decoded, ``verify()`` checks what it can (PNG chunk checksums), and then every frame is
decoded in full, which is what finds truncated and corrupt data.

What comes out is fresh images built from raw pixel bytes (``Image.frombytes``), with empty
``info``: EXIF (with GPS), XMP, ICC profiles, comments and PNG text cannot ride along into
the output, because Pillow's writers copy parts of the ``info`` of the image they save (the
JPEG and GIF writers its ``comment``, the PNG writer its ``icc_profile``; the tests in
tests/media/test_image_metadata.py fail without this step).
"""

from __future__ import annotations

import io
import itertools
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import ExifTags, Image, ImageCms, ImageFile, UnidentifiedImageError

from weft.media.errors import MediaError

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
"""Pillow's names of the formats weft accepts (a multi-picture JPEG opens as "MPO")."""

MAX_FRAMES = 1_000
"""The most frames an animation may have, however small they are."""

NOT_ACCEPTED = "only JPEG, PNG, WebP and GIF are accepted"

# Formats whose extra frames are an animation. MPO (a phone's JPEG with a depth map or a
# preview appended) also has "frames", but only the first is the picture.
_ANIMATED_FORMATS = frozenset({"GIF", "PNG", "WEBP"})

# What Pillow's readers raise on damaged data; hypothesis fuzzing in tests/media keeps
# this list honest. Catching these and no more lets a bug of ours still surface as one.
# UserWarning: Pillow warns about some damage (a malformed MPO index, corrupt EXIF) and
# reads on; where warnings are errors (our tests) the warning arrives as an exception.
_DAMAGED_FILE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError,
                        UserWarning)

# EXIF orientation -> the transposition that makes the picture upright (the table
# ImageOps.exif_transpose uses; we apply it ourselves to every frame, after resizing).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_ALPHA_MODES = frozenset({"RGBA", "LA", "PA"})
_GREY_MODES = frozenset({"1", "L", "LA"})
_SRGB = ImageCms.createProfile("sRGB")

# Formats people try that we refuse, named so that the message can say which one it was.
_OTHER_FORMATS = ((b"BM", "BMP"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"),
                  (b"%PDF", "PDF"), (b"\x00\x00\x01\x00", "ICO"))
_ISO_BRANDS = {b"heic": "HEIC", b"heix": "HEIC", b"mif1": "HEIF", b"msf1": "HEIF",
               b"avif": "AVIF", b"avis": "AVIF"}


@dataclass(frozen=True)
class DecodedImage:
    """An upload's pixels: upright, sRGB, no larger than asked, and nothing else.

    ``frames`` share one size and one mode ("L", "RGB", or "RGBA" when some pixel is
    transparent); a still image has one. ``durations`` are milliseconds per frame, and
    ``loop`` is the animation's play count as the file gave it (0: forever; None: unstated).
    """

    source_format: str
    frames: tuple[Image.Image, ...]
    durations: tuple[int, ...]
    loop: int | None

    @property
    def has_alpha(self) -> bool:
        """Whether any pixel is transparent (then the frames are RGBA)."""
        return self.frames[0].mode == "RGBA"


def decode_upload(data: bytes, *, max_side: int, max_pixels: int) -> DecodedImage:
    """Decode an upload's frames, scaled so that the longer side is at most ``max_side``.

    Raises :class:`MediaError` for anything but an intact JPEG, PNG, WebP or GIF, and for
    images (or animations, all frames counted) of more than ``max_pixels`` pixels.
    """
    too_many_pixels = f"the image is too large: more than {max_pixels:,} pixels"
    try:
        with _open(data) as probe:
            _check_dimensions(probe.size, max_pixels)
            probe.verify()
        with _open(data) as image:
            return _decode_frames(image, max_side, max_pixels)
    # Pillow refuses images beyond its own limit (2 * Image.MAX_IMAGE_PIXELS) with an error
    # and warns above it; pytest turns that warning into an exception, so both can arrive.
    # We never change Image.MAX_IMAGE_PIXELS: it is process-wide, and we run in threads.
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaError(too_many_pixels) from None
    except _DAMAGED_FILE_ERRORS as exc:
        raise MediaError(f"the image is damaged or cut short ({exc})") from None


def fit_within(image: Image.Image, side: int) -> Image.Image:
    """``image`` scaled down (never up) so that its longer side is at most ``side``."""
    width, height = image.size
    if max(width, height) <= side:
        return image
    scale = side / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _open(data: bytes) -> ImageFile.ImageFile:
    try:
        return Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except UnidentifiedImageError:
        raise MediaError(_refusal(data)) from None


def _refusal(data: bytes) -> str:
    """Why ``data`` is refused, naming its format when it is one people commonly try."""
    name = next((name for magic, name in _OTHER_FORMATS if data.startswith(magic)), None)
    if name is None and data[4:8] == b"ftyp":
        name = _ISO_BRANDS.get(data[8:12])
    if name is None and b"<svg" in data[:1024] and data.lstrip()[:1] == b"<":
        name = "SVG"
    if name is None:
        return f"not an image: {NOT_ACCEPTED}"
    return f"{name} images are not accepted: {NOT_ACCEPTED}"


def _check_dimensions(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise MediaError(f"the image has no pixels ({width}x{height})")
    if width * height > max_pixels:
        raise MediaError(f"the image is too large: {width}x{height} is more than "
                         f"{max_pixels:,} pixels")


def _decode_frames(image: ImageFile.ImageFile, max_side: int, max_pixels: int) -> DecodedImage:
    source_format = "JPEG" if image.format == "MPO" else str(image.format)
    if source_format == "JPEG":
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when that still covers max_side:
        # far less memory and time for a 40-megapixel photo.
        image.draft(None, (max_side, max_side))
    animated = source_format in _ANIMATED_FORMATS and bool(getattr(image, "is_animated", False))
    frames: list[Image.Image] = []
    durations: list[int] = []
    pixels_decoded = 0
    canvas = image.size
    upright: Image.Transpose | None = None
    icc: bytes | None = None
    for count, frame in enumerate(_each_frame(image, animated), start=1):
        if count > MAX_FRAMES:
            raise MediaError(f"the animation has more than {MAX_FRAMES:,} frames")
        pixels_decoded += frame.width * frame.height
        if pixels_decoded > max_pixels:
            raise MediaError(f"the animation is too large: its frames add up to more than "
                             f"{max_pixels:,} pixels")
        frame.load()
        if count == 1:  # EXIF and ICC belong to the file; PNG's may follow the pixel data
            canvas = frame.size
            upright = _UPRIGHT.get(_orientation(frame))
            icc = frame.info.get("icc_profile") or None
        # A GIF frame reaching outside the screen grows Pillow's canvas from then on: clip
        # it to the first frame's, as browsers clip to the screen (writers need one size).
        picture = frame if frame.size == canvas else frame.crop((0, 0, *canvas))
        frames.append(_clean_pixels(picture, icc, upright, max_side))
        durations.append(round(float(frame.info.get("duration", 0))))
    loop = image.info.get("loop")
    return DecodedImage(source_format, _one_mode(frames), tuple(durations),
                        loop if isinstance(loop, int) else None)


def _each_frame(image: ImageFile.ImageFile, animated: bool) -> Iterator[ImageFile.ImageFile]:
    """``image`` at frame 0, 1, 2, ... (readers compose each frame onto the ones before)."""
    yield image
    if not animated:
        return
    for index in itertools.count(1):
        try:
            image.seek(index)
        except EOFError:
            return
        yield image


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(ExifTags.Base.Orientation, 1)
    except _DAMAGED_FILE_ERRORS:
        return 1  # unreadable EXIF does not make the picture unreadable: show it as stored
    return value if isinstance(value, int) else 1


def _clean_pixels(frame: Image.Image, icc: bytes | None, upright: Image.Transpose | None,
                  max_side: int) -> Image.Image:
    """The frame as L, RGB or RGBA in sRGB, scaled, upright, in a new image with no info."""
    pixels = fit_within(_in_working_mode(frame, icc), max_side)
    if upright is not None:
        pixels = pixels.transpose(upright)
    return Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())


def _in_working_mode(frame: Image.Image, icc: bytes | None) -> Image.Image:
    if frame.mode.startswith("I"):  # 16-bit grey: scale to 8 bits (convert() would clip)
        return frame.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if frame.mode in _ALPHA_MODES or "transparency" in frame.info:
        target = "RGBA"
    elif frame.mode in _GREY_MODES:
        target = "L"
    else:
        target = "RGB"
    if icc is not None and target != "L" and frame.mode in ("RGB", "RGBA", "CMYK"):
        in_srgb = _to_srgb(frame, icc, target)
        if in_srgb is not None:
            return in_srgb
    # convert() copies even to the same mode: 160 MB for a 40-megapixel photo
    return frame if frame.mode == target else frame.convert(target)


def _to_srgb(frame: Image.Image, icc: bytes, mode: str) -> Image.Image | None:
    """The frame's colours moved from its ICC profile to sRGB, or None if the profile is unusable.

    The profile itself is not kept (it can carry a device's name and comments), so a wide
    gamut photo (Display P3, Adobe RGB, a CMYK print file) would look washed out or
    garish without this; browsers take untagged pixels as sRGB.
    """
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(frame, profile, _SRGB, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None


def _one_mode(frames: list[Image.Image]) -> tuple[Image.Image, ...]:
    """The frames in one shared mode, dropping an alpha channel that no pixel uses."""
    transparent = any(frame.mode == "RGBA" and _has_transparent_pixel(frame) for frame in frames)
    if transparent:
        mode = "RGBA"
    elif all(frame.mode == "L" for frame in frames):
        mode = "L"
    else:
        mode = "RGB"
    return tuple(frame if frame.mode == mode else frame.convert(mode) for frame in frames)


def _has_transparent_pixel(frame: Image.Image) -> bool:
    alpha_histogram = frame.getchannel("A").histogram()
    return any(alpha_histogram[:255])  # pixels with alpha 0..254
