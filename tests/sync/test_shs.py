"""The secret handshake: a client and a server that agree, and every way one can refuse the other."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import nacl.bindings
import pytest
from hypothesis import given
from hypothesis import strategies as st

from weft.core.keys import SigningKey
from weft.errors import HandshakeFailed, KeyFormatError, TransportClosed
from weft.sync.shs import (
    CLIENT_AUTH_BYTES,
    CLIENT_HELLO_BYTES,
    NETWORK_KEY_LABEL,
    SCUTTLEBUTT_NETWORK_KEY,
    SERVER_ACCEPT_BYTES,
    SERVER_HELLO_BYTES,
    WEFT_NETWORK_KEY,
    BoxStreamKeys,
    ClientHandshake,
    HandshakeState,
    ServerHandshake,
)

from .peers import CLIENT, SERVER, STRANGER, client, link, server


def refused(code: str) -> pytest.RaisesExc[HandshakeFailed]:
    """Expect a HandshakeFailed with this code (the message starts with it, too)."""
    return pytest.raises(HandshakeFailed, match=f"^{code}: ")


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:]


def messages() -> list[bytes]:
    """msg1 … msg4 of the fixed-seed handshake."""
    c, s = client(), server()
    msg1 = c.data_to_send()
    s.receive_data(msg1)
    msg2 = s.data_to_send()
    c.receive_data(msg2)
    msg3 = c.data_to_send()
    s.receive_data(msg3)
    return [msg1, msg2, msg3, s.data_to_send()]


# -- success ------------------------------------------------------------------


def test_each_side_learns_the_others_key_and_the_stream_keys_mirror() -> None:
    client_done, server_done = link(client(), server())
    assert client_done.peer_public_key == SERVER.public_key
    assert server_done.peer_public_key == CLIENT.public_key
    assert client_done.keys.encrypt_key == server_done.keys.decrypt_key
    assert client_done.keys.encrypt_nonce == server_done.keys.decrypt_nonce
    assert client_done.keys.decrypt_key == server_done.keys.encrypt_key
    assert client_done.keys.decrypt_nonce == server_done.keys.encrypt_nonce
    assert client_done.keys.encrypt_key != client_done.keys.decrypt_key


def test_messages_have_the_fixed_sizes() -> None:
    assert [len(m) for m in messages()] == [CLIENT_HELLO_BYTES, SERVER_HELLO_BYTES,
                                           CLIENT_AUTH_BYTES, SERVER_ACCEPT_BYTES] == [64, 64, 112, 80]


def test_byte_by_byte_gives_the_same_result_as_whole_messages() -> None:
    assert link(client(), server(), chunk=1) == link(client(), server())


def test_both_sides_end_complete_and_have_nothing_left_to_say() -> None:
    c, s = client(), server()
    link(c, s)
    assert c.state is s.state is HandshakeState.COMPLETE
    assert c.data_to_send() == s.data_to_send() == b""
    assert c.unused_data == s.unused_data == b""


def test_scuttlebutts_main_network_key_works_too() -> None:
    assert SCUTTLEBUTT_NETWORK_KEY.hex() == (
        "d4a1cb88a66f02f8db635ce26441cc5dac1b08420ceaac230839b755845a9ffb")
    client_done, server_done = link(client(SCUTTLEBUTT_NETWORK_KEY), server(SCUTTLEBUTT_NETWORK_KEY))
    assert server_done.peer_public_key == CLIENT.public_key
    assert client_done.keys.encrypt_key == server_done.keys.decrypt_key
    assert client_done.keys != link(client(), server())[0].keys


def test_weft_network_key_is_the_sha256_of_its_label() -> None:
    assert NETWORK_KEY_LABEL == b"weft secret-handshake network key v1"
    assert nacl.bindings.crypto_hash_sha256(NETWORK_KEY_LABEL) == WEFT_NETWORK_KEY
    assert WEFT_NETWORK_KEY != SCUTTLEBUTT_NETWORK_KEY


def test_fresh_ephemeral_keys_unless_one_is_given() -> None:
    assert client(ephemeral=None).data_to_send() != client(ephemeral=None).data_to_send()
    assert client().data_to_send() == client().data_to_send()
    assert link(client(ephemeral=None), server(ephemeral=None))[1].peer_public_key == CLIENT.public_key


def test_bytes_after_the_last_message_are_kept_for_the_box_stream() -> None:
    msg1, msg2, msg3, msg4 = messages()
    s = server()
    s.receive_data(msg1)
    assert s.receive_data(msg3 + b"box-stream") is not None
    assert s.unused_data == b"box-stream"
    c = client()
    c.receive_data(msg2)
    assert c.receive_data(msg4[:40]) is None
    assert c.receive_data(msg4[40:] + b"more") is not None
    assert c.unused_data == b"more"


def test_keys_are_not_printed() -> None:
    keys = link(client(), server())[0].keys
    assert keys.encrypt_key.hex() not in repr(keys) and "encrypt_key" not in repr(keys)
    assert len(keys.to_bytes()) == 112


# -- refusals -----------------------------------------------------------------


def test_server_on_another_network_refuses_msg1_and_says_nothing() -> None:
    s = server(SCUTTLEBUTT_NETWORK_KEY)
    with refused("wrong_network_key"):
        s.receive_data(client().data_to_send())
    assert s.state is HandshakeState.FAILED
    assert s.data_to_send() == b""


def test_client_refuses_msg2_from_another_network() -> None:
    s = server(SCUTTLEBUTT_NETWORK_KEY)
    s.receive_data(client(SCUTTLEBUTT_NETWORK_KEY).data_to_send())
    c = client()
    with refused("wrong_network_key"):
        c.receive_data(s.data_to_send())
    assert c.state is HandshakeState.FAILED
    assert c.data_to_send() == b""  # not even the msg1 it had queued


def test_client_that_dialled_another_server_key_is_refused_at_msg3() -> None:
    c, s = client(server_public_key=STRANGER.public_key), server()
    with refused("bad_client_auth"):
        link(c, s)
    assert s.data_to_send() == b""
    with refused("peer_closed"):  # all the client sees is the server hanging up
        c.receive_eof()


def test_a_signature_by_another_key_than_the_one_claimed_is_refused() -> None:
    impostor = SigningKey(STRANGER.seed)
    impostor.public_key = CLIENT.public_key  # claims to be CLIENT, signs as STRANGER
    with refused("bad_client_signature"):
        link(client(key=impostor), server())


@pytest.mark.parametrize(("index", "code"), [
    (0, "wrong_network_key"),   # msg1, at the server
    (1, "wrong_network_key"),   # msg2, at the client
    (2, "bad_client_auth"),     # msg3, at the server
    (3, "bad_server_accept"),   # msg4, at the client
])
@given(data=st.data())
def test_any_flipped_bit_in_any_message_is_refused(index: int, code: str, data: st.DataObject) -> None:
    sent = messages()
    position = data.draw(st.integers(min_value=0, max_value=len(sent[index]) - 1))
    tampered = bytearray(sent[index])
    tampered[position] ^= 1 << data.draw(st.integers(min_value=0, max_value=7))
    receiver: ClientHandshake | ServerHandshake = server() if index % 2 == 0 else client()
    for earlier in sent[index % 2:index:2]:
        receiver.receive_data(earlier)
    with refused(code):
        receiver.receive_data(bytes(tampered))


def test_an_authenticated_low_order_key_is_refused() -> None:
    zero = bytes(32)
    msg1 = hmac.new(WEFT_NETWORK_KEY, zero, hashlib.sha512).digest()[:32] + zero
    with refused("low_order_key"):
        server().receive_data(msg1)


def test_a_peer_that_closes_mid_message_is_reported_with_how_far_it_got() -> None:
    s = server()
    s.receive_data(client().data_to_send()[:10])
    with pytest.raises(HandshakeFailed, match="after 10 of the 64 bytes of msg1") as caught:
        s.receive_eof()
    assert caught.value.code == "peer_closed"


def test_bytes_before_our_reply_could_have_been_read_are_refused() -> None:
    s = server()
    with refused("unexpected_data"):
        s.receive_data(client().data_to_send() + b"\x00")
    assert s.data_to_send() == b""  # msg2 was never let out
    c = client()
    with refused("unexpected_data"):
        c.receive_data(messages()[1] + b"\x00")
    c.data_to_send()
    assert c.data_to_send() == b""


def test_a_failed_handshake_stays_failed_even_when_good_bytes_follow() -> None:
    failed = server()
    with refused("wrong_network_key"):
        failed.receive_data(client(SCUTTLEBUTT_NETWORK_KEY).data_to_send())
    with pytest.raises(TransportClosed, match=r"already failed .*wrong_network_key"):
        failed.receive_data(client().data_to_send())
    with pytest.raises(TransportClosed):
        failed.receive_eof()
    assert failed.result is None and failed.data_to_send() == b""
    assert failed.failure is not None and failed.failure.code == "wrong_network_key"


def test_a_complete_handshake_takes_no_more_handshake_bytes() -> None:
    c, s = client(), server()
    link(c, s)
    with pytest.raises(TransportClosed, match="box-stream"):
        s.receive_data(b"x")
    c.receive_eof()  # closing after the handshake is the box-stream's business


def test_an_adapter_can_fail_a_handshake_from_outside() -> None:
    c = client()
    c.fail(HandshakeFailed("timeout", "timeout: too slow"))
    assert c.state is HandshakeState.FAILED and c.data_to_send() == b""
    with pytest.raises(TransportClosed, match="too slow"):
        c.receive_data(messages()[1])


@pytest.mark.parametrize("make", [
    lambda: client(b"\x00" * 31),
    lambda: server(b"\x00" * 33),
    lambda: client(server_public_key=b"\x00" * 31),
    lambda: client(server_public_key=b"\xff" * 32),  # not a point on the curve
    lambda: client(ephemeral=b"\x00" * 16),
])
def test_bad_keys_are_refused_when_the_handshake_is_made(make: Callable[[], object]) -> None:
    with pytest.raises(KeyFormatError):
        make()


def test_box_stream_keys_check_their_sizes() -> None:
    with pytest.raises(KeyFormatError):
        BoxStreamKeys(bytes(32), bytes(24), bytes(31), bytes(24))
    with pytest.raises(KeyFormatError):
        BoxStreamKeys(bytes(32), bytes(23), bytes(32), bytes(24))
