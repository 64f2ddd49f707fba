"""``/media/{digest}``: images served as what their bytes say they are, anything else as a
download that cannot run, unknown and malformed names not found."""

from __future__ import annotations

import io
from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from weft.config import NodeConfig
from weft.web.media_files import sniff_image_type

from .site_server import serving
from .social_people import jpeg

MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png", b"GIF87a": "image/gif",
         b"GIF89a": "image/gif"}


def encoded(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 30)).save(out, kind)
    return out.getvalue()


async def test_images_are_typed_by_their_bytes_and_the_rest_is_a_download(
        make_config: Callable[[str], NodeConfig]) -> None:
    async with serving(make_config("n")) as running, running.client() as client:
        blobs = running.site.blobs
        for data, kind in ((jpeg(), "image/jpeg"), (encoded("PNG"), "image/png"), (encoded("GIF"), "image/gif"),
                           (encoded("WEBP"), "image/webp")):
            digest = blobs.put(data)
            response = await client.get(f"/media/{digest}")
            assert response.status_code == 200 and response.content == data
            assert response.headers["content-type"] == kind
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"
            assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert "content-disposition" not in response.headers

        page = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
        svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
        for data in (page, svg, b"GIF8", b""):
            digest = blobs.put(data)
            response = await client.get(f"/media/{digest}")
            assert response.status_code == 200 and response.content == data
            assert response.headers["content-type"] == "application/octet-stream"
            assert response.headers["content-disposition"] == f'attachment; filename="{digest}"'
            assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"
            assert response.headers["x-content-type-options"] == "nosniff"

        digest = blobs.put(jpeg())
        for name in ("0" * 64, digest.upper(), digest[:63], digest + "0", "..%2F..%2Fconfig.toml",
                     f"{digest}.jpg", "x" * 64):
            response = await client.get(f"/media/{name}")
            assert response.status_code == 404, name
        head = await client.head(f"/media/{digest}")
        assert head.status_code == 200 and head.headers["content-type"] == "image/jpeg"


@given(st.binary(max_size=32))
def test_bytes_without_an_image_signature_are_no_image(data: bytes) -> None:
    kind = sniff_image_type(data)
    signed = [media for magic, media in MAGIC.items() if data.startswith(magic)]
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        signed.append("image/webp")
    assert kind == (signed[0] if signed else None)
