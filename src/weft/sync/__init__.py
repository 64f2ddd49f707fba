"""Peer-to-peer replication: the secret-handshake transport, muxrpc, and log replication.

The protocol modules here (``shs``, ``boxstream``, ``muxrpc``) are sans-I/O, in the manner
of h11: they take bytes and return bytes and events, and never touch a socket, a clock or
asyncio. The asyncio adapters around them are the only modules that do I/O.
"""
