"""The one error of outgoing federation HTTP, with the kinds delivery and fetching decide on.

::

    WeftError
    └── FetchError          kind says which of:
        refused-address     the host is or resolves to an address the policy refuses
        bad-url             not an http(s) URL we may use (scheme, user info, no host)
        rate-limited        this host was asked too often (retry_after says when to come back)
        timeout             the whole exchange, or connecting, took longer than allowed
        connection          no connection (DNS, refused, reset) or a broken HTTP exchange
        too-many-redirects  more redirects than allowed (a loop among them)
        status              an answer that is not 2xx (status keeps the code)
        bad-content-type    a document of another type than the one asked for
        too-large           a body past its limit; reading stopped there
        bad-body            a body that is not what was asked for (not JSON, not an object)

:attr:`FetchError.retryable` is the delivery queue's question: only trouble that may pass
(the network, a server's 5xx, 408 and 429, our own rate limit) is worth trying again; a 410
Gone (:attr:`FetchError.gone`) tells it the inbox or object is gone for good.
"""

from __future__ import annotations

from typing import Literal

from weft.errors import WeftError

__all__ = ["FetchError", "FetchErrorKind"]

FetchErrorKind = Literal[
    "refused-address", "bad-url", "rate-limited", "timeout", "connection", "too-many-redirects",
    "status", "bad-content-type", "too-large", "bad-body",
]

_PASSING_KINDS = frozenset({"timeout", "connection", "rate-limited"})
_PASSING_STATUSES = frozenset({408, 425, 429})


class FetchError(WeftError):
    """Fetching from or delivering to a remote server failed; see the module docstring."""

    def __init__(self, kind: FetchErrorKind, message: str, *, url: str,
                 status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(f"{url}: {message}")
        self.kind: FetchErrorKind = kind
        self.url = url
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """Whether the same request may succeed later."""
        if self.kind == "status" and self.status is not None:
            return self.status >= 500 or self.status in _PASSING_STATUSES
        return self.kind in _PASSING_KINDS

    @property
    def gone(self) -> bool:
        """The server said 410 Gone: the resource will not come back."""
        return self.kind == "status" and self.status == 410
