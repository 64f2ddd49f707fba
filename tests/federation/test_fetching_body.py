"""Response rules without a server: which content types are Activity Streams, and bodies
read within their limit whatever their encoding and however they are cut into chunks."""

from __future__ import annotations

import gzip

import pytest
from hypothesis import given
from hypothesis import strategies as st

from weft.federation.fetching_body import AS2_PROFILE, BoundedBody, is_activity_streams, media_type
from weft.federation.fetching_errors import FetchError

URL = "https://social.example/users/alice"
tokens = st.text("abcdefghijklmnopqrstuvwxyz0123456789-+.", min_size=1, max_size=12)
values = st.text(st.characters(codec="ascii", exclude_characters='"\\\r\n'), max_size=20)


@given(tokens, tokens, st.dictionaries(tokens, values, max_size=4), st.booleans())
def test_a_content_type_is_read_back_as_written(kind: str, subtype: str, params: dict[str, str],
                                                spaces: bool) -> None:
    sep = "; " if spaces else ";"
    header = f"{kind.upper()}/{subtype}" + "".join(f'{sep}{name}="{value}"' for name, value in params.items())
    assert media_type(header) == (f"{kind}/{subtype}", params)


@pytest.mark.parametrize(("content_type", "verdict"), [
    ("application/activity+json", True),
    ("application/activity+json; charset=utf-8", True),
    (f'application/ld+json; profile="{AS2_PROFILE}"', True),
    (f'application/ld+json; profile="https://w3id.org/security/v1 {AS2_PROFILE}"', True),
    (f'application/ld+json; charset=utf-8; profile="{AS2_PROFILE}"', True),
    (f'application/ld+json; profile="x;y" ; profile2="{AS2_PROFILE}"', False),
    ("application/ld+json", False),
    (f'application/ld+json; profile="{AS2_PROFILE}/"', False),
    ("application/json", False),
    ("text/html", False),
    (f'text/html; profile="{AS2_PROFILE}"', False),
    ("", False),
    (None, False),
])
def test_which_content_types_are_activity_streams(content_type: str | None, verdict: bool) -> None:
    assert is_activity_streams(content_type) is verdict


def _cut(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


def _read(encoded: bytes, cuts: list[int], limit: int, encoding: str | None) -> bytes:
    body = BoundedBody(URL, limit, encoding)
    for chunk in _cut(encoded, cuts):
        body.feed(chunk)
    return body.finish()


@given(st.binary(max_size=3000), st.lists(st.integers(0, 3000), max_size=6), st.integers(1, 3000),
       st.sampled_from([None, "identity", "gzip", "x-gzip", " GZIP "]), st.integers(1, 3))
def test_a_body_is_whole_within_its_limit_and_refused_past_it(
        data: bytes, cuts: list[int], limit: int, encoding: str | None, members: int) -> None:
    gzipped = encoding is not None and "gzip" in encoding.lower()
    parts = [data[i::members] for i in range(members)]
    encoded = b"".join(gzip.compress(p) for p in parts) if gzipped else data
    expected = b"".join(parts) if gzipped else data
    if len(expected) <= limit:
        assert _read(encoded, cuts, limit, encoding) == expected
    else:
        with pytest.raises(FetchError) as caught:
            _read(encoded, cuts, limit, encoding)
        assert caught.value.kind == "too-large"


def test_a_gzip_body_is_decompressed_no_further_than_its_limit() -> None:
    body = BoundedBody(URL, 1000, "gzip")
    with pytest.raises(FetchError) as caught:
        body.feed(gzip.compress(b"\0" * 50_000_000))
    assert caught.value.kind == "too-large"
    assert body._size == 1001  # one byte past the limit was decompressed, not fifty million


@pytest.mark.parametrize(("encoded", "encoding"), [
    (gzip.compress(b"{}")[:-3], "gzip"),                   # cut short
    (b"not gzip at all", "gzip"),
    (gzip.compress(b"{}") + b"trailing rubbish", "gzip"),
    (b"{}", "br"),                                         # not asked for
    (b"{}", "gzip, br"),
])
def test_a_broken_or_unasked_encoding_is_a_bad_body(encoded: bytes, encoding: str) -> None:
    with pytest.raises(FetchError) as caught:
        _read(encoded, [], 1000, encoding)
    assert caught.value.kind == "bad-body"
