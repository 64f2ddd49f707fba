"""The stdin/stdout loop that the shs1-test executables share (see server.py and client.py).

The suite writes the peer's messages to our stdin and reads ours from stdout. On a
misbehaving peer we must exit non-zero having written nothing more, which the handshake
objects guarantee: a failed handshake queues nothing.
"""

from __future__ import annotations

import os
import sys

from weft.errors import HandshakeFailed
from weft.sync.shs import ClientHandshake, ServerHandshake


def run(handshake: ClientHandshake | ServerHandshake) -> int:
    """Drive ``handshake`` over stdin/stdout; write the 112-byte outcome on success."""
    try:
        while True:
            _write(handshake.data_to_send())
            if handshake.result is not None:
                break
            chunk = os.read(0, 4096)
            if chunk:
                handshake.receive_data(chunk)
            else:
                handshake.receive_eof()
    except HandshakeFailed as failure:
        print(f"shs1 {type(handshake).__name__}: {failure}", file=sys.stderr)
        return 1
    _write(handshake.result.keys.to_bytes())
    # The suite ends us with SIGTERM once it has read the outcome; exiting first could be
    # taken for closing before the peer was done.
    while os.read(0, 4096):
        pass
    return 0


def _write(data: bytes) -> None:
    while data:
        written = os.write(1, data)
        data = data[written:]
