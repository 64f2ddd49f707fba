"""The one error of weft.media: an upload or a blob name that cannot be accepted."""

from __future__ import annotations

from weft.errors import UsageError


class MediaError(UsageError):
    """An upload that is not an acceptable image, or a blob digest that is malformed.

    A :class:`~weft.errors.UsageError`, so faces answer it as the client's mistake (HTTP 422
    in the Mastodon API); the message is written to be shown to the person who uploaded.
    """
