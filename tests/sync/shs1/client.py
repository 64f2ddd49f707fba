#!/usr/bin/env python3
"""shs1-test client executable: ``client.py NETWORK_KEY_HEX SERVER_PK_HEX``.

The suite leaves the client's own keys to us, so each run makes a fresh one. Run by
``node_modules/.bin/shs1testclient`` from tests/sync/test_shs1_suite.py.
"""

from __future__ import annotations

import os
import sys

from _driver import run  # the script's own directory is first on sys.path

from weft.core.keys import SigningKey
from weft.sync.shs import ClientHandshake


def main(argv: list[str]) -> int:
    network_key, server_public_key = (bytes.fromhex(arg) for arg in argv)
    return run(ClientHandshake(network_key=network_key, signing_key=SigningKey(os.urandom(32)),
                               server_public_key=server_public_key))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
