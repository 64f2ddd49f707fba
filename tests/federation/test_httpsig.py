"""Signing what weft sends and checking what it receives, under Mastodon's rules.

One RSA-2048 key signs a Create(Note) POST and a GET as weft sends them; the tests then
verify them, bend them (hypothesis tampers with every signed part), and feed the checker
stale, incomplete and garbage requests, which must all end in ``SignatureRejected`` with a
message that says why, and never in another exception.
"""

from __future__ import annotations

import base64
import email.utils
import functools
import hashlib
import re

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from weft.federation import httpsig_rfc9421
from weft.federation.httpsig import (
    SignatureMismatch,
    SignatureRejected,
    SignatureRequest,
    generate_rsa_key,
    parse,
    public_key_pem,
    sign,
    verify,
)
from weft.federation.httpsig_algorithms import sign_with
from weft.federation.httpsig_cavage import CavageSignature, signing_string
from weft.federation.httpsig_message import Request

KEY = generate_rsa_key()
OTHER_KEY = generate_rsa_key()
KEY_ID = "https://weft.example/users/alice#main-key"
NOW = 1_700_000_000_000          # Tue, 14 Nov 2023 22:13:20 GMT
INBOX = "https://remote.example/users/bob/inbox"
OUTBOX_PAGE = "https://remote.example/users/bob/outbox?page=true"
BODY = (b'{"@context":"https://www.w3.org/ns/activitystreams","id":"https://weft.example/activities/1",'
        b'"type":"Create","actor":"https://weft.example/users/alice","object":{"type":"Note","content":"hi"}}')
CONTENT_TYPE = ("Content-Type", 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"')


def post_headers(body: bytes = BODY, url: str = INBOX, now: int = NOW) -> list[tuple[str, str]]:
    return list(_signed_post(body, url, now))


@functools.cache
def _signed_post(body: bytes, url: str, now: int) -> tuple[tuple[str, str], ...]:
    # RSA signing takes a millisecond or two: the hypothesis tests reuse one signed request.
    added = sign(method="POST", url=url, headers=[CONTENT_TYPE], body=body, private_key=KEY, key_id=KEY_ID, now=now)
    return (CONTENT_TYPE, *added.items())


def get_headers(url: str = OUTBOX_PAGE, now: int = NOW) -> list[tuple[str, str]]:
    accept = ("Accept", "application/activity+json")
    added = sign(method="GET", url=url, headers=[accept], body=None, private_key=KEY, key_id=KEY_ID, now=now)
    return [accept, *added.items()]


def check(method: str, url: str, headers: list[tuple[str, str]], body: bytes | None, now: int = NOW) -> SignatureRequest:
    signed = parse(method=method, url=url, headers=headers, body=body, now=now)
    verify(signed, public_key_pem(KEY))
    return signed


def replace(headers: list[tuple[str, str]], name: str, value: str | None) -> list[tuple[str, str]]:
    kept = [(key, old) for key, old in headers if key.lower() != name.lower()]
    return kept if value is None else [*kept, (name, value)]


def signature_params(headers: list[tuple[str, str]]) -> dict[str, str]:
    (value,) = [value for name, value in headers if name == "Signature"]
    return dict(re.findall(r'(\w+)="([^"]*)"', value))


# -- what weft sends -----------------------------------------------------------------------

def test_a_post_is_signed_as_mastodon_signs_it() -> None:
    added = sign(method="POST", url=INBOX, headers={"Content-Type": "application/activity+json"}, body=BODY,
                 private_key=KEY, key_id=KEY_ID, now=NOW)
    assert list(added) == ["Host", "Date", "Digest", "Signature"]
    assert added["Host"] == "remote.example"
    assert added["Date"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert added["Digest"] == "SHA-256=" + base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    params = signature_params(list(added.items()))
    assert params["keyId"] == KEY_ID
    assert params["algorithm"] == "rsa-sha256"
    assert params["headers"] == "(request-target) host date digest"
    assert len(base64.b64decode(params["signature"])) == 256


def test_a_get_is_signed_without_a_digest() -> None:
    added = sign(method="GET", url=OUTBOX_PAGE, headers={}, body=None, private_key=KEY, key_id=KEY_ID, now=NOW)
    assert "Digest" not in added
    assert signature_params(list(added.items()))["headers"] == "(request-target) host date"


def test_the_host_keeps_a_port_that_is_not_the_default() -> None:
    added = sign(method="GET", url="http://127.0.0.1:8123/users/bob", headers={}, body=None,
                 private_key=KEY, key_id=KEY_ID, now=NOW)
    assert added["Host"] == "127.0.0.1:8123"
    check("GET", "http://127.0.0.1:8123/users/bob", list(added.items()), None)


def test_signed_requests_verify() -> None:
    signed = check("POST", INBOX, post_headers(), BODY)
    assert (signed.scheme, signed.key_id, signed.algorithm, signed.created) == (
        "draft-cavage", KEY_ID, "rsa-sha256", NOW // 1000)
    assert signed.covered == ("(request-target)", "host", "date", "digest")
    check("GET", OUTBOX_PAGE, get_headers(), None)


def test_a_post_with_an_empty_body_still_carries_a_digest() -> None:
    added = sign(method="POST", url=INBOX, headers={}, body=b"", private_key=KEY, key_id=KEY_ID, now=NOW)
    assert added["Digest"] == "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    check("POST", INBOX, list(added.items()), b"")


# -- the key's two outcomes: a key that does not verify may be refetched ---------------------

def test_another_key_gives_a_mismatch_the_caller_may_refetch_for() -> None:
    signed = parse(method="POST", url=INBOX, headers=post_headers(), body=BODY, now=NOW)
    with pytest.raises(SignatureMismatch, match="does not verify with the key given") as caught:
        verify(signed, OTHER_KEY.public_key())
    assert caught.value.code == "signature"
    verify(signed, KEY.public_key())   # the rotated-back key: a fresh fetch would succeed


def test_a_key_of_the_wrong_kind_or_unreadable_is_a_mismatch_too() -> None:
    signed = parse(method="POST", url=INBOX, headers=post_headers(), body=BODY, now=NOW)
    with pytest.raises(SignatureMismatch, match="Ed25519 key cannot verify") as caught:
        verify(signed, ed25519.Ed25519PrivateKey.generate().public_key())
    assert caught.value.code == "key"
    with pytest.raises(SignatureMismatch, match="cannot be used") as caught:
        verify(signed, "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n")
    assert caught.value.code == "key"


def test_other_refusals_are_not_mismatches() -> None:
    with pytest.raises(SignatureRejected) as caught:
        parse(method="POST", url=INBOX, headers=post_headers(), body=BODY + b" ", now=NOW)
    assert not isinstance(caught.value, SignatureMismatch)


# -- Mastodon's window: an hour of skew, five minutes of life unless expires says otherwise -------

@pytest.mark.parametrize(("offset_s", "accepted"), [
    (0, True), (65 * 60, True), (65 * 60 + 1, False), (-60 * 60, True), (-60 * 60 - 1, False),
], ids=["now", "65-min-old", "too-old", "1-h-ahead", "too-far-ahead"])
def test_the_date_window(offset_s: int, accepted: bool) -> None:
    headers = post_headers()
    later = NOW + offset_s * 1000
    if accepted:
        check("POST", INBOX, headers, BODY, now=later)
    else:
        with pytest.raises(SignatureRejected, match=r"in the future|too old") as caught:
            parse(method="POST", url=INBOX, headers=headers, body=BODY, now=later)
        assert caught.value.code == "stale"


def test_a_stale_date_says_by_how_much() -> None:
    with pytest.raises(SignatureRejected) as caught:
        parse(method="POST", url=INBOX, headers=post_headers(), body=BODY, now=NOW + 2 * 3600_000)
    assert str(caught.value) == ("the signature is too old: it is 2 h old by its Date header, and a signature is "
                                 "good for 5 min, with 1 h allowed for clock skew")


def hs2019(headers: str, created: int, expires: int | None = None, *, body: bytes = BODY) -> list[tuple[str, str]]:
    """A POST signed with hs2019 and (created), built by hand as other servers do."""
    request = Request.of("POST", INBOX, [("Host", "remote.example"),
                                         ("Digest", "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode())], body)
    signature = CavageSignature(KEY_ID, "hs2019", tuple(headers.split()), b"", str(created),
                                None if expires is None else str(expires))
    value = base64.b64encode(sign_with("rsa-v1_5-sha256", KEY, signing_string(request, signature))).decode()
    extra = "" if expires is None else f",expires={expires}"
    return [*((name, lines[0]) for name, lines in request.fields.items()),
            ("Signature", f'keyId="{KEY_ID}",algorithm="hs2019",created={created}{extra},headers="{headers}",signature="{value}"')]


def test_hs2019_with_created_and_expires() -> None:
    created = NOW // 1000
    headers = hs2019("(request-target) (created) (expires) host digest", created, created + 6 * 3600)
    signed = check("POST", INBOX, headers, BODY, now=NOW + 7 * 3600_000 - 1000)   # expires + 1 h of skew
    assert signed.created == created
    with pytest.raises(SignatureRejected, match="expired 1 h 1 s ago by its expires parameter"):
        parse(method="POST", url=INBOX, headers=headers, body=BODY, now=NOW + 7 * 3600_000 + 1000)


def test_expires_is_capped_at_twelve_hours() -> None:
    created = NOW // 1000
    headers = hs2019("(request-target) (created) (expires) host digest", created, created + 48 * 3600)
    check("POST", INBOX, headers, BODY, now=NOW + 13 * 3600_000)
    with pytest.raises(SignatureRejected, match="good for 12 h"):
        parse(method="POST", url=INBOX, headers=headers, body=BODY, now=NOW + 13 * 3600_000 + 1000)


def test_created_is_only_for_hs2019() -> None:
    headers = hs2019("(request-target) (created) host digest", NOW // 1000)
    headers = [(name, value.replace('algorithm="hs2019"', 'algorithm="rsa-sha256"')) for name, value in headers]
    with pytest.raises(SignatureRejected, match=r"\(created\) is only for hs2019"):
        parse(method="POST", url=INBOX, headers=headers, body=BODY, now=NOW)


# -- coverage and headers ------------------------------------------------------------------

@pytest.mark.parametrize(("covered", "reason"), [
    ("(request-target) host digest", r"must cover the Date header or \(created\)"),
    ("host date digest", r"must cover \(request-target\)"),
    ("(request-target) date digest", "must cover host"),
    ("(request-target) host date", "must cover its Digest header"),
])
def test_required_coverage(covered: str, reason: str) -> None:
    headers = replace(post_headers(), "Signature",
                      f'keyId="{KEY_ID}",algorithm="rsa-sha256",headers="{covered}",signature="AAAA"')
    with pytest.raises(SignatureRejected, match=reason) as caught:
        parse(method="POST", url=INBOX, headers=headers, body=BODY, now=NOW)
    assert caught.value.code == "coverage"


@pytest.mark.parametrize(("name", "reason", "code"), [
    ("Signature", "neither a Signature nor a Signature-Input", "missing"),
    ("Date", "has no Date header|does not have", "missing"),
    ("Digest", "covers the digest header, which the request does not have", "missing"),
    ("Host", "covers the host header, which the request does not have", "missing"),
])
def test_missing_headers_are_named(name: str, reason: str, code: str) -> None:
    with pytest.raises(SignatureRejected, match=reason) as caught:
        parse(method="POST", url=INBOX, headers=replace(post_headers(), name, None), body=BODY, now=NOW)
    assert caught.value.code == code


def test_a_digest_mismatch_says_what_the_body_hashes_to() -> None:
    headers = replace(post_headers(), "Digest", "SHA-256=" + base64.b64encode(bytes(32)).decode())
    with pytest.raises(SignatureRejected) as caught:
        parse(method="POST", url=INBOX, headers=headers, body=BODY, now=NOW)
    assert caught.value.code == "digest"
    assert str(caught.value).startswith("the body does not match the Digest header: it hashes to SHA-256=")


def test_a_digest_without_sha256_is_refused() -> None:
    headers = replace(post_headers(), "Digest", "SHA-512=abc")
    with pytest.raises(SignatureRejected, match="offers sha-512; a SHA-256 digest is required"):
        parse(method="POST", url=INBOX, headers=headers, body=BODY, now=NOW)


@pytest.mark.parametrize("algorithm", ["rsa-sha512", "hmac-sha256", "ecdsa-sha256", "ed25519"])
def test_unknown_algorithms_are_refused(algorithm: str) -> None:
    headers = replace(post_headers(), "Signature", signature_value(post_headers()).replace("rsa-sha256", algorithm))
    with pytest.raises(SignatureRejected, match=f"algorithm '{algorithm}' is not accepted") as caught:
        parse(method="POST", url=INBOX, headers=headers, body=BODY, now=NOW)
    assert caught.value.code == "algorithm"


def signature_value(headers: list[tuple[str, str]]) -> str:
    return next(value for name, value in headers if name == "Signature")


def test_the_query_may_be_left_out_of_request_target_as_mastodon_did_before_4_3() -> None:
    path_only = Request.of("GET", "https://remote.example/users/bob/outbox", [], None)
    headers = get_headers(url="https://remote.example/users/bob/outbox")
    assert path_only.path == "/users/bob/outbox"
    check("GET", OUTBOX_PAGE, headers, None)   # signed for the path alone, received with its query


def test_a_changed_query_does_not_verify() -> None:
    signed = parse(method="GET", url="https://remote.example/users/bob/outbox?page=false", headers=get_headers(),
                   body=None, now=NOW)
    with pytest.raises(SignatureMismatch):
        verify(signed, KEY.public_key())


def test_rfc9421_signatures_by_weft_defaults_verify() -> None:
    for private in (KEY, ed25519.Ed25519PrivateKey.generate()):
        request = Request.of("POST", INBOX, [CONTENT_TYPE], BODY)
        added = httpsig_rfc9421.sign(request, private, key_id=KEY_ID, now=NOW)
        assert set(added) == {"Content-Digest", "Signature-Input", "Signature"}
        signed = parse(method="POST", url=INBOX, headers=[CONTENT_TYPE, *added.items()], body=BODY, now=NOW)
        assert signed.covered == ('"@method"', '"@target-uri"', '"content-digest"')
        verify(signed, public_key_pem(private))


# -- tampering and garbage: always SignatureRejected ---------------------------------------------

TAMPERINGS = ["method", "path", "host", "date", "digest", "body", "signature", "drop-header"]


@settings(max_examples=150, deadline=None)
@given(what=st.sampled_from(TAMPERINGS), data=st.data())
def test_any_tampering_with_a_signed_post_fails(what: str, data: st.DataObject) -> None:
    method, url, body, headers = "POST", INBOX, BODY, post_headers()
    if what == "method":
        method = data.draw(st.sampled_from(["PUT", "PATCH", "DELETE", "GET"]))
    elif what == "path":
        segment = data.draw(st.text("abcdefghijklmnopqrstuvwxyz0123456789-_.~%", min_size=1, max_size=12))
        url = data.draw(st.sampled_from([f"{INBOX}/{segment}", f"https://remote.example/{segment}/inbox",
                                         "https://remote.example/inbox"]))
    elif what == "host":
        host = data.draw(st.from_regex(r"[a-z]{1,10}\.example", fullmatch=True).filter(lambda h: h != "remote.example"))
        headers = replace(headers, "Host", host)
    elif what == "date":
        seconds = data.draw(st.integers(-3600, 3900).filter(bool))
        headers = replace(headers, "Date", email.utils.formatdate(NOW // 1000 + seconds, usegmt=True))
    elif what == "digest":
        headers = replace(headers, "Digest", "SHA-256=" + base64.b64encode(data.draw(st.binary(min_size=32, max_size=32))).decode())
    elif what == "body":
        body = data.draw(st.binary(max_size=300).filter(lambda b: b != BODY))
    elif what == "signature":
        raw = bytearray(base64.b64decode(signature_params(headers)["signature"]))
        index = data.draw(st.integers(0, len(raw) - 1))
        raw[index] ^= data.draw(st.integers(1, 255))
        headers = replace(headers, "Signature", signature_value(headers).replace(
            signature_params(headers)["signature"], base64.b64encode(bytes(raw)).decode()))
    else:
        headers = replace(headers, data.draw(st.sampled_from(["Host", "Date", "Digest", "Signature"])), None)
    with pytest.raises(SignatureRejected):
        check(method, url, headers, body)


_header_text = st.text(st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=200)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(["Signature", "Signature-Input", "Date", "Digest", "Content-Digest", "Host"]),
       value=st.one_of(_header_text, st.from_regex(r'(keyId|headers|signature|algorithm|created)="[^"]{0,20}"(,|$)', fullmatch=False),
                       st.from_regex(r'sig1=\("[@a-z-]{0,12}"( "[@a-z-]{0,12}")*\)(;[a-z]+=[0-9a-z"]{0,8})*', fullmatch=False)))
def test_garbage_in_any_header_is_refused_with_the_one_error(name: str, value: str) -> None:
    for headers in (post_headers(), [*post_headers(), ("Signature-Input", 'sig1=("@method");keyid="k";created=1')]):
        try:
            check("POST", INBOX, replace(headers, name, value), BODY)
        except SignatureRejected as error:
            assert str(error)
        else:
            assert name in ("Host", "Content-Digest") or value == signature_value(headers)


@settings(max_examples=100, deadline=None)
@given(method=st.text(max_size=8), url=st.text(max_size=40), body=st.none() | st.binary(max_size=20))
def test_garbage_methods_and_urls_are_refused_with_the_one_error(method: str, url: str, body: bytes | None) -> None:
    with pytest.raises(SignatureRejected):
        check(method, url, post_headers(), body)
