"""What is refused, and how: every bad upload is one MediaError with a message a person can read."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from weft.errors import UsageError
from weft.media import MAX_FRAMES, MediaError, ProcessedImage, process_image

from .pictures import encode, gradient, halves, moving_square, png_declaring

RED, BLUE = (230, 20, 20), (20, 20, 230)


def test_a_text_file_named_jpg_is_not_an_image() -> None:
    with pytest.raises(MediaError, match="not an image: only JPEG, PNG, WebP and GIF are accepted"):
        process_image(b"holiday.jpg\nThis is not a picture, only words.\n")


@pytest.mark.parametrize(("pillow_format", "name"), [("BMP", "BMP"), ("TIFF", "TIFF"),
                                                     ("ICO", "ICO"), ("PDF", "PDF")])
def test_valid_images_in_other_formats_are_refused_by_name(pillow_format: str, name: str) -> None:
    data = encode(gradient((32, 32)), pillow_format)

    with pytest.raises(MediaError, match=f"^{name} images are not accepted: only JPEG, PNG, "
                                         f"WebP and GIF are accepted$"):
        process_image(data)


@pytest.mark.parametrize(("start", "name"), [
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "HEIC"),
    (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00", "AVIF"),
    (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>', "SVG"),
])
def test_formats_pillow_cannot_read_are_named_too(start: bytes, name: str) -> None:
    with pytest.raises(MediaError, match=f"^{name} images are not accepted"):
        process_image(start + b"\x00" * 64)


@pytest.mark.parametrize("pillow_format", ["JPEG", "PNG", "WEBP", "GIF"])
def test_a_truncated_file_is_refused(pillow_format: str) -> None:
    data = encode(gradient((400, 300)), pillow_format)

    with pytest.raises(MediaError, match="damaged or cut short"):
        process_image(data[: len(data) * 2 // 3])


def test_a_png_with_a_corrupt_chunk_is_refused() -> None:
    data = bytearray(encode(gradient((64, 64)), "PNG"))
    data[len(data) // 2] ^= 0xFF  # inside IDAT: its CRC no longer matches

    with pytest.raises(MediaError, match="damaged or cut short"):
        process_image(bytes(data))


@pytest.mark.parametrize(("width", "height"), [
    (50_000, 50_000),  # beyond Pillow's own limit: DecompressionBombError
    (10_000, 10_000),  # beyond its warning threshold (a DecompressionBombWarning here)
    (8_000, 6_000),    # under both: our max_pixels (40 million) refuses it
])
def test_a_decompression_bomb_is_refused_before_decoding(width: int, height: int) -> None:
    with pytest.raises(MediaError, match="too large"):
        process_image(png_declaring(width, height))


def test_max_pixels_is_the_callers_to_choose() -> None:
    data = encode(gradient((200, 100)), "PNG")

    with pytest.raises(MediaError, match=r"200x100 is more than 19,999 pixels"):
        process_image(data, max_pixels=19_999)
    assert process_image(data, max_pixels=20_000).width == 200


def test_an_animation_counts_the_pixels_of_all_its_frames() -> None:
    frames = moving_square(10, size=(40, 30))  # 1,200 pixels a frame, 12,000 in all
    gif = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)

    with pytest.raises(MediaError, match="frames add up to more than 10,000 pixels"):
        process_image(gif, max_pixels=10_000)
    assert process_image(gif, max_pixels=12_000).animated


def test_an_animation_may_not_have_more_than_max_frames() -> None:
    colours = [Image.new("L", (2, 2), 255 * (index % 2)) for index in range(MAX_FRAMES + 1)]
    gif = encode(colours[0], "GIF", save_all=True, append_images=colours[1:], duration=20)

    with pytest.raises(MediaError, match=f"more than {MAX_FRAMES:,} frames"):
        process_image(gif)


def test_empty_and_oversized_files_are_refused() -> None:
    with pytest.raises(MediaError, match="the file is empty"):
        process_image(b"")
    data = encode(gradient((100, 100)), "PNG")
    with pytest.raises(MediaError, match=f"too large: {len(data):,} bytes, at most "
                                         f"{len(data) - 1:,} are accepted"):
        process_image(data, max_bytes=len(data) - 1)
    assert process_image(data, max_bytes=len(data)).width == 100


def test_an_image_without_pixels_is_refused() -> None:
    no_pixels = bytearray(encode(halves((4, 4), RED, BLUE), "GIF"))
    no_pixels[6:10] = bytes(4)  # logical screen 0x0
    no_pixels[30:34] = bytes(4)  # the one frame 0x0
    for data in (png_declaring(0, 10), png_declaring(10, 0), bytes(no_pixels)):
        with pytest.raises(MediaError, match="not an image"):
            process_image(data)


def test_media_errors_are_usage_errors() -> None:
    assert issubclass(MediaError, UsageError)


SAMPLES = [encode(gradient((48, 32)), "JPEG"), encode(gradient((48, 32)), "PNG"),
           encode(halves((48, 32), (230, 20, 20, 255), (0, 0, 0, 0), mode="RGBA"), "WEBP"),
           encode(moving_square(3)[0], "GIF", save_all=True,
                  append_images=moving_square(3)[1:], duration=30)]


def outcome(data: bytes) -> ProcessedImage | MediaError:
    """What an upload comes to; any exception but MediaError fails the test."""
    try:
        return process_image(data, max_pixels=1_000_000)
    except MediaError as refusal:
        assert str(refusal)
        return refusal


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_only_ever_raise_media_error(data: bytes) -> None:
    outcome(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_random_bytes_after_a_real_images_signature_only_ever_raise_media_error(
        data: bytes) -> None:
    for sample in SAMPLES:
        outcome(sample[:16] + data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SAMPLES), st.lists(st.tuples(st.integers(0, 10_000),
                                                    st.integers(0, 255)), max_size=8),
       st.integers(0, 10_000))
def test_damaged_real_images_only_ever_raise_media_error(
        sample: bytes, flips: list[tuple[int, int]], cut: int) -> None:
    damaged = bytearray(sample)
    for position, value in flips:
        damaged[position % len(damaged)] = value
    result = outcome(bytes(damaged[: max(1, len(damaged) - cut)]))
    if isinstance(result, ProcessedImage):
        assert result.width >= 1 and result.height >= 1 and len(result.blurhash) == 28
