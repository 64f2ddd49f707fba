"""What leaves an upload: pixels only. No EXIF (with GPS), XMP, ICC profile, comment or text."""

from __future__ import annotations

import io

from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from weft.media import process_image

from .pictures import (
    SECRET,
    encode,
    halves,
    jpeg_markers,
    near,
    phone_exif,
    png_chunk_types,
    riff_chunks,
    xmp_packet,
)

RED, BLUE = (230, 20, 20), (20, 20, 230)
SRGB_ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()

# JPEG markers a re-encoded file may hold: SOI, APP0 (JFIF), DQT, SOF0/SOF2, DHT, SOS.
PLAIN_JPEG_MARKERS = {0xD8, 0xE0, 0xDB, 0xC0, 0xC2, 0xC4, 0xDA}
PLAIN_PNG_CHUNKS = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND",
                    b"acTL", b"fcTL", b"fdAT"}  # the last three: APNG animation
PLAIN_WEBP_CHUNKS = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"}


def test_a_phone_photo_loses_its_location_and_stays_upright() -> None:
    # Stored sideways, 60 wide and 40 high, red on the left; orientation 6 says "turn me a
    # quarter clockwise", so the picture as taken is 40 wide, 60 high, red at the top.
    photo = encode(halves((60, 40), RED, BLUE), "JPEG", quality=95,
                   exif=phone_exif(orientation=6), xmp=xmp_packet(), comment=SECRET)
    with Image.open(io.BytesIO(photo)) as original:  # the planted metadata is really there
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert SECRET.encode() in photo

    result = process_image(photo)

    with Image.open(io.BytesIO(result.data)) as output:
        assert output.size == (40, 60)
        assert (result.width, result.height) == (40, 60)
        assert len(output.getexif()) == 0
        assert not output.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert "exif" not in output.info and "xmp" not in output.info
        assert near(output.convert("RGB").getpixel((20, 5)), RED)
        assert near(output.convert("RGB").getpixel((20, 55)), BLUE)
    for data in (result.data, result.thumb):
        assert b"Exif" not in data
        assert SECRET.encode() not in data
        assert set(jpeg_markers(data)) <= PLAIN_JPEG_MARKERS
    assert (result.thumb_width, result.thumb_height) == (40, 60)


def test_every_orientation_comes_out_upright() -> None:
    # The picture as taken: 30 wide, 20 high, red on the left. Each orientation value
    # stores it differently; all must come back the same.
    upright = halves((30, 20), RED, BLUE)
    stored_as = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
                 4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
                 6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE,
                 8: Image.Transpose.ROTATE_270}
    for orientation, transposition in stored_as.items():
        stored = upright if transposition is None else upright.transpose(transposition)
        png = encode(stored, "PNG", exif=phone_exif(orientation))
        result = process_image(png)
        with Image.open(io.BytesIO(result.data)) as output:
            assert output.size == (30, 20), orientation
            assert output.getpixel((2, 10)) == RED, orientation
            assert output.getpixel((28, 10)) == BLUE, orientation


def test_png_text_icc_and_exif_chunks_are_dropped() -> None:
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", SECRET)
    text.add_text("Comment", SECRET, zip=True)
    text.add_itxt("Description", SECRET, lang="en")
    png = encode(halves((20, 10), RED, BLUE), "PNG", pnginfo=text, icc_profile=SRGB_ICC,
                 exif=phone_exif(orientation=1))
    assert {b"tEXt", b"zTXt", b"iTXt", b"iCCP", b"eXIf"} <= set(png_chunk_types(png))

    result = process_image(png)

    assert set(png_chunk_types(result.data)) <= PLAIN_PNG_CHUNKS
    assert SECRET.encode() not in result.data
    with Image.open(io.BytesIO(result.data)) as output:  # an sRGB profile changes no colour
        assert output.getpixel((2, 5)) == RED


def test_webp_exif_icc_and_xmp_are_dropped() -> None:
    webp = encode(halves((20, 10), RED, BLUE), "WEBP", quality=95, exif=phone_exif(1),
                  icc_profile=SRGB_ICC, xmp=xmp_packet())
    assert {b"EXIF", b"ICCP", b"XMP "} <= set(riff_chunks(webp))

    result = process_image(webp)

    assert set(riff_chunks(result.data)) <= PLAIN_WEBP_CHUNKS
    assert result.thumb_mime == "image/jpeg"
    assert set(jpeg_markers(result.thumb)) <= PLAIN_JPEG_MARKERS
    assert SECRET.encode() not in result.data
    assert b"Exif" not in result.data


def test_gif_comments_are_dropped() -> None:
    frames = [halves((20, 10), RED, BLUE), halves((20, 10), BLUE, RED)]
    gif = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], comment=SECRET,
                 duration=100, loop=0)
    assert SECRET.encode() in gif

    for result in (process_image(gif), process_image(encode(frames[0], "GIF", comment=SECRET))):
        assert SECRET.encode() not in result.data


def test_an_unusable_colour_profile_is_dropped_and_the_picture_kept() -> None:
    jpeg = encode(halves((20, 10), RED, BLUE), "JPEG", quality=95,
                  icc_profile=b"not a colour profile at all " * 4)

    result = process_image(jpeg)

    assert set(jpeg_markers(result.data)) <= PLAIN_JPEG_MARKERS
    with Image.open(io.BytesIO(result.data)) as output:
        assert "icc_profile" not in output.info
        assert near(output.getpixel((2, 5)), RED)
