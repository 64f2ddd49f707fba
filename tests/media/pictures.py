"""Pictures for the media tests, drawn with Pillow, and readers for the containers' parts.

The container readers (PNG chunks, JPEG markers, RIFF chunks) are written here rather than
asked of Pillow, so the metadata tests look at the bytes a browser would get.
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from PIL import ExifTags, Image

SECRET = "weft-secret-3fa9c1"
"""Planted in every kind of metadata; no output may contain it."""


def pixel(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    """The pixel at ``xy`` as a tuple, also for one-band images."""
    value = image.getpixel(xy)
    assert isinstance(value, (tuple, int)), value
    return value if isinstance(value, tuple) else (value,)


def near(actual: object, expected: tuple[int, ...], tolerance: int = 24) -> bool:
    """Whether a pixel (a tuple from ``getpixel``) is within ``tolerance`` of ``expected``."""
    assert isinstance(actual, tuple), actual
    return all(abs(a - b) <= tolerance for a, b in zip(actual, expected, strict=True))


def encode(image: Image.Image, pillow_format: str, **options: Any) -> bytes:
    """``image`` saved as ``pillow_format`` (Pillow's name: "JPEG", "PNG", "WEBP", "GIF", ...)."""
    buffer = io.BytesIO()
    image.save(buffer, pillow_format, **options)
    return buffer.getvalue()


def halves(size: tuple[int, int], left: tuple[int, ...], right: tuple[int, ...],
           mode: str = "RGB") -> Image.Image:
    """An image whose left half is ``left`` and right half is ``right``."""
    image = Image.new(mode, size, left)
    image.paste(right, (size[0] // 2, 0, size[0], size[1]))
    return image


def gradient(size: tuple[int, int]) -> Image.Image:
    """An RGB image with detail in both directions (so that it compresses like a photo)."""
    horizontal = Image.linear_gradient("L").resize(size)
    vertical = Image.linear_gradient("L").rotate(90).resize(size)
    return Image.merge("RGB", (horizontal, vertical, Image.new("L", size, 90)))


def phone_exif(orientation: int) -> Image.Exif:
    """EXIF as a phone writes it: orientation, camera, and where the picture was taken."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "WeftPhone"
    exif[ExifTags.Base.Model] = SECRET
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 31.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (13.0, 24.0, 36.0)
    return exif


def xmp_packet() -> bytes:
    """A small XMP packet naming a creator."""
    return (b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
            b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
            b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
            b'xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="' + SECRET.encode()
            + b'"/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>')


def moving_square(frames: int, size: tuple[int, int] = (40, 30)) -> list[Image.Image]:
    """An animation: a red square crossing a transparent background."""
    pictures = []
    for index in range(frames):
        picture = Image.new("RGBA", size, (0, 0, 0, 0))
        left = index * (size[0] - 10) // max(1, frames - 1)
        picture.paste((220, 20, 20, 255), (left, 5, left + 10, 15))
        pictures.append(picture)
    return pictures


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` but whose data is a few bytes."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


def png_chunk_types(data: bytes) -> list[bytes]:
    """The chunk types of a PNG file, in order."""
    types, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        types.append(data[offset + 4:offset + 8])
        offset += 12 + length
    return types


def jpeg_markers(data: bytes) -> list[int]:
    """The marker codes of a JPEG file up to its first scan (0xD8 SOI, 0xE1 APP1, 0xFE COM...)."""
    markers, offset = [0xD8], 2
    while offset < len(data):
        marker = data[offset + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        (length,) = struct.unpack(">H", data[offset + 2:offset + 4])
        offset += 2 + length
    return markers


def riff_chunks(data: bytes) -> list[bytes]:
    """The top-level chunk types of a WebP (RIFF) file."""
    kinds, offset = [], 12
    while offset < len(data):
        kind = data[offset:offset + 4]
        (length,) = struct.unpack("<I", data[offset + 4:offset + 8])
        kinds.append(kind)
        offset += 8 + length + (length & 1)
    return kinds


def gif_growing_past_its_screen() -> bytes:
    """A 1x1 GIF, a red pixel, whose second frame (a blue pixel) is drawn outside its screen.

    Pillow grows its canvas to 2x1 for the second frame; browsers clip that frame away.
    """
    red, blue = b"\x02\x02\x44\x01\x00", b"\x02\x02\x4c\x01\x00"  # LZW: clear, index, end

    def frame(left: int, pixel_data: bytes) -> bytes:
        control = b"\x21\xf9\x04\x00" + struct.pack("<H", 10) + b"\x00\x00"
        return control + b"\x2c" + struct.pack("<HHHHB", left, 0, 1, 1, 0) + pixel_data

    screen = struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + bytes((230, 20, 20, 20, 20, 230))
    return b"GIF89a" + screen + frame(0, red) + frame(1, blue) + b"\x3b"
