"""The one exception root of weft.

Every error weft raises on purpose derives from :class:`WeftError`, so that
faces (the CLI, the HTTP API) can turn any of them into a one-line message::

    WeftError
    ├── EncodingError           bytes that are not canonical weft JSON
    ├── KeyFormatError          a did:key / did:weft / secret key that cannot be read
    ├── EntryRejected           an entry failed verification (carries a reason code)
    ├── IdentityOpRejected      an identity operation failed validation
    ├── ArchiveError            an archive file is unreadable or corrupt
    ├── NotFound                an id, DID or device that this node does not hold
    ├── NoIdentity              the data directory has no identity yet
    ├── UsageError              a request that makes no sense (bad argument values)
    │   ├── Conflict            it clashes with what exists (a username taken)
    │   └── MediaError          an upload that is not an image we take (weft.media.errors)
    ├── AuthError               no valid credentials: wrong password, unknown or expired token
    ├── Forbidden               valid credentials that do not allow this (scope, role, state)
    ├── RpcProtocolError        muxrpc used against its rules (carries a reason code)
    │   ├── RpcRemoteProtocolError   the peer broke them, or a limit: disconnect, log the code
    │   └── RpcLocalProtocolError    this side tried what they forbid (a caller's bug)
    └── TransportError          the peer-to-peer transport failed
        ├── HandshakeFailed     the secret handshake did not complete (carries a reason code)
        ├── BoxStreamError      the peer's box-stream is tampered with, cut short or goes on
        │                       after goodbye (carries a reason code)
        ├── ConnectionLost      the carrier under a stream broke (reset, or gone while writing)
        └── TransportClosed     this side used a handshake or stream after it ended or failed

The first three transport errors are the peer's doing (or the network's); the last is
ours, a bug in the caller, in the manner of h11's local and remote protocol errors.
"""

from __future__ import annotations


class WeftError(Exception):
    """Root of every error weft raises on purpose."""


class EncodingError(WeftError):
    """Bytes that are not valid canonical weft JSON."""


class KeyFormatError(WeftError):
    """A key or identifier string that cannot be parsed."""


class EntryRejected(WeftError):
    """An entry failed verification.

    ``code`` is a stable machine-readable reason (see ``weft.core.entry.Reason``);
    the message says the same for a person.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class IdentityOpRejected(WeftError):
    """An identity operation failed validation; ``code`` names the rule."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ArchiveError(WeftError):
    """An archive file is unreadable, or one of its records is corrupt."""


class NotFound(WeftError):
    """Something named by the caller is not held by this node."""


class NoIdentity(WeftError):
    """The data directory holds no identity yet (run ``weft init``)."""


class UsageError(WeftError):
    """An argument that cannot be acted on."""


class Conflict(UsageError):
    """A request that clashes with what exists, such as a username already taken."""


class AuthError(WeftError):
    """No valid credentials: a wrong password, or a session or token unknown, expired or revoked."""


class Forbidden(WeftError):
    """Credentials that are valid but do not allow this: a missing scope, role or approval."""


class RpcProtocolError(WeftError):
    """Muxrpc was used against its rules; ``code`` is a ``weft.sync.muxrpc_packets.RpcFailure``.

    As in h11, the session that raised it stays broken: every later call raises again.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class RpcRemoteProtocolError(RpcProtocolError):
    """The peer broke the muxrpc rules or exceeded a limit; the connection is of no further use."""


class RpcLocalProtocolError(RpcProtocolError):
    """This side asked muxrpc for something its rules forbid (a bug in the caller)."""


class TransportError(WeftError):
    """The peer-to-peer transport (secret handshake, box-stream, carrier) failed."""


class HandshakeFailed(TransportError):
    """The secret handshake did not complete; the connection is of no further use.

    ``code`` is a stable machine-readable reason (see ``weft.sync.shs.HandshakeFailure``);
    the message says the same for a person.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class BoxStreamError(TransportError):
    """The peer's box-stream cannot be trusted: tampered with, cut short, or going on after goodbye.

    ``code`` is a stable machine-readable reason (see ``weft.sync.boxstream.BoxStreamFailure``).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ConnectionLost(TransportError):
    """The carrier under a secure stream broke (reset by the peer, or gone while we wrote)."""


class TransportClosed(TransportError):
    """This side used a handshake or a stream after it had ended or failed (a caller's bug)."""
