"""RFC 9421 signatures under weft's rules: components, parameters, digests and time."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from weft.federation import httpsig_rfc9421
from weft.federation.httpsig import (
    SignatureMismatch,
    SignatureRejected,
    SignatureRequest,
    parse,
    verify,
)
from weft.federation.httpsig_message import Request
from weft.federation.httpsig_sfv import InnerList, Item

KEY = ed25519.Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key()
NOW = 1_700_000_000_000
URL = "https://remote.example/users/bob/inbox?x=1"
BODY = b'{"type":"Follow"}'
BASE_HEADERS = [("Host", "remote.example"), ("Date", "Tue, 14 Nov 2023 22:13:20 GMT"), ("Content-Type", "application/activity+json")]


def signed(components: tuple[str, ...] = ("@method", "@target-uri", "content-digest"), *, method: str = "POST",
           body: bytes | None = BODY, now: int = NOW, **options: object) -> list[tuple[str, str]]:
    request = Request.of(method, URL, BASE_HEADERS, body)
    added = httpsig_rfc9421.sign(request, KEY, key_id="https://weft.example/users/alice#ed25519-key", now=now,
                                 components=components, **options)  # type: ignore[arg-type]
    return [*BASE_HEADERS, *added.items()]


def check(headers: list[tuple[str, str]], *, method: str = "POST", body: bytes | None = BODY, now: int = NOW) -> SignatureRequest:
    result = parse(method=method, url=URL, headers=headers, body=body, now=now)
    verify(result, PUBLIC)
    return result


def with_input(headers: list[tuple[str, str]], signature_input: str) -> list[tuple[str, str]]:
    return [(name, signature_input if name == "Signature-Input" else value) for name, value in headers]


def test_every_derived_component_and_field_parameter_signs_and_verifies() -> None:
    components = ("@method", "@target-uri", "@authority", "@scheme", "@request-target", "@path", "@query",
                  "content-digest", "date", "content-type")
    headers = signed(components)
    result = check(headers)
    assert result.bases[0].decode().split("\n")[:7] == [
        '"@method": POST', f'"@target-uri": {URL}', '"@authority": remote.example', '"@scheme": https',
        '"@request-target": /users/bob/inbox?x=1', '"@path": /users/bob/inbox', '"@query": ?x=1']


def test_query_params_key_and_bs_components() -> None:
    request = Request.of("POST", "https://remote.example/a?name=caf%C3%A9+au+lait&tilde=~&e=", [
        ("Content-Digest", "sha-256=:AAAA:, sha-512=:BBBB:"), ("X-Two", "one"), ("X-Two", "two")], b"")
    covered = InnerList((Item("@query-param", {"name": "name"}), Item("@query-param", {"name": "tilde"}),
                         Item("@query-param", {"name": "e"}), Item("content-digest", {"key": "sha-512"}),
                         Item("x-two", {"bs": True}), Item("x-two")), {"created": 1})
    assert httpsig_rfc9421.signature_base(request, covered).decode().split("\n")[:6] == [
        '"@query-param";name="name": caf%C3%A9%20au%20lait',
        '"@query-param";name="tilde": %7E',
        '"@query-param";name="e": ',
        '"content-digest";key="sha-512": :BBBB:',
        '"x-two";bs: :b25l:, :dHdv:',
        '"x-two": one, two',
    ]


@pytest.mark.parametrize(("components", "reason"), [
    (("@target-uri", "content-digest"), "must cover @method"),
    (("@method", "@authority", "content-digest"), r"must cover @target-uri \(or @path\)"),
    (("@method", "@path", "content-digest"), r"must cover @target-uri \(or @authority\)"),
    (("@method", "@target-uri"), "must cover its Content-Digest"),
])
def test_required_coverage(components: tuple[str, ...], reason: str) -> None:
    with pytest.raises(SignatureRejected, match=reason) as caught:
        check(signed(components))
    assert caught.value.code == "coverage"


def test_path_and_host_are_enough_and_a_get_needs_no_digest() -> None:
    check(signed(("@method", "@path", "host", "content-digest")))
    check(signed(("@method", "@target-uri"), method="GET", body=None), method="GET", body=None)


@pytest.mark.parametrize(("signature_input", "reason", "code"), [
    ('sig1=("@method" "@target-uri" "content-digest");created=1700000000', "has no keyid", "missing"),
    ('sig1=("@method" "@target-uri" "content-digest");keyid="k"', "created parameter or must cover the Date", "coverage"),
    ('sig1=("@method" "@target-uri" "content-digest");created="1700000000";keyid="k"', "created is not an integer", "malformed"),
    ('sig1=("@method" "@target-uri" "content-digest");created=1700000000;keyid=k', "keyid is not a string", "malformed"),
    ('sig1=("@method" "@target-uri" "content-digest");created=1700000000;keyid="k";alg="rsa-sha256"',
     "algorithm 'rsa-sha256' is not accepted", "algorithm"),
    ('sig1=("@method" "@method" "@target-uri" "content-digest");created=1700000000;keyid="k"', "covers \"@method\" twice", "malformed"),
    ('sig1=("@method" "@target-uri" "Content-Digest");created=1700000000;keyid="k"', "must be in lower case", "malformed"),
    ('sig1=("@method" "@target-uri" "content-digest" "@status");created=1700000000;keyid="k"', "@status cannot be", "malformed"),
    ('sig1=("@method" "@target-uri" "content-digest" "@nonsense");created=1700000000;keyid="k"', "not a derived component", "malformed"),
    ('sig1=("@method" "@target-uri" "content-digest" "content-type";sf);created=1700000000;keyid="k"', "type of content-type is not known", "malformed"),
    ('sig1=("@method" "@target-uri" "content-digest" "content-type";req);created=1700000000;keyid="k"', "not supported", "malformed"),
    ('sig1=("@method" "@target-uri" "content-digest" "x-absent");created=1700000000;keyid="k"', "x-absent header, which the request does not have", "missing"),
    ('sig1=("@method" "@target-uri" "content-digest" "@query-param";name="y");created=1700000000;keyid="k"', "query parameter 'y'", "missing"),
    ('sig1=("@method" "@target-uri" "content-digest" date);created=1700000000;keyid="k"', "not a quoted string", "malformed"),
    ('sig1=:AAAA:', "not a list of components", "malformed"),
    ('other=("@method");created=1700000000;keyid="k"', "no label of Signature-Input has a signature", "missing"),
    ('sig1=("@method" "@target-uri"', "not a structured dictionary", "malformed"),
])
def test_bad_signature_inputs_say_what_is_wrong(signature_input: str, reason: str, code: str) -> None:
    with pytest.raises(SignatureRejected, match=reason) as caught:
        check(with_input(signed(), signature_input))
    assert caught.value.code == code


def test_the_first_label_with_a_signature_is_checked() -> None:
    headers = signed()
    headers = [(name, f'other=("@method");created=1;keyid="x", {value}' if name == "Signature-Input" else value)
               for name, value in headers]
    assert check(headers).label == "sig1"


def test_content_digest_must_match_and_be_a_known_hash() -> None:
    headers = signed()
    wrong = [(name, "sha-256=:" + base64.b64encode(bytes(32)).decode() + ":" if name == "Content-Digest" else value)
             for name, value in headers]
    with pytest.raises(SignatureRejected, match="body does not match Content-Digest: it hashes to sha-256=:") as caught:
        check(wrong)
    assert caught.value.code == "digest"
    md5 = [(name, "md5=:AAAA:" if name == "Content-Digest" else value) for name, value in headers]
    with pytest.raises(SignatureRejected, match="offers md5; weft checks sha-256 or sha-512"):
        check(md5)
    with pytest.raises(SignatureRejected, match="does not match"):
        check(headers, body=BODY + b"!")


def test_both_known_digests_are_checked() -> None:
    sha512 = base64.b64encode(hashlib.sha512(BODY).digest()).decode()
    request = Request.of("POST", URL, [*BASE_HEADERS, ("Content-Digest", f"sha-512=:{sha512}:")], BODY)
    added = httpsig_rfc9421.sign(request, KEY, key_id="k", now=NOW)
    assert "Content-Digest" not in added
    check([*BASE_HEADERS, ("Content-Digest", f"sha-512=:{sha512}:"), *added.items()])


def test_created_and_expires_follow_mastodons_window() -> None:
    headers = signed(expires=NOW // 1000 + 60)
    check(headers, now=NOW + 3660_000)
    with pytest.raises(SignatureRejected, match="expired 1 h 1 s ago") as caught:
        check(headers, now=NOW + 3661_000)
    assert caught.value.code == "stale"
    with pytest.raises(SignatureRejected, match="in the future"):
        check(signed(now=NOW + 3601_000))


def test_a_covered_date_dates_a_signature_without_created() -> None:
    request = Request.of("POST", URL, BASE_HEADERS, BODY)
    headers = signed(("date", "@method", "@target-uri", "content-digest"))
    no_created = [(name, value.replace(";created=1700000000", "") if name == "Signature-Input" else value)
                  for name, value in headers]
    result = parse(method="POST", url=URL, headers=no_created, body=BODY, now=NOW)
    assert result.created == 1700000000 and request.field("date") == "Tue, 14 Nov 2023 22:13:20 GMT"
    with pytest.raises(SignatureMismatch):   # the created parameter was signed: taking it away breaks the signature
        verify(result, PUBLIC)


def test_the_key_and_the_declared_algorithm_must_agree() -> None:
    headers = signed(algorithm="ed25519")
    result = parse(method="POST", url=URL, headers=headers, body=BODY, now=NOW)
    verify(result, PUBLIC, algorithm="ed25519")
    with pytest.raises(SignatureMismatch, match="the signature says ed25519, but the key is for rsa-pss-sha512"):
        verify(result, PUBLIC, algorithm="rsa-pss-sha512")
    with pytest.raises(SignatureRejected, match="'hmac-sha256' is not accepted"):
        verify(result, PUBLIC, algorithm="hmac-sha256")


def test_a_tampered_rfc9421_request_fails() -> None:
    headers = signed()
    for method, url, body in (("PUT", URL, BODY), ("POST", URL.replace("x=1", "x=2"), BODY),
                              ("POST", URL.replace("remote", "other"), BODY)):
        with pytest.raises(SignatureRejected):
            verify(parse(method=method, url=url, headers=headers, body=body, now=NOW), PUBLIC)


def test_query_params_are_reencoded_as_rfc9421_section_2_2_8_shows() -> None:
    request = Request.of("GET", "https://example.com/parameters?var=this%20is%20a%20big%0Avalue&bar=with+plus+whitespace"
                         "&fa%C3%A7ade%22%3A%20=something", [], None)
    covered = InnerList((Item("@query-param", {"name": "var"}), Item("@query-param", {"name": "bar"}),
                         Item("@query-param", {"name": "fa%C3%A7ade%22%3A%20"})), {})
    assert httpsig_rfc9421.signature_base(request, covered).decode().split("\n")[:3] == [
        '"@query-param";name="var": this%20is%20a%20big%0Avalue',
        '"@query-param";name="bar": with%20plus%20whitespace',
        '"@query-param";name="fa%C3%A7ade%22%3A%20": something',
    ]
