"""draft-cavage-http-signatures-12, the HTTP signatures every ActivityPub server speaks.

Spec: https://datatracker.ietf.org/doc/html/draft-cavage-http-signatures-12 (§2.1 the
``Signature`` header's parameters, §2.3 the signing string). Mastodon's reading of it is the
one that matters (``app/lib/signed_request.rb``, ``signature_verification.rb``), and weft
follows it where the draft leaves room:

- ``algorithm`` is ``rsa-sha256`` or ``hs2019`` (the default when absent); both verify as
  RSASSA-PKCS1-v1_5 with SHA-256 for an RSA key. ``hs2019`` with an Ed25519 key is Ed25519.
- ``headers`` defaults to ``date`` for rsa-sha256 and ``(created)`` for hs2019;
  ``(created)`` and ``(expires)`` are only for hs2019.
- ``(request-target)`` is ``<method in lower case> <path>?<query>``; a signature over the
  path alone is accepted too, since Mastodon before 4.3 signed it without the query.
- The signature must cover the Date header or ``(created)``; weft also requires
  ``(request-target)`` and ``host`` always (Mastodon: host for GET only, and
  ``(request-target)`` or ``digest``), and ``digest`` for a POST or any body. ``Digest``
  must hold a SHA-256 entry that matches the body.

Signing does what Mastodon does: ``(request-target) host date digest`` with rsa-sha256,
``digest`` left out when there is no body.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from cryptography.hazmat.primitives.asymmetric import rsa

from weft.federation.httpsig_algorithms import sign_with
from weft.federation.httpsig_errors import SignatureRejected
from weft.federation.httpsig_message import (
    HeaderInput,
    Request,
    SignatureRequest,
    check_digest,
    check_window,
    format_http_date,
    parse_http_date,
    sha256_base64,
)

__all__ = ["SIGNED_HEADERS", "CavageSignature", "parse", "parse_signature_header", "sign", "signing_string"]

REQUEST_TARGET: Final = "(request-target)"
SIGNED_HEADERS: Final = ("(request-target)", "host", "date", "digest")
ALGORITHMS: Final = ("rsa-sha256", "hs2019")

# One parameter of the header as Mastodon's grammar has it: token = token / quoted-string.
_PARAM = re.compile(r'[ \t]*([0-9A-Za-z!#$%&\'*+.^_`|~-]+)[ \t]*=[ \t]*'
                    r'(?:"([^"\\]*(?:\\.[^"\\]*)*)"|([0-9A-Za-z!#$%&\'*+.^_`|~-]+))[ \t]*(,|\Z)')
_TIMESTAMP = re.compile(r"[0-9]{1,12}(\.[0-9]{1,9})?")


@dataclass(frozen=True)
class CavageSignature:
    """The parameters of one ``Signature`` header."""

    key_id: str
    algorithm: str
    headers: tuple[str, ...]
    signature: bytes
    created: str | None
    expires: str | None


def parse_signature_header(value: str) -> CavageSignature:
    """Read a ``Signature`` header's parameters; what cannot be read raises ``SignatureRejected``."""
    text = value.strip()
    # Old versions of node-http-signature put the Authorization scheme in front (Mastodon allows it).
    text = text.removeprefix("Signature ")
    params: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        match = _PARAM.match(text, pos)
        if match is None:
            raise SignatureRejected("malformed", f"the Signature header cannot be read from character {pos + 1}: {value!r}")
        name, quoted, token, comma = match.groups()
        if name in params:
            raise SignatureRejected("malformed", f"the Signature header gives {name} twice")
        if quoted is None:
            params[name] = token
        else:
            params[name] = re.sub(r"\\(.)", r"\1", quoted) if "\\" in quoted else quoted
        pos = match.end()
        if not comma and pos < len(text):
            raise SignatureRejected("malformed", f"the Signature header cannot be read: {value!r}")
    for required in ("keyId", "signature"):
        if not params.get(required):
            raise SignatureRejected("missing", f"the Signature header has no {required}")
    algorithm = params.get("algorithm", "hs2019").lower()
    if algorithm not in ALGORITHMS:
        raise SignatureRejected("algorithm", (
            f"the signature algorithm {params['algorithm']!r} is not accepted: only rsa-sha256 and hs2019 are"))
    headers = tuple(params.get("headers", "(created)" if algorithm == "hs2019" else "date").lower().split())
    for name in ("created", "expires"):
        if name in params and _TIMESTAMP.fullmatch(params[name]) is None:
            raise SignatureRejected("malformed", f"the Signature header's {name} is not a Unix time: {params[name]!r}")
    return CavageSignature(key_id=params["keyId"], algorithm=algorithm, headers=headers,
                           signature=_base64(params["signature"]),
                           created=params.get("created"), expires=params.get("expires"))


def _base64(text: str) -> bytes:
    compact = "".join(text.split())
    try:
        return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureRejected("malformed", "the Signature header's signature is not base64") from None


def signing_string(request: Request, signature: CavageSignature, *, with_query: bool = True) -> bytes:
    """The bytes the signature signs (draft-cavage-12 §2.3), one ``name: value`` line per header."""
    lines = []
    for name in signature.headers:
        if name == REQUEST_TARGET:
            target = request.path_and_query if with_query else request.path
            lines.append(f"{name}: {request.method.lower()} {target}")
        elif name in ("(created)", "(expires)"):
            value = signature.created if name == "(created)" else signature.expires
            if signature.algorithm != "hs2019":
                raise SignatureRejected("malformed", f"{name} is only for hs2019, not {signature.algorithm}")
            if value is None:
                raise SignatureRejected("missing", f"the signature covers {name} but has no {name[1:-1]} parameter")
            lines.append(f"{name}: {value}")
        else:
            field = request.field(name)
            if field is None:
                raise SignatureRejected("missing", f"the signature covers the {name} header, which the request does not have")
            lines.append(f"{name}: {field}")
    try:
        return "\n".join(lines).encode("latin-1")
    except UnicodeEncodeError:
        raise SignatureRejected("malformed", "a signed header holds characters outside latin-1") from None


def parse(request: Request, now: int) -> SignatureRequest:
    """Step A for a ``Signature`` header: every check that needs no key, by weft's rules above."""
    lines = request.fields.get("signature", ())
    if len(lines) != 1:
        raise SignatureRejected("malformed" if lines else "missing",
                                f"the request has {len(lines)} Signature headers; one is needed")
    signature = parse_signature_header(lines[0])
    covered = set(signature.headers)
    if not covered & {"date", "(created)"}:
        raise SignatureRejected("coverage", "the signature must cover the Date header or (created)")
    for name in (REQUEST_TARGET, "host"):
        if name not in covered:
            raise SignatureRejected("coverage", f"the signature must cover {name}")
    if request.needs_digest and "digest" not in covered:
        raise SignatureRejected("coverage", "the request has a body, so the signature must cover its Digest header")
    bases = [signing_string(request, signature)]
    if REQUEST_TARGET in covered and request.query:
        bases.append(signing_string(request, signature, with_query=False))
    if "(created)" in covered and signature.created is not None:
        created, dated_by = int(signature.created.split(".")[0]), "created parameter"
    else:
        date = request.field("date")
        if date is None:
            raise SignatureRejected("missing", "the request has no Date header")
        created, dated_by = parse_http_date(date), "Date header"
    expires = int(signature.expires.split(".")[0]) if signature.expires is not None else None
    check_window(created, expires, now, dated_by=dated_by)
    if "digest" in covered:
        check_digest(request)
    return SignatureRequest(scheme="draft-cavage", key_id=signature.key_id, algorithm=signature.algorithm,
                            covered=signature.headers, created=created, bases=tuple(bases),
                            signature=signature.signature)


def sign(method: str, url: str, headers: HeaderInput, body: bytes | None, *,
         private_key: rsa.RSAPrivateKey, key_id: str, now: int) -> dict[str, str]:
    """The headers to add to a request so that Mastodon accepts its signature.

    Host, Date (IMF-fixdate of ``now``, in ms), Digest (SHA-256 of the body; only when
    there is a body, or for a POST) and Signature over ``(request-target) host date
    [digest]`` with rsa-sha256. They replace any headers of the same names in ``headers``.
    """
    if not key_id or any(char in key_id for char in '"\\\r\n'):
        raise SignatureRejected("malformed", f"the key id {key_id!r} cannot go in a Signature header")
    added = {"Host": Request.of(method, url, (), None).authority, "Date": format_http_date(now)}
    if body is not None or method.upper() == "POST":
        added["Digest"] = f"SHA-256={sha256_base64(body or b'')}"
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    kept = [(name, value) for name, value in pairs if name.lower() not in {"host", "date", "digest", "signature"}]
    request = Request.of(method, url, [*kept, *added.items()], body)
    names = SIGNED_HEADERS if "Digest" in added else SIGNED_HEADERS[:3]
    signature = CavageSignature(key_id=key_id, algorithm="rsa-sha256", headers=names, signature=b"",
                                created=None, expires=None)
    signed = sign_with("rsa-v1_5-sha256", private_key, signing_string(request, signature))
    added["Signature"] = (f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",'
                          f'signature="{base64.b64encode(signed).decode("ascii")}"')
    return added
