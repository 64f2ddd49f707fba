"""What a fetched response must look like: its content type, and its body within a size limit.

Pure (bytes in, bytes out), so the rules are tested without a server.

Content types. An Activity Streams document is ``application/activity+json`` or
``application/ld+json; profile="https://www.w3.org/ns/activitystreams"`` (ActivityPub §3.2,
https://www.w3.org/TR/activitypub/#retrieving-objects; the profile parameter may list several
URIs, separated by spaces). Plain ``application/json`` is refused, as Mastodon refuses it since
4.2.5 (``JsonLdHelper#valid_activitypub_content_type?``): a server that lets people upload
files serves them under generic types, so a JSON file uploaded to a victim's server must not
pass for a document that server published (an actor, a note). No server of note answers
an AS2 request with plain JSON, so nothing is lost.

Bodies. A limit on bytes received is not enough: a gzip body expands a thousandfold. So only
gzip is asked for (``Accept-Encoding: gzip``), the body is read raw and decompressed here, and
the limit counts the decompressed bytes, decompressing no more than one byte past it.
"""

from __future__ import annotations

import zlib

from weft.federation.fetching_errors import FetchError

__all__ = [
    "ACCEPT_ENCODING",
    "AS2_ACCEPT",
    "AS2_PROFILE",
    "BoundedBody",
    "is_activity_streams",
    "media_type",
]

AS2_PROFILE = "https://www.w3.org/ns/activitystreams"
AS2_ACCEPT = f'application/activity+json, application/ld+json; profile="{AS2_PROFILE}"'
ACCEPT_ENCODING = "gzip"

_GZIP_WBITS = 16 + zlib.MAX_WBITS


def media_type(content_type: str) -> tuple[str, dict[str, str]]:
    """A Content-Type header read into its lower-cased media type and its parameters
    (names lower-cased, quotes removed; a quoted ``;`` stays in its value)."""
    parts: list[str] = []
    current, quoted = "", False
    for char in content_type:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    params: dict[str, str] = {}
    for part in parts[1:]:
        name, sep, value = part.partition("=")
        if sep:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            params[name.strip().lower()] = value
    return parts[0].strip().lower(), params


def is_activity_streams(content_type: str | None) -> bool:
    """Whether a response of this Content-Type may be read as an Activity Streams document."""
    if content_type is None:
        return False
    kind, params = media_type(content_type)
    if kind == "application/activity+json":
        return True
    return kind == "application/ld+json" and AS2_PROFILE in params.get("profile", "").split()


class BoundedBody:
    """A response body read chunk by chunk, decoded, and cut off past ``limit`` bytes.

    ``feed`` raises :class:`FetchError` (``too-large``) as soon as the decoded body would pass
    the limit, so the caller stops reading there; ``finish`` returns the body.
    """

    def __init__(self, url: str, limit: int, content_encoding: str | None) -> None:
        self._url = url
        self._limit = limit
        self._chunks: list[bytes] = []
        self._size = 0
        self._gzip_fed = False
        encoding = (content_encoding or "identity").strip().lower()
        if encoding in ("gzip", "x-gzip"):
            self._gzip: zlib._Decompress | None = zlib.decompressobj(_GZIP_WBITS)
        elif encoding == "identity":
            self._gzip = None
        else:
            raise FetchError("bad-body", f"content encoding {encoding!r} was not asked for", url=url)

    def feed(self, chunk: bytes) -> None:
        """Take the next raw chunk of the body."""
        if self._gzip is None:
            self._keep(chunk)
            return
        self._gzip_fed = self._gzip_fed or bool(chunk)
        data = chunk
        while data:
            try:
                out = self._gzip.decompress(data, self._limit - self._size + 1)
            except zlib.error as e:
                raise FetchError("bad-body", f"the gzip body is corrupt ({e})", url=self._url) from e
            # Past max_length the rest waits in unconsumed_tail; but max_length is one byte
            # beyond the limit, so _keep has refused by then.
            self._keep(out)
            if self._gzip.eof:
                # A gzip body may be several members one after another (RFC 1952 §2.2).
                data = self._gzip.unused_data
                if data:
                    self._gzip = zlib.decompressobj(_GZIP_WBITS)
            else:
                data = self._gzip.unconsumed_tail

    def finish(self) -> bytes:
        """The whole decoded body, once the last chunk has been fed."""
        if self._gzip is not None and self._gzip_fed and not self._gzip.eof:
            raise FetchError("bad-body", "the gzip body is cut short", url=self._url)
        return b"".join(self._chunks)

    def _keep(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._limit:
            raise FetchError("too-large", f"the body is larger than {self._limit} bytes",
                             url=self._url)
        self._chunks.append(data)
