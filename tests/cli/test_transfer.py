"""weft export and weft import say how many images travel with the entries."""

from __future__ import annotations

import hashlib
from pathlib import Path

from weft.config import NodeConfig
from weft.core.archive_example import RED_DOT
from weft.node import Node

from ..conftest import SessionLoop
from .program import weft, weft_many


def test_export_and_import_count_the_images(people: dict[str, tuple[Path, str]], tmp_path: Path,
                                            runner: SessionLoop) -> None:
    alice, bob = people["alice"][0], people["bob"][0]
    never_held = hashlib.sha256(b"a picture this node never had").hexdigest()

    async def post_a_picture() -> None:
        async with Node.open(NodeConfig.resolve(alice, None)) as node:
            held = node.media.blobs.put(RED_DOT)
            await node.publish({"type": "post", "text": "a red dot",
                                "attachments": [{"blob": held, "mime": "image/png"}, {"blob": never_held}]})

    runner.run(post_a_picture())
    archive = tmp_path / "alice.weft"
    exported = weft("export", str(archive), data=alice)
    assert ", 2 entries and 1 image(s) (" in exported.out, exported
    assert exported.err == "1 image(s) the posts name are not on this node and were left out\n"

    first, again = weft_many((("import", str(archive)), bob), (("import", str(archive), "--json"), tmp_path / "x"))
    assert first.out.endswith("2 new, 0 already held, 0 refused; 1 image(s), 1 new\n"), first
    assert first.err == "1 image(s) the posts name were not in the archive\n"
    result = again.json()
    assert isinstance(result, dict)
    assert (result["blobs"], result["blobs_new"], result["blobs_missing"], result["blob_bytes"]) == (1, 1, 1, 69)
