"""Two peers and a fake link between them: what the transport tests share."""

from __future__ import annotations

from weft.core.keys import SigningKey
from weft.sync.shs import WEFT_NETWORK_KEY, ClientHandshake, HandshakeComplete, ServerHandshake

CLIENT = SigningKey(bytes([1]) * 32)
SERVER = SigningKey(bytes([2]) * 32)
STRANGER = SigningKey(bytes([5]) * 32)
CLIENT_EPHEMERAL = bytes([3]) * 32
SERVER_EPHEMERAL = bytes([4]) * 32


def client(network_key: bytes = WEFT_NETWORK_KEY, *, key: SigningKey = CLIENT,
           server_public_key: bytes = SERVER.public_key,
           ephemeral: bytes | None = CLIENT_EPHEMERAL) -> ClientHandshake:
    return ClientHandshake(network_key=network_key, signing_key=key,
                           server_public_key=server_public_key, ephemeral_secret=ephemeral)


def server(network_key: bytes = WEFT_NETWORK_KEY, *, key: SigningKey = SERVER,
           ephemeral: bytes | None = SERVER_EPHEMERAL) -> ServerHandshake:
    return ServerHandshake(network_key=network_key, signing_key=key, ephemeral_secret=ephemeral)


def link(a: ClientHandshake, b: ServerHandshake, *, chunk: int | None = None
         ) -> tuple[HandshakeComplete, HandshakeComplete]:
    """Carry bytes both ways until neither side has more to say (``chunk`` bytes at a time).

    Returns (the client's event, the server's event); a failure raises from whichever side
    detects it, as it would over a real connection.
    """
    events: dict[str, HandshakeComplete] = {}
    while True:
        moved = False
        for sender, receiver, name in ((a, b, "server"), (b, a, "client")):
            data = sender.data_to_send()
            moved = moved or bool(data)
            size = chunk or max(len(data), 1)
            for start in range(0, len(data), size):
                event = receiver.receive_data(data[start:start + size])
                if event is not None:
                    events[name] = event
        if not moved:
            return events["client"], events["server"]
