#!/usr/bin/env python3
"""shs1-test server executable: ``server.py NETWORK_KEY_HEX SERVER_SK_HEX SERVER_PK_HEX``.

``SERVER_SK_HEX`` is libsodium's 64-byte secret key, seed | public key. Run by
``node_modules/.bin/shs1testserver`` from tests/sync/test_shs1_suite.py.
"""

from __future__ import annotations

import sys

from _driver import run  # the script's own directory is first on sys.path

from weft.core.keys import SigningKey
from weft.sync.shs import ServerHandshake


def main(argv: list[str]) -> int:
    network_key, secret_key, public_key = (bytes.fromhex(arg) for arg in argv)
    signing_key = SigningKey(secret_key[:32])
    if signing_key.public_key != public_key or secret_key[32:] != public_key:
        print("shs1 server: the secret key does not match the public key", file=sys.stderr)
        return 2
    return run(ServerHandshake(network_key=network_key, signing_key=signing_key))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
