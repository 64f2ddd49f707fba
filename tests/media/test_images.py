"""What an upload becomes: formats, sizes, transparency, animation, thumbnail, blurhash, alt text."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import blurhash  # type: ignore[import-untyped]
import pytest
from PIL import Image

from weft.errors import UsageError
from weft.media import MAX_DESCRIPTION_CHARS, MediaError, process_image, validate_description
from weft.media.decoding import decode_upload

from .pictures import (
    encode,
    gif_growing_past_its_screen,
    gradient,
    halves,
    moving_square,
    near,
    pixel,
)

RED, BLUE = (230, 20, 20), (20, 20, 230)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def frames_of(data: bytes) -> list[tuple[Image.Image, int]]:
    """Every frame of an animation, as RGBA, with its duration."""
    result = []
    with Image.open(io.BytesIO(data)) as image:
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            result.append((image.convert("RGBA"), round(image.info.get("duration", 0))))
    return result


def test_a_jpeg_stays_a_progressive_jpeg() -> None:
    result = process_image(encode(gradient((300, 200)), "JPEG"))

    assert (result.mime, result.extension) == ("image/jpeg", "jpg")
    assert (result.width, result.height) == (300, 200)
    assert not result.animated
    output = opened(result.data)
    assert output.format == "JPEG" and output.info.get("progressive") == 1


def test_a_large_image_is_scaled_to_max_side_keeping_its_aspect() -> None:
    result = process_image(encode(gradient((4000, 1000)), "PNG"))

    assert (result.width, result.height) == (1920, 480)
    assert opened(result.data).size == (1920, 480)
    assert (result.thumb_width, result.thumb_height) == (400, 100)
    assert opened(result.thumb).size == (400, 100)


def test_a_tall_image_is_scaled_by_its_height_and_small_ones_are_never_enlarged() -> None:
    tall = process_image(encode(gradient((300, 1200)), "JPEG"), max_side=600, thumb_side=100)
    assert (tall.width, tall.height, tall.thumb_width, tall.thumb_height) == (150, 600, 25, 100)

    small = process_image(encode(gradient((120, 80)), "JPEG"))
    assert (small.width, small.height, small.thumb_width, small.thumb_height) == (120, 80, 120, 80)


def test_meta_has_mastodons_shape() -> None:
    result = process_image(encode(gradient((800, 600)), "JPEG"))

    assert result.meta() == {
        "original": {"width": 800, "height": 600, "size": "800x600", "aspect": 800 / 600},
        "small": {"width": 400, "height": 300, "size": "400x300", "aspect": 400 / 300},
    }


def test_a_png_with_transparency_keeps_it_and_gets_a_webp_thumbnail() -> None:
    picture = halves((2400, 1200), (230, 20, 20, 255), (20, 20, 230, 0), mode="RGBA")
    picture.paste((0, 200, 0, 128), (0, 0, 100, 100))

    result = process_image(encode(picture, "PNG"))

    assert (result.mime, result.extension) == ("image/png", "png")
    output = opened(result.data)
    assert output.mode == "RGBA" and output.size == (1920, 960)
    assert pixel(output, (1800, 600))[3] == 0
    assert near(output.getpixel((40, 40)), (0, 200, 0, 128), tolerance=2)
    assert output.getpixel((400, 600)) == (230, 20, 20, 255)
    assert result.thumb_mime == "image/webp"
    thumb = opened(result.thumb)
    assert thumb.format == "WEBP" and thumb.mode == "RGBA" and thumb.size == (400, 200)
    assert pixel(thumb, (350, 100))[3] == 0


def test_a_png_whose_alpha_is_all_opaque_gets_a_jpeg_thumbnail() -> None:
    result = process_image(encode(gradient((200, 100)).convert("RGBA"), "PNG"))

    assert result.mime == "image/png" and opened(result.data).mode == "RGB"
    assert result.thumb_mime == "image/jpeg" and opened(result.thumb).format == "JPEG"


def test_an_animated_gif_keeps_its_frames_timing_and_transparency() -> None:
    frames = moving_square(6)
    durations = [40, 50, 60, 70, 80, 90]
    gif = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=durations,
                 loop=0, disposal=2)

    result = process_image(gif)

    assert (result.mime, result.extension, result.animated) == ("image/gif", "gif", True)
    decoded = frames_of(result.data)
    assert [duration for _frame, duration in decoded] == durations
    with Image.open(io.BytesIO(result.data)) as output:
        assert output.info.get("loop") == 0
    for (frame, _duration), original in zip(decoded, frames, strict=True):
        assert frame.getchannel("A").tobytes() == original.getchannel("A").tobytes()
    assert result.thumb_mime == "image/webp"


def test_gif_frames_drawn_outside_the_screen_are_clipped_to_it() -> None:
    data = gif_growing_past_its_screen()
    with Image.open(io.BytesIO(data)) as source:
        source.seek(1)
        assert source.size == (2, 1)  # Pillow's canvas grew
        assert pixel(source.convert("RGB"), (1, 0)) == BLUE

    decoded = decode_upload(data, max_side=1920, max_pixels=100)
    assert [frame.size for frame in decoded.frames] == [(1, 1), (1, 1)]
    result = process_image(data)

    # The second frame shows nothing inside the screen: what is left is a still red pixel.
    assert (result.width, result.height, result.animated) == (1, 1, False)
    assert [pixel(frame, (0, 0)) for frame, _duration in frames_of(result.data)] == \
           [(*RED, 255)]


def test_a_still_gif_becomes_a_png() -> None:
    picture = halves((30, 20), RED, BLUE).convert("P", palette=Image.Palette.ADAPTIVE)

    result = process_image(encode(picture, "GIF"))

    assert (result.mime, result.extension, result.animated) == ("image/png", "png", False)
    output = opened(result.data)
    assert output.format == "PNG" and output.getpixel((2, 2)) == RED


def test_a_webp_stays_a_webp() -> None:
    result = process_image(encode(gradient((2000, 1000)), "WEBP", quality=90))

    assert (result.mime, result.extension, result.animated) == ("image/webp", "webp", False)
    assert opened(result.data).format == "WEBP" and opened(result.data).size == (1920, 960)


def test_an_animated_webp_and_an_animated_png_keep_their_frames() -> None:
    frames = moving_square(5)
    for pillow_format, mime in (("WEBP", "image/webp"), ("PNG", "image/png")):
        data = encode(frames[0], pillow_format, save_all=True, append_images=frames[1:],
                      duration=[100, 110, 120, 130, 140], loop=0)
        result = process_image(data)
        assert (result.mime, result.animated) == (mime, True), pillow_format
        assert [duration for _frame, duration in frames_of(result.data)] == \
               [100, 110, 120, 130, 140], pillow_format


def test_a_multi_picture_jpeg_gives_its_first_picture_only() -> None:
    first, second = gradient((64, 48)), halves((32, 24), RED, BLUE)
    mpo = encode(first, "MPO", save_all=True, append_images=[second])
    assert opened(mpo).format == "MPO"

    result = process_image(mpo)

    assert (result.mime, result.animated, result.width, result.height) == \
           ("image/jpeg", False, 64, 48)


def test_cmyk_and_sixteen_bit_grey_come_out_in_ordinary_modes() -> None:
    cmyk = process_image(encode(Image.new("CMYK", (20, 10), (0, 255, 255, 0)), "JPEG"))
    cmyk_output = opened(cmyk.data)
    assert cmyk_output.mode == "RGB"
    red, green, _blue = pixel(cmyk_output, (5, 5))
    assert red > 200 and green < 50

    grey = process_image(encode(Image.new("I;16", (20, 10), 32768), "PNG"))
    assert opened(grey.data).mode == "L"
    assert near(pixel(opened(grey.data), (5, 5)), (128,), tolerance=1)


def test_blurhash_is_28_characters_deterministic_and_what_the_library_computes() -> None:
    data = encode(gradient((640, 480)), "PNG")

    first, again = process_image(data), process_image(data)

    assert len(first.blurhash) == 2 + 4 + 2 * (4 * 3 - 1) == 28
    assert first.blurhash == again.blurhash
    assert blurhash.is_valid_blurhash(first.blurhash)
    other = process_image(encode(halves((640, 480), RED, BLUE), "PNG"))
    assert other.blurhash != first.blurhash


@pytest.mark.filterwarnings("ignore:Image.Image.getdata is deprecated:DeprecationWarning")
def test_blurhash_matches_the_public_encoder() -> None:
    # We call the library's C function directly (see images._blurhash); it must agree with
    # blurhash.encode on the same 64-pixel copy.
    picture = halves((64, 48), RED, BLUE)
    picture.paste((20, 200, 20), (10, 10, 30, 30))

    result = process_image(encode(picture, "PNG"))

    assert result.blurhash == blurhash.encode(picture, x_components=4, y_components=3)


def test_images_processed_in_threads_come_out_as_processed_one_by_one() -> None:
    uploads = [encode(gradient((300 + 40 * index, 200)), "JPEG") for index in range(6)]
    uploads += [encode(moving_square(4)[0], "PNG"), encode(gradient((500, 400)), "WEBP")]

    one_by_one = [process_image(upload) for upload in uploads]
    with ThreadPoolExecutor(max_workers=4) as pool:
        in_threads = list(pool.map(process_image, uploads * 3))

    assert in_threads == one_by_one * 3


def test_limits_must_be_positive() -> None:
    with pytest.raises(UsageError, match="at least 1"):
        process_image(encode(gradient((10, 10)), "PNG"), max_side=0)


def test_descriptions_are_stripped_and_limited() -> None:
    assert validate_description(None) is None
    assert validate_description("   \n ") is None
    assert validate_description("  a cat on a mat \n") == "a cat on a mat"
    assert validate_description("é" * MAX_DESCRIPTION_CHARS) == "é" * MAX_DESCRIPTION_CHARS
    with pytest.raises(MediaError, match="too long: 1,501 characters"):
        validate_description("x" * (MAX_DESCRIPTION_CHARS + 1))
    with pytest.raises(MediaError, match="NUL"):
        validate_description("a\x00b")
    with pytest.raises(MediaError, match="must be text"):
        validate_description(42)  # type: ignore[arg-type]
