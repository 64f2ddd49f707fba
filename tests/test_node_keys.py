"""A node's transport key: made once per data directory, never an identity's key."""

from __future__ import annotations

from weft import custody
from weft.node import Node


async def test_the_transport_key_is_made_once_and_is_not_the_device_key(make_config, clock) -> None:
    config = make_config("node")
    async with Node.open(config, clock=clock) as node:
        await custody.init_identity(node, "Ann")
        first = node.transport_key().did
        assert first != node.local().device.did
    async with Node.open(config, clock=clock) as node:
        assert node.transport_key().did == first
    async with Node.open(make_config("other"), clock=clock) as other:
        assert other.transport_key().did != first
    assert (config.data_dir / "keys" / "node.key").stat().st_mode & 0o077 == 0
