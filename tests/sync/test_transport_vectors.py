"""The committed transport vectors are what weft.sync builds, and the document's formulas explain them.

Apart from the first tests, these read the committed JSON rather than build_vectors(), and
recompute what they can straight from docs/protocol/transport.md, the way an implementation
in another language would use them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path
from typing import Any

import nacl.bindings as sodium
import orjson
import pytest

from weft.core.keys import SigningKey
from weft.errors import BoxStreamError, HandshakeFailed
from weft.sync import transport_vectors
from weft.sync.boxstream import BoxStreamDecoder, BoxStreamEncoder, BoxStreamFailure
from weft.sync.shs import ClientHandshake, HandshakeFailure, ServerHandshake

DOCS = Path(__file__).resolve().parents[2] / "docs" / "protocol"
VECTORS = DOCS / "vectors"
TRANSPORT: dict[str, Any] = orjson.loads((VECTORS / "transport.json").read_bytes())
KEYS = TRANSPORT["keys"]


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def auth(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha512).digest()[:32]


def box(message: bytes, key: bytes, nonce: bytes = bytes(24)) -> bytes:
    boxed: bytes = sodium.crypto_secretbox(message, nonce, key)
    return boxed


def long_term(name: str) -> SigningKey:
    return SigningKey(h(KEYS[name]["seed_hex"]))


def client(network_key: bytes) -> ClientHandshake:
    return ClientHandshake(network_key=network_key, signing_key=long_term("client_longterm"),
                           server_public_key=h(KEYS["server_longterm"]["public_key_hex"]),
                           ephemeral_secret=h(KEYS["client_ephemeral"]["secret_hex"]))


def server(network_key: bytes) -> ServerHandshake:
    return ServerHandshake(network_key=network_key, signing_key=long_term("server_longterm"),
                           ephemeral_secret=h(KEYS["server_ephemeral"]["secret_hex"]))


# -- the file is what the code builds ------------------------------------------------------


def test_committed_vectors_are_exactly_what_weft_sync_builds() -> None:
    for name, data in transport_vectors.render(transport_vectors.build_vectors()).items():
        assert (VECTORS / name).read_bytes() == data, (
            f"{name} is stale: run `python -m weft.sync.transport_vectors docs/protocol/vectors`")


def test_building_twice_gives_the_same_bytes() -> None:
    build = transport_vectors.build_vectors
    assert transport_vectors.render(build()) == transport_vectors.render(build())


def test_the_generator_writes_the_file(tmp_path: Path) -> None:
    assert transport_vectors.main([str(tmp_path)]) == 0
    assert (tmp_path / "transport.json").read_bytes() == (VECTORS / "transport.json").read_bytes()
    assert transport_vectors.main([]) == 2


# -- keys -------------------------------------------------------------------------------


def test_network_keys() -> None:
    weft, ssb = TRANSPORT["network_keys"]["weft"], TRANSPORT["network_keys"]["scuttlebutt"]
    assert sha256(weft["label"].encode("ascii")).hex() == weft["hex"]
    assert ssb["hex"] == "d4a1cb88a66f02f8db635ce26441cc5dac1b08420ceaac230839b755845a9ffb"


@pytest.mark.parametrize("name", ["client_longterm", "server_longterm", "stranger_longterm"])
def test_long_term_keys_follow_from_their_seeds(name: str) -> None:
    item = KEYS[name]
    public, secret = sodium.crypto_sign_seed_keypair(h(item["seed_hex"]))
    assert (public.hex(), secret.hex()) == (item["public_key_hex"], item["libsodium_secret_key_hex"])
    assert sodium.crypto_sign_ed25519_sk_to_curve25519(secret).hex() == item["curve25519_secret_hex"]
    assert sodium.crypto_sign_ed25519_pk_to_curve25519(public).hex() == item["curve25519_public_hex"]


@pytest.mark.parametrize("name", ["client_ephemeral", "server_ephemeral"])
def test_ephemeral_keys_follow_from_their_secrets(name: str) -> None:
    item = KEYS[name]
    assert sodium.crypto_scalarmult_base(h(item["secret_hex"])).hex() == item["public_hex"]


# -- handshakes ----------------------------------------------------------------------------


@pytest.mark.parametrize("vector", TRANSPORT["handshakes"], ids=lambda v: v["name"])
def test_the_handshake_objects_replay_the_vector(vector: dict[str, Any]) -> None:
    nk = h(vector["network_key_hex"])
    messages = {k[:4]: h(v) for k, v in vector["messages"].items()}
    c, s = client(nk), server(nk)
    assert c.data_to_send() == messages["msg1"]
    assert s.receive_data(messages["msg1"]) is None
    assert s.data_to_send() == messages["msg2"]
    assert c.receive_data(messages["msg2"]) is None
    assert c.data_to_send() == messages["msg3"]
    server_done = s.receive_data(messages["msg3"])
    assert s.data_to_send() == messages["msg4"]
    client_done = c.receive_data(messages["msg4"])
    assert client_done is not None and server_done is not None
    for done, role in ((client_done, "client"), (server_done, "server")):
        keys = vector["outcome"][role]
        assert done.keys.to_bytes() == h(keys["encrypt_key_hex"]) + h(keys["encrypt_nonce_hex"]) \
            + h(keys["decrypt_key_hex"]) + h(keys["decrypt_nonce_hex"])


@pytest.mark.parametrize("vector", TRANSPORT["handshakes"], ids=lambda v: v["name"])
def test_the_documents_formulas_explain_every_message_and_key(vector: dict[str, Any]) -> None:
    nk = h(vector["network_key_hex"])
    d = {k.removesuffix("_hex"): h(v) for k, v in vector["derived"].items()}
    m = {k.removesuffix("_hex"): h(v) for k, v in vector["messages"].items()}
    A, B = h(KEYS["client_longterm"]["public_key_hex"]), h(KEYS["server_longterm"]["public_key_hex"])
    a, b = h(KEYS["client_ephemeral"]["public_hex"]), h(KEYS["server_ephemeral"]["public_hex"])
    a_sk, b_sk = h(KEYS["client_ephemeral"]["secret_hex"]), h(KEYS["server_ephemeral"]["secret_hex"])
    A_curve_sk = h(KEYS["client_longterm"]["curve25519_secret_hex"])
    B_curve_sk = h(KEYS["server_longterm"]["curve25519_secret_hex"])
    A_curve, B_curve = h(KEYS["client_longterm"]["curve25519_public_hex"]), h(
        KEYS["server_longterm"]["curve25519_public_hex"])

    # §3: both sides reach the same three secrets.
    assert sodium.crypto_scalarmult(a_sk, b) == sodium.crypto_scalarmult(b_sk, a) == d["shared_ab"]
    assert sodium.crypto_scalarmult(a_sk, B_curve) == sodium.crypto_scalarmult(B_curve_sk, a) == d["shared_aB"]
    assert sodium.crypto_scalarmult(A_curve_sk, b) == sodium.crypto_scalarmult(b_sk, A_curve) == d["shared_Ab"]
    ab, aB, Ab = d["shared_ab"], d["shared_aB"], d["shared_Ab"]

    assert m["msg1"] == auth(nk, a) + a
    assert m["msg2"] == auth(nk, b) + b
    sig_a = d["msg3_plaintext"][:64]
    assert d["msg3_plaintext"] == sig_a + A
    sodium.crypto_sign_open(sig_a + nk + B + sha256(ab), A)
    assert d["msg3_box_key"] == sha256(nk + ab + aB)
    assert m["msg3"] == box(d["msg3_plaintext"], d["msg3_box_key"])
    sodium.crypto_sign_open(d["msg4_plaintext"] + nk + sig_a + A + sha256(ab), B)
    assert d["msg4_box_key"] == sha256(nk + ab + aB + Ab)
    assert m["msg4"] == box(d["msg4_plaintext"], d["msg4_box_key"])

    # §4: the box-stream keys.
    s = sha256(d["msg4_box_key"])
    client_keys = vector["outcome"]["client"]
    assert h(client_keys["encrypt_key_hex"]) == sha256(s + B)
    assert h(client_keys["encrypt_nonce_hex"]) == auth(nk, b)[:24]
    assert h(client_keys["decrypt_key_hex"]) == sha256(s + A)
    assert h(client_keys["decrypt_nonce_hex"]) == auth(nk, a)[:24]
    server_keys = vector["outcome"]["server"]
    assert (server_keys["encrypt_key_hex"], server_keys["encrypt_nonce_hex"]) == (
        client_keys["decrypt_key_hex"], client_keys["decrypt_nonce_hex"])
    assert (server_keys["decrypt_key_hex"], server_keys["decrypt_nonce_hex"]) == (
        client_keys["encrypt_key_hex"], client_keys["encrypt_nonce_hex"])


@pytest.mark.parametrize("vector", TRANSPORT["invalid_handshakes"], ids=lambda v: v["name"])
def test_invalid_handshake(vector: dict[str, Any]) -> None:
    nk = h(vector["network_key_hex"])
    machine: ClientHandshake | ServerHandshake = client(nk) if vector["role"] == "client" else server(nk)
    *earlier, last = (h(message) for message in vector["received_hex"])
    for message in earlier:
        machine.receive_data(message)
    with pytest.raises(HandshakeFailed) as caught:
        machine.receive_data(last)
    assert caught.value.code == vector["expected_code"]


def test_every_handshake_failure_a_peer_can_cause_has_a_vector() -> None:
    expected = {v["expected_code"] for v in TRANSPORT["invalid_handshakes"]}
    not_from_bytes = {HandshakeFailure.PEER_CLOSED, HandshakeFailure.TIMEOUT}
    assert expected == {code.value for code in HandshakeFailure} - not_from_bytes


# -- box-stream ----------------------------------------------------------------------------

STREAM = TRANSPORT["box_stream"]


def wire(write: dict[str, Any]) -> bytes:
    return b"".join(h(f["header_hex"]) + h(f["body_hex"]) for f in write["frames"])


def test_the_encoder_writes_the_vector_frames() -> None:
    encoder = BoxStreamEncoder(h(STREAM["key_hex"]), h(STREAM["nonce_hex"]))
    for write in STREAM["writes"]:
        assert encoder.encode(h(write["plaintext_hex"])) == wire(write)
    assert encoder.goodbye() == h(STREAM["goodbye"]["header_hex"])


def test_the_frames_are_built_as_the_document_says() -> None:
    key, nonce = h(STREAM["key_hex"]), int(STREAM["nonce_hex"], 16)
    bodies = []
    for write in STREAM["writes"]:
        for frame in write["frames"]:
            assert h(frame["header_nonce_hex"]) == nonce.to_bytes(24, "big")
            assert h(frame["body_nonce_hex"]) == (nonce + 1).to_bytes(24, "big")
            header = sodium.crypto_secretbox_open(h(frame["header_hex"]), h(frame["header_nonce_hex"]), key)
            assert header == h(frame["header_plaintext_hex"])
            length, mac = int.from_bytes(header[:2], "big"), header[2:]
            assert length == len(h(frame["body_hex"])) <= STREAM["max_body_bytes"]
            bodies.append(sodium.crypto_secretbox_open(mac + h(frame["body_hex"]),
                                                       h(frame["body_nonce_hex"]), key))
            nonce += 2
        assert b"".join(bodies[-len(write["frames"]):]) == h(write["plaintext_hex"])
    assert h(STREAM["goodbye"]["header_nonce_hex"]) == nonce.to_bytes(24, "big")
    assert sodium.crypto_secretbox_open(h(STREAM["goodbye"]["header_hex"]),
                                        nonce.to_bytes(24, "big"), key) == bytes(18)


def test_the_decoder_reads_the_vector_stream() -> None:
    decoder = BoxStreamDecoder(h(STREAM["key_hex"]), h(STREAM["nonce_hex"]))
    decoder.receive_data(b"".join(wire(w) for w in STREAM["writes"]) + h(STREAM["goodbye"]["header_hex"]))
    bodies = []
    while (body := decoder.next_body()) is not None:
        bodies.append(body)
    assert b"".join(bodies) == b"".join(h(w["plaintext_hex"]) for w in STREAM["writes"])
    assert decoder.ended


@pytest.mark.parametrize("vector", STREAM["invalid"], ids=lambda v: v["name"])
def test_invalid_box_stream(vector: dict[str, Any]) -> None:
    decoder = BoxStreamDecoder(h(STREAM["key_hex"]), h(STREAM["nonce_hex"]))
    with pytest.raises(BoxStreamError) as caught:
        decoder.receive_data(h(vector["stream_hex"]))
        while decoder.next_body() is not None:
            pass
        decoder.receive_eof()
    assert caught.value.code == vector["expected_code"]


def test_every_box_stream_failure_has_a_vector() -> None:
    assert {v["expected_code"] for v in STREAM["invalid"]} == {c.value for c in BoxStreamFailure}


# -- the document --------------------------------------------------------------------------

DOC = (DOCS / "transport.md").read_text()


def strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(strings(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(strings(v) for v in value))
    return set()


def test_the_document_points_to_its_vectors_and_its_generator() -> None:
    assert "(vectors/transport.json)" in DOC
    assert "python -m weft.sync.transport_vectors docs/protocol/vectors" in DOC


def test_every_hex_value_in_the_document_is_a_vector() -> None:
    quoted = re.findall(r"\b[0-9a-f]{64}\b", DOC)
    assert quoted
    assert set(quoted) <= strings(TRANSPORT)


def test_the_document_names_every_failure_code() -> None:
    for code in [*HandshakeFailure, *BoxStreamFailure]:
        assert f"`{code.value}`" in DOC
    assert f"`{TRANSPORT['network_keys']['weft']['label']}`" in DOC

