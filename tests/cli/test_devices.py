"""A second device joins an identity, posts, is lost, and the recovery key takes the identity back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .program import out, weft


def devices(data: Path) -> dict[str, dict[str, Any]]:
    listed = weft("device", "list", "--json", data=data).json()
    assert isinstance(listed, list)
    return {device["key"]: device for device in listed}


def test_a_lost_device_is_revoked_with_the_recovery_key(tmp_path: Path) -> None:
    desktop, laptop = tmp_path / "desktop", tmp_path / "laptop"
    did = out(weft("init", "--name", "dana", "--device-name", "desktop", data=desktop))
    pack = tmp_path / "laptop.pack"
    added = weft("device", "add", "laptop", "--out", str(pack), data=desktop)
    laptop_key = out(added)
    assert laptop_key.startswith("did:key:z6Mk")
    assert f"weft device join {pack} --data" in added.err

    assert out(weft("device", "join", str(pack), data=laptop)) == did
    weft("post", "from the laptop", data=laptop)
    seen_by_laptop = devices(laptop)
    assert seen_by_laptop[laptop_key]["this"] and seen_by_laptop[laptop_key]["seq"] == 1
    assert {device["name"] for device in seen_by_laptop.values()} == {"desktop", "laptop"}
    assert "laptop (this device)" in weft("device", "list", data=laptop).out

    # The laptop is lost. The recovery key, exported and forgotten earlier, revokes it.
    recovery = tmp_path / "recovery.key"
    assert out(weft("keys", "recovery-export", str(recovery), "--forget", data=desktop)).startswith("did:key:")
    assert not (desktop / "keys" / "recovery.key").exists()
    recovered = weft("keys", "recover", str(recovery), data=desktop)
    assert out(recovered) == did and f"revoked {laptop_key}" in recovered.err
    after = devices(desktop)
    assert after[laptop_key]["status"].startswith("revoked")
    assert [device["name"] for device in after.values() if device["status"] == "active"] == ["desktop"]

    # The desktop holds a rotation key again: it can rotate it, and add and revoke devices.
    assert out(weft("keys", "rotate", data=desktop)).startswith("did:key:z6Mk")
    phone = out(weft("device", "add", "phone", "--out", str(tmp_path / "phone.pack"), data=desktop))
    assert out(weft("device", "revoke", "phone", data=desktop)) == phone
    assert devices(desktop)[phone]["status"] == "revoked after seq 0"

