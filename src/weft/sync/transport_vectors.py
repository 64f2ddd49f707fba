"""Test vectors for ``docs/protocol/transport.md``: the secret handshake and box-stream.

``build_vectors()`` is pure and deterministic: fixed seeds and ephemeral secrets
(``bytes([n]) * 32``), so every message and key comes out the same each time.
``python -m weft.sync.transport_vectors OUTDIR`` writes ``transport.json``; the committed
copy lives in ``docs/protocol/vectors/`` and ``tests/sync/test_transport_vectors.py``
checks that it is exactly what this module builds, as ``weft.core.vectors`` does for the
other formats.

The messages come from the handshake objects themselves; the intermediate values (the
three shared secrets, the box keys, the plaintexts) are computed here a second time,
straight from the formulas in the document, so that the test can check that one explains
the other. All binary values are lower-case hex.
"""

from __future__ import annotations

import hashlib
import hmac
import sys
from typing import Any, Final

import nacl.bindings as sodium
import orjson

from weft.core.keys import SigningKey
from weft.core.vectors import vectors_cli
from weft.sync.boxstream import MAX_BODY_BYTES, BoxStreamEncoder
from weft.sync.shs import (
    NETWORK_KEY_LABEL,
    SCUTTLEBUTT_NETWORK_KEY,
    WEFT_NETWORK_KEY,
    ClientHandshake,
    HandshakeFailure,
    ServerHandshake,
)

__all__ = ["build_vectors", "main", "render"]

CLIENT: Final = SigningKey(bytes([1]) * 32)
SERVER: Final = SigningKey(bytes([2]) * 32)
STRANGER: Final = SigningKey(bytes([5]) * 32)  # a key neither side expects
CLIENT_EPHEMERAL: Final = bytes([3]) * 32
SERVER_EPHEMERAL: Final = bytes([4]) * 32
_ZERO_NONCE: Final = bytes(24)


def _hmac(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA-512-256, libsodium's crypto_auth."""
    return hmac.new(key, message, hashlib.sha512).digest()[:32]


def _sha256(data: bytes) -> bytes:
    digest: bytes = sodium.crypto_hash_sha256(data)
    return digest


def _box(message: bytes, key: bytes, nonce: bytes = _ZERO_NONCE) -> bytes:
    boxed: bytes = sodium.crypto_secretbox(message, nonce, key)
    return boxed


def _curve_secret(key: SigningKey) -> bytes:
    _, secret = sodium.crypto_sign_seed_keypair(key.seed)
    converted: bytes = sodium.crypto_sign_ed25519_sk_to_curve25519(secret)
    return converted


def _curve_public(key: SigningKey) -> bytes:
    converted: bytes = sodium.crypto_sign_ed25519_pk_to_curve25519(key.public_key)
    return converted


def _public(ephemeral_secret: bytes) -> bytes:
    public: bytes = sodium.crypto_scalarmult_base(ephemeral_secret)
    return public


def _dh(secret: bytes, public: bytes) -> bytes:
    shared: bytes = sodium.crypto_scalarmult(secret, public)
    return shared


def _derivation(network_key: bytes) -> dict[str, bytes]:
    """Every intermediate value of one handshake, by the document's formulas."""
    a, b = CLIENT_EPHEMERAL, SERVER_EPHEMERAL
    ab = _dh(a, _public(b))
    aB = _dh(a, _curve_public(SERVER))
    Ab = _dh(_curve_secret(CLIENT), _public(b))
    signature_a = CLIENT.sign(network_key + SERVER.public_key + _sha256(ab))
    msg3_plaintext = signature_a + CLIENT.public_key
    msg4_plaintext = SERVER.sign(network_key + msg3_plaintext + _sha256(ab))
    return {"shared_ab": ab, "shared_aB": aB, "shared_Ab": Ab, "msg3_plaintext": msg3_plaintext,
            "msg3_box_key": _sha256(network_key + ab + aB), "msg4_plaintext": msg4_plaintext,
            "msg4_box_key": _sha256(network_key + ab + aB + Ab)}


def _machines(network_key: bytes, server_key: bytes | None = None
              ) -> tuple[ClientHandshake, ServerHandshake]:
    client = ClientHandshake(network_key=network_key, signing_key=CLIENT,
                             server_public_key=server_key or SERVER.public_key,
                             ephemeral_secret=CLIENT_EPHEMERAL)
    server = ServerHandshake(network_key=network_key, signing_key=SERVER,
                             ephemeral_secret=SERVER_EPHEMERAL)
    return client, server


def _handshake(name: str, network_key: bytes) -> dict[str, Any]:
    client, server = _machines(network_key)
    msg1 = client.data_to_send()
    server.receive_data(msg1)
    msg2 = server.data_to_send()
    client.receive_data(msg2)
    msg3 = client.data_to_send()
    server_done = server.receive_data(msg3)
    msg4 = server.data_to_send()
    client_done = client.receive_data(msg4)
    if server_done is None or client_done is None:  # cannot happen: the same keys throughout
        raise RuntimeError("the vector handshake did not complete")
    keys = {"client": client_done.keys, "server": server_done.keys}
    return {
        "name": name, "network_key_hex": network_key.hex(),
        "messages": {"msg1_hex": msg1.hex(), "msg2_hex": msg2.hex(), "msg3_hex": msg3.hex(),
                     "msg4_hex": msg4.hex()},
        "derived": {f"{k}_hex": v.hex() for k, v in _derivation(network_key).items()},
        "outcome": {role: {"encrypt_key_hex": k.encrypt_key.hex(),
                           "encrypt_nonce_hex": k.encrypt_nonce.hex(),
                           "decrypt_key_hex": k.decrypt_key.hex(),
                           "decrypt_nonce_hex": k.decrypt_nonce.hex()}
                    for role, k in keys.items()},
    }


def _keys() -> dict[str, Any]:
    def longterm(key: SigningKey, role: str) -> dict[str, str]:
        _, secret = sodium.crypto_sign_seed_keypair(key.seed)
        return {"role": role, "seed_hex": key.seed.hex(), "public_key_hex": key.public_key.hex(),
                "libsodium_secret_key_hex": secret.hex(),
                "curve25519_secret_hex": _curve_secret(key).hex(),
                "curve25519_public_hex": _curve_public(key).hex()}

    return {
        "client_longterm": longterm(CLIENT, "A: the client's long-term key"),
        "server_longterm": longterm(SERVER, "B: the server's long-term key"),
        "stranger_longterm": longterm(STRANGER, "a key that neither side expects"),
        "client_ephemeral": {"role": "a", "secret_hex": CLIENT_EPHEMERAL.hex(),
                             "public_hex": _public(CLIENT_EPHEMERAL).hex()},
        "server_ephemeral": {"role": "b", "secret_hex": SERVER_EPHEMERAL.hex(),
                             "public_hex": _public(SERVER_EPHEMERAL).hex()},
    }


def _invalid_handshakes() -> list[dict[str, Any]]:
    nk = WEFT_NETWORK_KEY
    client, server = _machines(nk)
    msg1 = client.data_to_send()
    server.receive_data(msg1)
    msg2 = server.data_to_send()
    client.receive_data(msg2)
    derived = _derivation(nk)

    other_client, other_server = _machines(SCUTTLEBUTT_NETWORK_KEY)
    misdialled, _ = _machines(nk, server_key=STRANGER.public_key)
    misdialled.data_to_send()
    misdialled.receive_data(msg2)
    forged_msg3 = _box(STRANGER.sign(nk + SERVER.public_key + _sha256(derived["shared_ab"]))
                       + CLIENT.public_key, derived["msg3_box_key"])
    forged_msg4 = _box(STRANGER.sign(nk + derived["msg3_plaintext"]
                                     + _sha256(derived["shared_ab"])), derived["msg4_box_key"])
    low_order = bytes(32)  # a small-order point: every secret times it is zero

    cases = [
        ("msg1_other_network", "msg1 made under Scuttlebutt's network key", "server",
         [other_client.data_to_send()], HandshakeFailure.WRONG_NETWORK_KEY),
        ("msg2_other_network", "msg2 made under Scuttlebutt's network key", "client",
         [_server_hello(other_server)], HandshakeFailure.WRONG_NETWORK_KEY),
        ("msg1_low_order_key", "an authenticated msg1 whose ephemeral key is a low-order point",
         "server", [_hmac(nk, low_order) + low_order], HandshakeFailure.LOW_ORDER_KEY),
        ("msg1_too_long", "msg1 and one byte more, before msg2 could have been read", "server",
         [msg1 + b"\x00"], HandshakeFailure.UNEXPECTED_DATA),
        ("msg3_for_another_server", "msg3 from a client that dialled the stranger's key",
         "server", [msg1, misdialled.data_to_send()], HandshakeFailure.BAD_CLIENT_AUTH),
        ("msg3_wrong_signer", "msg3 boxed right and naming A, but signed by the stranger",
         "server", [msg1, forged_msg3], HandshakeFailure.BAD_CLIENT_SIGNATURE),
        ("msg4_garbled", "msg4 with its first byte flipped", "client",
         [msg2, _flip(_good_msg4(nk), 0)], HandshakeFailure.BAD_SERVER_ACCEPT),
        ("msg4_wrong_signer", "msg4 boxed right, but signed by the stranger", "client",
         [msg2, forged_msg4], HandshakeFailure.BAD_SERVER_SIGNATURE),
    ]
    return [{"name": name, "description": why, "role": role, "network_key_hex": nk.hex(),
             "received_hex": [message.hex() for message in received], "expected_code": code.value}
            for name, why, role, received, code in cases]


def _server_hello(server: ServerHandshake) -> bytes:
    client, _ = _machines(server.network_key)
    server.receive_data(client.data_to_send())
    return server.data_to_send()


def _good_msg4(network_key: bytes) -> bytes:
    derived = _derivation(network_key)
    return _box(derived["msg4_plaintext"], derived["msg4_box_key"])


def _increment(nonce: bytes) -> bytes:
    return (int.from_bytes(nonce, "big") + 1).to_bytes(24, "big")


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:]


def _box_stream() -> dict[str, Any]:
    keys = _handshake("weft", WEFT_NETWORK_KEY)["outcome"]["client"]
    key, nonce = bytes.fromhex(keys["encrypt_key_hex"]), bytes.fromhex(keys["encrypt_nonce_hex"])
    encoder = BoxStreamEncoder(key, nonce)
    writes = [b"hello, weft", (bytes(range(256)) * 17)[:MAX_BODY_BYTES + 4]]
    wire = [encoder.encode(data) for data in writes]
    goodbye = encoder.goodbye()
    hello = wire[0]
    header_nonce = nonce
    described = []
    for data in writes:
        frames = []
        for start in range(0, len(data), MAX_BODY_BYTES):
            body_nonce = _increment(header_nonce)
            boxed_body = _box(data[start:start + MAX_BODY_BYTES], key, body_nonce)
            header_plaintext = len(boxed_body[16:]).to_bytes(2, "big") + boxed_body[:16]
            frames.append({"header_nonce_hex": header_nonce.hex(),
                           "header_plaintext_hex": header_plaintext.hex(),
                           "header_hex": _box(header_plaintext, key, header_nonce).hex(),
                           "body_nonce_hex": body_nonce.hex(), "body_hex": boxed_body[16:].hex()})
            header_nonce = _increment(body_nonce)
        described.append({"plaintext_hex": data.hex(), "frames": frames})
    oversize = _box((MAX_BODY_BYTES + 1).to_bytes(2, "big") + bytes(16), key, nonce)
    invalid = [
        ("flipped_header_byte", "the first frame with a header byte flipped",
         _flip(hello, 20), "tampered_header"),
        ("flipped_body_byte", "the first frame with a body byte flipped",
         _flip(hello, 36), "tampered_body"),
        ("reordered", "the second write's frames before the first's",
         wire[1] + hello + goodbye, "tampered_header"),
        ("oversize_body", f"a header announcing {MAX_BODY_BYTES + 1} bytes of body",
         oversize, "oversize_body"),
        ("after_goodbye", "goodbye straight away, then a byte",
         _box(bytes(18), key, nonce) + b"\x00", "after_goodbye"),
    ]
    return {
        "direction": "client to server, with the client's encrypt key and nonce from the weft "
                     "handshake above (the server's decrypt key and nonce)",
        "key_hex": key.hex(), "nonce_hex": nonce.hex(), "max_body_bytes": MAX_BODY_BYTES,
        "writes": described,
        "goodbye": {"header_nonce_hex": header_nonce.hex(), "header_hex": goodbye.hex()},
        "invalid": [{"name": name, "description": why, "stream_hex": data.hex(),
                     "expected_code": code} for name, why, data, code in invalid]
        + [{"name": "truncated", "description": "the first frame, then the connection closes "
            "without goodbye", "stream_hex": hello.hex(), "expected_code": "truncated"}],
    }


def build_vectors() -> dict[str, Any]:
    """All transport vectors: {"transport": …}."""
    return {"transport": {
        "network_keys": {
            "weft": {"label": NETWORK_KEY_LABEL.decode("ascii"), "hex": WEFT_NETWORK_KEY.hex(),
                     "derivation": "sha256 of the ASCII label"},
            "scuttlebutt": {"hex": SCUTTLEBUTT_NETWORK_KEY.hex()},
        },
        "keys": _keys(),
        "handshakes": [_handshake("weft", WEFT_NETWORK_KEY),
                       _handshake("scuttlebutt", SCUTTLEBUTT_NETWORK_KEY)],
        "invalid_handshakes": _invalid_handshakes(),
        "box_stream": _box_stream(),
    }}


def render(vectors: dict[str, Any]) -> dict[str, bytes]:
    """The bytes of each vectors file, by file name."""
    return {f"{name}.json": orjson.dumps(section, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
            + b"\n" for name, section in vectors.items()}


def main(argv: list[str] | None = None) -> int:
    """``python -m weft.sync.transport_vectors OUTDIR``: write transport.json into OUTDIR."""
    return vectors_cli(argv, "weft.sync.transport_vectors", lambda: render(build_vectors()))


if __name__ == "__main__":
    sys.exit(main())
