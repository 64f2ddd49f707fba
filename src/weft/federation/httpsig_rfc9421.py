"""RFC 9421 HTTP Message Signatures, for requests: ``Signature-Input`` and ``Signature``.

Spec: https://www.rfc-editor.org/rfc/rfc9421 (§2 components and the signature base, §3.3
algorithms, §4 the fields), with RFC 9530 for ``Content-Digest``. Covered components may be
header fields (with the ``key`` and ``bs`` parameters, and ``sf`` for the fields whose type
is known here) and the derived ``@method``, ``@target-uri``, ``@authority``, ``@scheme``,
``@request-target``, ``@path``, ``@query`` and ``@query-param``. Response components
(``@status``, ``req``) and trailers are refused.

weft's rules (:func:`parse`), Mastodon's for RFC 9421 (``SignedRequest::HttpMessageSignature``)
with those weft asks of draft-cavage too: a ``keyid``; the time from ``created``, or from a
covered Date header; ``@method``; the target (``@target-uri``, or ``@request-target`` /
``@path``) and the authority (``@target-uri``, ``@authority`` or ``host``); for a POST or
any body, ``content-digest``, which must hold a sha-256 or sha-512 digest equal to the
body's. When several signatures are present, the first label with both fields is checked.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Final
from urllib.parse import unquote_to_bytes

from weft.federation.httpsig_algorithms import ALGORITHMS, algorithm_for_key, sign_with
from weft.federation.httpsig_errors import SignatureRejected
from weft.federation.httpsig_keys import PrivateKey
from weft.federation.httpsig_message import (
    Request,
    SignatureRequest,
    check_digest,
    check_window,
    parse_http_date,
)
from weft.federation.httpsig_sfv import (
    BareItem,
    InnerList,
    Item,
    StructuredFieldError,
    parse_dictionary,
    serialize_dictionary,
    serialize_inner_list,
    serialize_item,
    serialize_member,
)

__all__ = ["DIGESTS", "component_values", "parse", "sign", "signature_base"]

DIGESTS: Final[dict[str, Callable[[bytes], bytes]]] = {
    "sha-256": lambda body: hashlib.sha256(body).digest(),
    "sha-512": lambda body: hashlib.sha512(body).digest(),
}
# Fields whose structured type is known, so that ;sf and ;key can re-serialize them.
_DICTIONARY_FIELDS: Final = frozenset({"signature", "signature-input", "content-digest", "repr-digest",
                                       "want-content-digest", "want-repr-digest", "accept-signature"})
_FORM_SAFE: Final = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-._")


def _form_encode(text: str) -> str:
    return "".join(chr(byte) if byte in _FORM_SAFE else f"%{byte:02X}" for byte in text.encode("utf-8"))


def _form_decode(raw: str) -> str:
    return unquote_to_bytes(raw.replace("+", " ")).decode("utf-8", "replace")


def _query_params(query: str) -> list[tuple[str, str]]:
    # application/x-www-form-urlencoded parsing (WHATWG URL §5.1), then re-encoding (RFC 9421 §2.2.8).
    pairs = []
    for part in query.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((_form_encode(_form_decode(name)), _form_encode(_form_decode(value))))
    return pairs


def _identifier(item: Item) -> str:
    return serialize_item(item)


def _derived(request: Request, item: Item) -> list[str]:
    name = str(item.value)
    allowed = {"name"} if name == "@query-param" else set()
    if set(item.params) - allowed:
        raise SignatureRejected("malformed", f"{_identifier(item)}: parameters {sorted(set(item.params) - allowed)} are not supported")
    values: dict[str, Callable[[], str]] = {
        "@method": lambda: request.method,
        "@target-uri": lambda: request.url,
        "@authority": lambda: request.authority,
        "@scheme": lambda: request.scheme,
        "@request-target": lambda: request.path_and_query,
        "@path": lambda: request.path,
        "@query": lambda: f"?{request.query}",
    }
    if name in values:
        return [values[name]()]
    if name == "@query-param":
        wanted = item.params.get("name")
        if not isinstance(wanted, str):
            raise SignatureRejected("malformed", "@query-param needs a name parameter that is a string")
        found = [value for key, value in _query_params(request.query) if key == wanted]
        if not found:
            raise SignatureRejected("missing", f"the signature covers the query parameter {wanted!r}, which the URL does not have")
        return found
    if name in ("@status", "@signature-params"):
        raise SignatureRejected("malformed", f"{name} cannot be a covered component of a request signature")
    raise SignatureRejected("malformed", f"{name} is not a derived component RFC 9421 defines")


def _field(request: Request, item: Item) -> list[str]:
    name = str(item.value)
    params = set(item.params)
    if name != name.lower():
        raise SignatureRejected("malformed", f"the component {name!r} must be in lower case")
    if params - {"sf", "key", "bs"}:
        raise SignatureRejected("malformed", f"{_identifier(item)}: parameters {sorted(params - {'sf', 'key', 'bs'})} are not supported")
    lines = request.fields.get(name)
    if lines is None:
        raise SignatureRejected("missing", f"the signature covers the {name} header, which the request does not have")
    if "bs" in params:
        if params & {"sf", "key"}:
            raise SignatureRejected("malformed", f"{_identifier(item)}: bs cannot be combined with sf or key")
        return [", ".join(f":{base64.b64encode(line.encode('latin-1', 'replace')).decode('ascii')}:" for line in lines)]
    value = request.field(name) or ""
    if not params:
        return [value]
    if name not in _DICTIONARY_FIELDS:
        raise SignatureRejected("malformed", f"{_identifier(item)}: the structured type of {name} is not known here")
    try:
        members = parse_dictionary(value)
        if "key" not in params:
            return [serialize_dictionary(members)]
        member = members.get(str(item.params["key"]))
        if member is None:
            raise SignatureRejected("missing", f"the {name} header has no member {item.params['key']!r}")
        return [serialize_member(member)]
    except StructuredFieldError as error:
        raise SignatureRejected("malformed", f"the {name} header is not a structured field: {error}") from None


def component_values(request: Request, item: Item) -> list[str]:
    """The value(s) of one covered component (RFC 9421 §2.1, §2.2); one line each in the base."""
    if type(item.value) is not str:
        raise SignatureRejected("malformed", f"the covered component {item.value!r} is not a quoted string")
    return _derived(request, item) if item.value.startswith("@") else _field(request, item)


def signature_base(request: Request, covered: InnerList) -> bytes:
    """The signature base (RFC 9421 §2.5) of ``request`` for one Signature-Input member."""
    lines: list[str] = []
    seen: set[str] = set()
    try:
        for item in covered.items:
            identifier = _identifier(item)
            if identifier in seen:
                raise SignatureRejected("malformed", f"the signature covers {identifier} twice")
            seen.add(identifier)
            lines.extend(f"{identifier}: {value}" for value in component_values(request, item))
        lines.append(f'"@signature-params": {serialize_inner_list(covered)}')
    except StructuredFieldError as error:
        raise SignatureRejected("malformed", f"the Signature-Input cannot be serialized: {error}") from None
    text = "\n".join(lines)
    if not text.isascii() or "\r" in text or "\0" in text:
        raise SignatureRejected("malformed", "a covered component holds characters a signature base cannot carry")
    return text.encode("ascii")


def _dictionary(request: Request, name: str) -> dict[str, InnerList | Item]:
    value = request.field(name)
    if value is None:
        raise SignatureRejected("missing", f"the request has no {name.title()} header")
    try:
        return parse_dictionary(value)
    except StructuredFieldError as error:
        raise SignatureRejected("malformed", f"the {name.title()} header is not a structured dictionary: {error}") from None


def _param(covered: InnerList, name: str, kind: type) -> BareItem | None:
    value = covered.params.get(name)
    # A string parameter is a quoted string, not a token; an integer is not a boolean.
    if value is not None and type(value) is not kind:
        raise SignatureRejected("malformed", f"the Signature-Input parameter {name} is not {'an integer' if kind is int else 'a string'}")
    return value


def parse(request: Request, now: int) -> SignatureRequest:
    """Step A for ``Signature-Input`` and ``Signature``: every check that needs no key, by weft's rules."""
    inputs, signatures = _dictionary(request, "signature-input"), _dictionary(request, "signature")
    label = next((label for label in inputs if label in signatures), None)
    if label is None:
        raise SignatureRejected("missing", "no label of Signature-Input has a signature in the Signature header")
    covered, signed = inputs[label], signatures[label]
    if not isinstance(covered, InnerList):
        raise SignatureRejected("malformed", f"Signature-Input {label} is not a list of components")
    if not isinstance(signed, Item) or not isinstance(signed.value, bytes):
        raise SignatureRejected("malformed", f"Signature {label} is not a byte sequence")
    key_id, algorithm = _param(covered, "keyid", str), _param(covered, "alg", str)
    created, expires = _param(covered, "created", int), _param(covered, "expires", int)
    if not key_id:
        raise SignatureRejected("missing", f"Signature-Input {label} has no keyid")
    if algorithm is not None and algorithm not in ALGORITHMS:
        raise SignatureRejected("algorithm", f"the signature algorithm {algorithm!r} is not accepted: only {', '.join(ALGORITHMS)} are")
    base = signature_base(request, covered)
    names = {str(item.value) for item in covered.items if not item.params}
    _check_coverage(request, names, has_created=created is not None)
    if isinstance(created, int):
        when, dated_by = created, "created parameter"
    else:
        when, dated_by = parse_http_date(request.field("date") or ""), "Date header"
    check_window(when, expires if isinstance(expires, int) else None, now, dated_by=dated_by)
    if "content-digest" in names:
        _check_content_digest(request)
    if "digest" in names:
        check_digest(request)
    return SignatureRequest(scheme="rfc9421", key_id=str(key_id), algorithm=str(algorithm or ""),
                            covered=tuple(_identifier(item) for item in covered.items), created=when,
                            bases=(base,), signature=signed.value, label=label)


def _check_coverage(request: Request, names: set[str], *, has_created: bool) -> None:
    if not has_created and "date" not in names:
        raise SignatureRejected("coverage", "the signature needs a created parameter or must cover the Date header")
    if "@method" not in names:
        raise SignatureRejected("coverage", "the signature must cover @method")
    if not names & {"@target-uri", "@request-target", "@path"}:
        raise SignatureRejected("coverage", "the signature must cover @target-uri (or @path)")
    if not names & {"@target-uri", "@authority", "host"}:
        raise SignatureRejected("coverage", "the signature must cover @target-uri (or @authority)")
    if request.needs_digest and "content-digest" not in names:
        raise SignatureRejected("coverage", "the request has a body, so the signature must cover its Content-Digest header")


def _check_content_digest(request: Request) -> None:
    digests = _dictionary(request, "content-digest")
    known = {name: member for name, member in digests.items() if name in DIGESTS}
    if not known:
        raise SignatureRejected("digest", (
            f"Content-Digest offers {', '.join(digests) or 'nothing'}; weft checks sha-256 or sha-512"))
    body = request.body_bytes()
    for name, member in known.items():
        actual = DIGESTS[name](body)
        if not isinstance(member, Item) or member.value != actual:
            given = serialize_member(member) if isinstance(member, Item) else "not a byte sequence"
            raise SignatureRejected("digest", (
                f"the body does not match Content-Digest: it hashes to {name}=:"
                f"{base64.b64encode(actual).decode('ascii')}:, the header says {name}={given}"))


def sign(request: Request, private_key: PrivateKey, *, key_id: str, now: int,
         components: tuple[str, ...] | None = None, label: str = "sig1", algorithm: str | None = None,
         expires: int | None = None, nonce: str | None = None, tag: str | None = None) -> dict[str, str]:
    """The ``Signature-Input`` and ``Signature`` headers (and ``Content-Digest`` if needed).

    ``components`` defaults to what Mastodon requires: ``@method @target-uri``, and
    ``content-digest`` for a POST or a body. ``created`` is ``now`` (ms) in seconds; ``alg``
    is written only when ``algorithm`` is given. ``expires`` is Unix seconds.
    """
    if components is None:
        components = ("@method", "@target-uri", *(("content-digest",) if request.needs_digest else ()))
    added: dict[str, str] = {}
    if "content-digest" in components and not request.has("content-digest"):
        digest = base64.b64encode(hashlib.sha256(request.body_bytes()).digest()).decode("ascii")
        added["Content-Digest"] = f"sha-256=:{digest}:"
        request = Request.of(request.method, request.url,
                             [(name, line) for name, lines in request.fields.items() for line in lines]
                             + list(added.items()), request.body)
    params: dict[str, BareItem] = {"created": now // 1000}
    optional: dict[str, BareItem | None] = {"expires": expires, "keyid": key_id, "alg": algorithm,
                                            "nonce": nonce, "tag": tag}
    params.update({name: value for name, value in optional.items() if value is not None})
    covered = InnerList(tuple(Item(name) for name in components), params)
    signed = sign_with(algorithm or algorithm_for_key(private_key), private_key, signature_base(request, covered))
    added["Signature-Input"] = f"{label}={serialize_inner_list(covered)}"
    added["Signature"] = f"{label}=:{base64.b64encode(signed).decode('ascii')}:"
    return added
