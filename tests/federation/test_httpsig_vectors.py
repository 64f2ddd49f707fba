"""weft agrees with the published examples: RFC 9421 Appendix B and draft-cavage-12 Appendix C.

Where an example passes weft's rules it goes through ``parse`` and ``verify`` whole; where it
covers too little for them (most are minimal on purpose), its signature base is rebuilt and its
signature checked one level down, and ``parse`` is shown to refuse it with the reason.
Deterministic signatures (Ed25519, HMAC, RSA PKCS#1 v1.5) are also reproduced byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from weft.federation import httpsig_cavage, httpsig_rfc9421
from weft.federation.httpsig import (
    SignatureRejected,
    load_private_key,
    load_public_key,
    parse,
    verify,
)
from weft.federation.httpsig_algorithms import verify_with
from weft.federation.httpsig_message import Request
from weft.federation.httpsig_sfv import InnerList, Item, parse_dictionary

from . import httpsig_testdata as data

PSS = load_public_key(data.RSA_PSS_PUBLIC)
ED25519 = load_public_key(data.ED25519_PUBLIC)
_cavage_key = load_pem_public_key(data.CAVAGE_PUBLIC.encode())
assert isinstance(_cavage_key, rsa.RSAPublicKey)
CAVAGE_KEY: rsa.RSAPublicKey = _cavage_key   # 1024 bits: load_public_key refuses it, so it is loaded here


def rfc_request(*extra: tuple[str, str], method: str = "POST", url: str = data.RFC_URL,
                headers: list[tuple[str, str]] | None = None, body: bytes | None = data.RFC_BODY) -> Request:
    return Request.of(method, url, [*(data.RFC_HEADERS if headers is None else headers), *extra], body)


def base_of(request: Request, signature_input: str) -> bytes:
    (member,) = parse_dictionary(signature_input).values()
    assert isinstance(member, InnerList)
    return httpsig_rfc9421.signature_base(request, member)


def signature_of(field: str) -> bytes:
    (member,) = parse_dictionary(field).values()
    assert isinstance(member, Item) and isinstance(member.value, bytes)
    return member.value


# -- RFC 9421 B.2.1: minimal signature, rsa-pss-sha512 --------------------------------------

B21_INPUT = 'sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"'
B21_SIGNATURE = ("sig-b21=:d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it++wgGxbtRxf8Udx7zFZ"
                 "sckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR72rgFWhzx2VjBqJzsPLMIQKhO4DGezX"
                 "ehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8jYzuVG5WSb/QEVPnP5TmcAnLH1g+s++v6d4s8m0gCw1fV5/SITLq9"
                 "mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98Xw9Q==:")


def test_b21_minimal_signature_base_and_signature() -> None:
    base = base_of(rfc_request(), B21_INPUT)
    assert base == b'"@signature-params": ();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"'
    assert verify_with("rsa-pss-sha512", PSS, base, signature_of(B21_SIGNATURE))


def test_b21_covers_too_little_for_weft() -> None:
    with pytest.raises(SignatureRejected, match="must cover @method") as caught:
        parse(method="POST", url=data.RFC_URL, body=data.RFC_BODY, now=data.RFC_CREATED_MS,
              headers=[*data.RFC_HEADERS, ("Signature-Input", B21_INPUT), ("Signature", B21_SIGNATURE)])
    assert caught.value.code == "coverage"


# -- B.2.2: selective components, rsa-pss-sha512 ----------------------------------------------

B22_INPUT = ('sig-b22=("@authority" "content-digest" "@query-param";name="Pet");created=1618884473;'
             'keyid="test-key-rsa-pss";tag="header-example"')
B22_SIGNATURE = ("sig-b22=:LjbtqUbfmvjj5C5kr1Ugj4PmLYvx9wVjZvD9GsTT4F7GrcQEdJzgI9qHxICagShLRiLMlAJjtq6N4CDfKtjvuJyE5qH7KT8UCMk"
                 "SowOB4+ECxCmT8rtAmj/0PIXxi0A0nxKyB09RNrCQibbUjsLS/2YyFYXEu4TRJQzRw1rLEuEfY17SARYhpTlaqwZVtR8NV7+4UKkj"
                 "qpcAoFqWFQh62s7Cl+H2fjBSpqfZUJcsIk4N6wiKYd4je2U/lankenQ99PZfB4jY3I5rSV2DSBVkSFsURIjYErOs0tFTQosMTAox"
                 "k//0RoKUqiYY8Bh0aaUEb0rQl3/XaVe4bXTugEjHSw==:")


def test_b22_selective_components_base_and_signature() -> None:
    base = base_of(rfc_request(), B22_INPUT)
    assert base.decode().split("\n") == [
        '"@authority": example.com',
        '"content-digest": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:',
        '"@query-param";name="Pet": dog',
        '"@signature-params": ("@authority" "content-digest" "@query-param";name="Pet");created=1618884473;'
        'keyid="test-key-rsa-pss";tag="header-example"',
    ]
    assert verify_with("rsa-pss-sha512", PSS, base, signature_of(B22_SIGNATURE))


# -- B.2.3: full coverage, rsa-pss-sha512: passes weft's rules whole ---------------------------

B23_INPUT = ('sig-b23=("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" "content-length")'
             ';created=1618884473;keyid="test-key-rsa-pss"')
B23_SIGNATURE = ("sig-b23=:bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxFkeGt683+qRpRRU5p2voTp7"
                 "68ZrCUb38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPViV7KsLNmvKiLJH1pFkh/aYA2HXXZzNBXmIkoQo"
                 "Ld7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9bpG6A9BmzhuzF8Eim5f8ui9eH8LZH896+QIF61ka39VBrohr9iyMUJpvRX2"
                 "Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIztsDZKEgM4cUA==:")


def test_b23_full_coverage_is_accepted_by_parse_and_verify() -> None:
    signed = parse(method="POST", url=data.RFC_URL, body=data.RFC_BODY, now=data.RFC_CREATED_MS,
                   headers=[*data.RFC_HEADERS, ("Signature-Input", B23_INPUT), ("Signature", B23_SIGNATURE)])
    assert (signed.scheme, signed.key_id, signed.label, signed.created) == (
        "rfc9421", "test-key-rsa-pss", "sig-b23", 1618884473)
    assert signed.bases[0].decode().split("\n") == [
        '"date": Tue, 20 Apr 2021 02:07:55 GMT',
        '"@method": POST',
        '"@path": /foo',
        '"@query": ?param=Value&Pet=dog',
        '"@authority": example.com',
        '"content-type": application/json',
        '"content-digest": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:',
        '"content-length": 18',
        '"@signature-params": ("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" '
        '"content-length");created=1618884473;keyid="test-key-rsa-pss"',
    ]
    # The example names no alg: the key's owner says what it is for (RFC 9421 §3.3.7).
    verify(signed, data.RSA_PSS_PUBLIC, algorithm="rsa-pss-sha512")


def test_b23_with_a_changed_body_fails_on_the_digest() -> None:
    with pytest.raises(SignatureRejected, match="does not match Content-Digest") as caught:
        parse(method="POST", url=data.RFC_URL, body=b'{"hello": "world!"}', now=data.RFC_CREATED_MS,
              headers=[*data.RFC_HEADERS, ("Signature-Input", B23_INPUT), ("Signature", B23_SIGNATURE)])
    assert caught.value.code == "digest"


def test_pss_signatures_made_with_the_b12_key_verify() -> None:
    private = load_private_key(data.RSA_PSS_PRIVATE)
    request = rfc_request()
    added = httpsig_rfc9421.sign(request, private, key_id="test-key-rsa-pss", now=data.RFC_CREATED_MS,
                                 algorithm="rsa-pss-sha512", components=("date", "@method", "@target-uri", "content-digest"))
    signed = parse(method="POST", url=data.RFC_URL, body=data.RFC_BODY, now=data.RFC_CREATED_MS,
                   headers=[*data.RFC_HEADERS, *added.items()])
    verify(signed, PSS)


# -- B.2.5: hmac-sha256 (refused as an algorithm; the base is checked by recomputing the HMAC) --

B25_INPUT = 'sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"'
B25_SIGNATURE = "sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:"


def test_b25_base_reproduces_the_published_hmac() -> None:
    base = base_of(rfc_request(), B25_INPUT)
    assert base.decode().split("\n") == [
        '"date": Tue, 20 Apr 2021 02:07:55 GMT',
        '"@authority": example.com',
        '"content-type": application/json',
        '"@signature-params": ("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"',
    ]
    mac = hmac.new(base64.b64decode(data.SHARED_SECRET), base, hashlib.sha256).digest()
    assert mac == signature_of(B25_SIGNATURE)


def test_hmac_is_not_an_algorithm_weft_accepts() -> None:
    refused = B23_INPUT + ';alg="hmac-sha256"'
    with pytest.raises(SignatureRejected, match="'hmac-sha256' is not accepted") as caught:
        parse(method="POST", url=data.RFC_URL, body=data.RFC_BODY, now=data.RFC_CREATED_MS,
              headers=[*data.RFC_HEADERS, ("Signature-Input", refused), ("Signature", B23_SIGNATURE)])
    assert caught.value.code == "algorithm"


# -- B.2.6: ed25519, deterministic: base, signature and headers reproduced ----------------------

B26_INPUT = ('sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;'
             'keyid="test-key-ed25519"')
B26_SIGNATURE = "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:"


def test_b26_ed25519_is_reproduced_exactly() -> None:
    request = rfc_request()
    base = base_of(request, B26_INPUT)
    assert base.decode().split("\n") == [
        '"date": Tue, 20 Apr 2021 02:07:55 GMT',
        '"@method": POST',
        '"@path": /foo',
        '"@authority": example.com',
        '"content-type": application/json',
        '"content-length": 18',
        '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");'
        'created=1618884473;keyid="test-key-ed25519"',
    ]
    assert verify_with("ed25519", ED25519, base, signature_of(B26_SIGNATURE))
    private = load_private_key(data.ED25519_PRIVATE)
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    added = httpsig_rfc9421.sign(request, private, key_id="test-key-ed25519", now=data.RFC_CREATED_MS, label="sig-b26",
                                 components=("date", "@method", "@path", "@authority", "content-type", "content-length"))
    assert added == {"Signature-Input": B26_INPUT, "Signature": B26_SIGNATURE}


def test_b26_leaves_the_body_unsigned_so_weft_refuses_it() -> None:
    with pytest.raises(SignatureRejected, match="must cover its Content-Digest") as caught:
        parse(method="POST", url=data.RFC_URL, body=data.RFC_BODY, now=data.RFC_CREATED_MS,
              headers=[*data.RFC_HEADERS, ("Signature-Input", B26_INPUT), ("Signature", B26_SIGNATURE)])
    assert caught.value.code == "coverage"


# -- B.4: ed25519 over a GET, and the transformations that keep or break it ------------------

B4_INPUT = 'transform=("@method" "@path" "@authority" "accept");created=1618884473;keyid="test-key-ed25519"'
B4_SIGNATURE = "transform=:ZT1kooQsEHpZ0I1IjCqtQppOmIqlJPeo7DHR3SoMn0s5JZ1eRGS0A+vyYP9t/LXlh5QMFFQ6cpLt2m0pmj3NDA==:"
B4_SIGNED = [("Signature-Input", B4_INPUT), ("Signature", B4_SIGNATURE)]


@pytest.mark.parametrize(("url", "headers"), [
    ("https://example.org/demo?name1=Value1&Name2=value2",
     [("Accept", "application/json"), ("Accept", "*/*"), ("Date", "Fri, 15 Jul 2022 14:24:55 GMT")]),
    ("https://example.org/demo?name1=Value1&Name2=value2&param=added",
     [("Accept", "application/json"), ("Accept", "*/*"), ("Accept-Language", "en-US,en;q=0.5")]),
    ("https://example.org/demo?name1=Value1&Name2=value2",
     [("Accept", "application/json, */*"), ("Referer", "https://developer.example.org/demo")]),
], ids=["original", "uncovered-query-and-field-added", "accept-lines-combined"])
def test_b4_allowed_transformations_still_verify(url: str, headers: list[tuple[str, str]]) -> None:
    signed = parse(method="GET", url=url, headers=[*headers, *B4_SIGNED], body=None, now=data.RFC_CREATED_MS)
    verify(signed, data.ED25519_PUBLIC)


@pytest.mark.parametrize(("method", "url", "accept"), [
    ("POST", "https://example.com/demo?name1=Value1&Name2=value2", ["application/json", "*/*"]),
    ("GET", "https://example.org/demo?name1=Value1&Name2=value2", ["*/*", "application/json"]),
], ids=["method-and-authority-changed", "accept-values-reordered"])
def test_b4_other_transformations_break_it(method: str, url: str, accept: list[str]) -> None:
    request = Request.of(method, url, [("Accept", value) for value in accept], None)
    assert not verify_with("ed25519", ED25519, base_of(request, B4_INPUT), signature_of(B4_SIGNATURE))


# -- draft-cavage-12 Appendix C ----------------------------------------------------------------

C1 = ('keyId="Test",algorithm="rsa-sha256",signature="SjWJWbWN7i0wzBvtPl8rbASWz5xQW6mcJmn+ibttBqtifLN7Sazz6m79cNfwwb8DMJ5cou1s7uE'
      'GKKCs+FLEEaDV5lp7q25WqS+lavg7T8hc0GppauB6hbgEKTwblDHYGEtbGmtdHgVCk9SuS13F0hZ8FD0k/5OxEPXe5WozsbM="')
C2 = ('keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date",signature="qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyU'
      'XMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3HMbe8VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr'
      '3lgdDEmn04swr2Os0="')
# The draft prints C.3's Signature with created/expires and "(created) (expires)" in headers, but
# its signature value was made over the list below (as in draft 10); that is the one that verifies.
C3 = ('keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date content-type digest content-length",'
      'signature="vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32NfpB2bEKBIvB1q52LaEUHFv120V01IL+TAD4'
      '8XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE="')


def cavage_request(method: str = "POST", body: bytes | None = data.CAVAGE_BODY) -> Request:
    return Request.of(method, data.CAVAGE_URL, data.CAVAGE_HEADERS, body)


@pytest.mark.parametrize(("header", "signing_string"), [
    (C1, "date: Sun, 05 Jan 2014 21:31:40 GMT"),
    (C2, "(request-target): post /foo?param=value&pet=dog\nhost: example.com\ndate: Sun, 05 Jan 2014 21:31:40 GMT"),
    (C3, "(request-target): post /foo?param=value&pet=dog\nhost: example.com\ndate: Sun, 05 Jan 2014 21:31:40 GMT\n"
         "content-type: application/json\ndigest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=\ncontent-length: 18"),
], ids=["C.1-default", "C.2-basic", "C.3-all-headers"])
def test_cavage_signing_strings_and_signatures_are_reproduced(header: str, signing_string: str) -> None:
    signature = httpsig_cavage.parse_signature_header(header)
    built = httpsig_cavage.signing_string(cavage_request(), signature)
    assert built == signing_string.encode()
    assert verify_with("rsa-v1_5-sha256", CAVAGE_KEY, built, signature.signature)
    # PKCS#1 v1.5 is deterministic: the private key of Appendix C makes the same signature.
    private = load_pem_private_key(data.CAVAGE_PRIVATE.encode(), None)
    assert isinstance(private, rsa.RSAPrivateKey)
    assert private.sign(built, padding.PKCS1v15(), hashes.SHA256()) == signature.signature


def test_cavage_c3_passes_weft_rules_with_its_own_date() -> None:
    signed = parse(method="POST", url=data.CAVAGE_URL, headers=[*data.CAVAGE_HEADERS, ("Signature", C3)],
                   body=data.CAVAGE_BODY, now=data.CAVAGE_DATE_MS)
    assert (signed.scheme, signed.key_id, signed.algorithm) == ("draft-cavage", "Test", "rsa-sha256")
    verify(signed, CAVAGE_KEY)


def test_cavage_c3_key_is_too_weak_to_load_from_pem() -> None:
    signed = parse(method="POST", url=data.CAVAGE_URL, headers=[*data.CAVAGE_HEADERS, ("Signature", C3)],
                   body=data.CAVAGE_BODY, now=data.CAVAGE_DATE_MS)
    with pytest.raises(SignatureRejected, match="1024 bits; at least 2048") as caught:
        verify(signed, data.CAVAGE_PUBLIC)
    assert caught.value.code == "key"


@pytest.mark.parametrize(("header", "reason"), [
    (C1, r"must cover \(request-target\)"),
    (C2, "must cover its Digest header"),
], ids=["C.1-covers-only-the-date", "C.2-leaves-the-body-unsigned"])
def test_cavage_c1_and_c2_cover_too_little_for_a_post(header: str, reason: str) -> None:
    with pytest.raises(SignatureRejected, match=reason):
        parse(method="POST", url=data.CAVAGE_URL, headers=[*data.CAVAGE_HEADERS, ("Signature", header)],
              body=data.CAVAGE_BODY, now=data.CAVAGE_DATE_MS)

