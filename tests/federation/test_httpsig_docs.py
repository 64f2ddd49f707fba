"""docs/protocol/http-signatures.md and its vectors are what weft.federation.httpsig produces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from weft.federation.httpsig import load_private_key, parse, public_key_pem, sign, verify
from weft.federation.httpsig_cavage import parse_signature_header, signing_string
from weft.federation.httpsig_message import Request

from . import httpsig_testdata as data

DOCS = Path(__file__).resolve().parents[2] / "docs" / "protocol"
VECTORS: dict[str, Any] = orjson.loads((DOCS / "vectors" / "http-signatures.json").read_bytes())
PAGE = (DOCS / "http-signatures.md").read_text(encoding="utf-8")
_key = load_private_key(VECTORS["key"]["private_key_pem"])
assert isinstance(_key, rsa.RSAPrivateKey)
KEY: rsa.RSAPrivateKey = _key


def by_name() -> list[Any]:
    return [pytest.param(request, id=request["name"]) for request in VECTORS["requests"]]


def test_the_vector_key_is_rfc9421_test_key_rsa() -> None:
    assert VECTORS["key"]["private_key_pem"] == data.RSA_PRIVATE
    assert VECTORS["key"]["public_key_pem"] == public_key_pem(KEY)


@pytest.mark.parametrize("vector", by_name())
def test_signing_the_vector_request_adds_exactly_its_headers(vector: dict[str, Any]) -> None:
    body = None if vector["body"] is None else vector["body"].encode("utf-8")
    added = sign(method=vector["method"], url=vector["url"], headers=vector["headers"], body=body,
                 private_key=KEY, key_id=VECTORS["key_id"], now=VECTORS["now_ms"])
    assert added == vector["added_headers"]
    headers = [*vector["headers"].items(), *added.items()]
    request = Request.of(vector["method"], vector["url"], headers, body)
    assert signing_string(request, parse_signature_header(added["Signature"])).decode() == vector["signing_string"]
    verify(parse(method=vector["method"], url=vector["url"], headers=headers, body=body, now=VECTORS["now_ms"]),
           VECTORS["key"]["public_key_pem"])


@pytest.mark.parametrize("vector", by_name())
def test_the_page_shows_the_vectors(vector: dict[str, Any]) -> None:
    assert f"```\n{vector['signing_string']}\n```" in PAGE
    if vector["name"] == "post-create-note":
        lines = "\n".join(f"{name}: {value}" for name, value in vector["added_headers"].items())
        assert f"```\n{lines}\n```" in PAGE
