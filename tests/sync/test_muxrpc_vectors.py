"""The committed RPC vectors are what the code builds, and a fresh session agrees with every one.

Apart from the first tests, these read the committed JSON rather than build_vectors(), the
way an implementation in another language would use it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from weft.errors import RpcRemoteProtocolError
from weft.sync.muxrpc import RpcLimits, RpcSession
from weft.sync.muxrpc_events import RequestType
from weft.sync.muxrpc_packets import (
    BodyType,
    Goodbye,
    Packet,
    PacketDecoder,
    RpcFailure,
    encode_packet,
)
from weft.sync.rpc_exchanges import describe_event, describe_packet, drain
from weft.sync.rpc_vectors import build_vectors, main, render

DOCS = Path(__file__).resolve().parents[2] / "docs" / "protocol"
VECTORS = DOCS / "vectors"
RPC = orjson.loads((VECTORS / "rpc.json").read_bytes())
SYNC = Path(__file__).resolve().parents[2] / "src" / "weft" / "sync"


def by_name(items: list[dict[str, Any]]) -> list[Any]:
    return [pytest.param(item, id=item["name"]) for item in items]


def test_committed_vectors_are_exactly_what_the_code_builds() -> None:
    for name, data in render(build_vectors()).items():
        assert (VECTORS / name).read_bytes() == data, (
            f"{name} is stale: run `python -m weft.sync.rpc_vectors docs/protocol/vectors`")


def test_the_command_writes_the_same_bytes(tmp_path: Path) -> None:
    assert main([str(tmp_path)]) == 0
    assert (tmp_path / "rpc.json").read_bytes() == (VECTORS / "rpc.json").read_bytes()
    assert main([]) == 2


@pytest.mark.parametrize("vector", by_name([p for p in RPC["packets"] if p["name"] != "goodbye"]))
def test_packet(vector: dict[str, Any]) -> None:
    data = bytes.fromhex(vector["bytes_hex"])
    decoder = PacketDecoder()
    decoder.receive_data(data)
    packet = decoder.next_packet()
    assert isinstance(packet, Packet) and decoder.buffered == 0
    assert describe_packet(packet) | {"name": vector["name"], "description": vector["description"],
                                      "bytes_hex": vector["bytes_hex"]} == vector
    body_type = BodyType[vector["body_type"].upper()]
    body = (bytes.fromhex(vector["body_hex"]) if "body_hex" in vector
            else vector["body_text"].encode("utf-8"))
    assert encode_packet(Packet(vector["number"], body_type, body, vector["stream"],
                                vector["end_or_error"])) == data
    assert data[0] == (vector["stream"] << 3) | (vector["end_or_error"] << 2) | body_type


def test_goodbye() -> None:
    [vector] = [p for p in RPC["packets"] if p["name"] == "goodbye"]
    decoder = PacketDecoder()
    decoder.receive_data(bytes.fromhex(vector["bytes_hex"]))
    assert decoder.next_packet() == Goodbye()
    assert vector["bytes_hex"] == RPC["constants"]["goodbye_hex"] == "00" * 9


@pytest.mark.parametrize("vector", by_name(RPC["rejected"]))
def test_rejected(vector: dict[str, Any]) -> None:
    session = RpcSession(RpcLimits(vector["max_body_bytes"], vector["max_open_incoming"]))
    with pytest.raises(RpcRemoteProtocolError) as caught:
        session.receive_data(bytes.fromhex(vector["bytes_hex"]))
        if vector["eof"]:
            session.receive_data(b"")
        drain(session)
    assert caught.value.code == vector["expected_code"]


def test_every_code_a_peer_can_earn_has_a_rejected_vector() -> None:
    remote = {"unknown_flags", "unknown_body_type", "zero_request_number", "oversize", "invalid_utf8",
              "invalid_json", "after_goodbye", "truncated", "bad_request", "too_many_requests",
              "stream_flag_mismatch", "after_end", "unexpected_data"}
    assert remote <= {code.value for code in RpcFailure}
    assert {v["expected_code"] for v in RPC["rejected"]} == remote


def perform(session: RpcSession, packet: dict[str, Any]) -> None:
    """Make ``session`` send ``packet`` through its public calls, as an application would."""
    if packet.get("goodbye"):
        session.goodbye()
        return
    number, body_type = packet["number"], BodyType[packet["body_type"].upper()]
    value: Any = (bytes.fromhex(packet["body_hex"]) if body_type is BodyType.BINARY
                  else packet["body_text"] if body_type is BodyType.STRING
                  else orjson.loads(packet["body_text"]))
    if number > 0 and number not in session.open_numbers:
        assert session.request(value["name"], RequestType(value["type"]), value["args"]) == number
    elif packet["end_or_error"] and packet["stream"] and value is True:
        session.end(number)
    elif packet["end_or_error"]:
        session.send_error(number, value["message"], value["name"])
    elif packet["stream"]:
        session.send(number, value, body_type)
    else:
        session.reply(number, value, body_type)


@pytest.mark.parametrize("exchange", by_name(RPC["exchanges"]))
def test_exchange(exchange: dict[str, Any]) -> None:
    """Two fresh sessions replay the exchange: each sender makes exactly the bytes shown
    (calling the session for each packet, unless the session already queued them by itself),
    and each receiver sees exactly the events shown."""
    sides = {"a": RpcSession(), "b": RpcSession()}
    for step in exchange["steps"]:
        for transmission in step["transmissions"]:
            sender = sides[transmission["from"]]
            receiver = sides["b" if transmission["from"] == "a" else "a"]
            data = sender.data_to_send()  # what the session said on its own, if anything
            if not data:
                for packet in transmission["packets"]:
                    perform(sender, packet)
                data = sender.data_to_send()
            assert data.hex() == transmission["bytes_hex"]
            receiver.receive_data(data)
            assert [describe_event(e) for e in drain(receiver)] == transmission["events"]
    assert not sides["a"].data_to_send() and not sides["b"].data_to_send()
    assert exchange["name"] == "goodbye" or not (sides["a"].open_numbers or sides["b"].open_numbers)


def test_the_exchanges_cover_every_kind_of_request_and_close() -> None:
    names = {e["name"] for e in RPC["exchanges"]}
    assert {"async_call", "async_error", "source_stream", "source_cancelled", "sink", "duplex_with_ends",
            "stream_error", "goodbye", "crossed_requests"} <= names
    kinds = {e["type"] for x in RPC["exchanges"] for s in x["steps"] for t in s["transmissions"]
             for e in t["events"] if e["event"] == "Request"}
    assert kinds == {"async", "source", "sink", "duplex"}


# -- the document -----------------------------------------------------------------------------


TEXT = (DOCS / "rpc.md").read_text()


def test_the_document_points_to_its_vectors() -> None:
    assert "(vectors/rpc.json)" in TEXT
    assert "python -m weft.sync.rpc_vectors docs/protocol/vectors" in TEXT


def test_the_hex_examples_in_the_document_are_vectors() -> None:
    blocks = [block.split("\n", 1)[1] for block in TEXT.split("```")[1::2] if block.startswith("hex")]
    lines = [line.replace(" ", "") for block in blocks for line in block.splitlines() if line.strip()]
    assert lines
    assert set(lines) <= {p["bytes_hex"] for p in RPC["packets"]}


def test_the_document_names_every_code() -> None:
    assert all(f"`{code.value}`" in TEXT for code in RpcFailure)


def test_the_documented_defaults_are_the_codes() -> None:
    constants = RPC["constants"]
    assert f"default {constants['default_max_body_bytes']}" in TEXT
    assert f"default {constants['default_max_open_incoming']})" in TEXT
    assert re.search(r"2³¹−1", TEXT) and constants["max_request_number"] == 2**31 - 1


# -- no I/O in the protocol modules ------------------------------------------------------------


@pytest.mark.parametrize("module", ["muxrpc_packets.py", "muxrpc_events.py", "muxrpc.py"])
def test_the_protocol_modules_do_no_io(module: str) -> None:
    tree = ast.parse((SYNC / module).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert not imported & {"asyncio", "socket", "selectors", "ssl", "time", "datetime", "os", "pathlib"}
