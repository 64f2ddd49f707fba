"""Bad input gets one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from .program import weft

MISSING_DID = "did:weft:" + "a" * 48


@pytest.mark.parametrize(("args", "code"), [
    (("show", "zzzzzzzz"), 1),                                # no such entry
    (("like", "abc"), 2),                                     # not an entry id
    (("edit", "zzzzzzzz", "new text"), 1),
    (("follow", "did:weft:nope"), 1),                         # malformed DID
    (("block", "@bob@example.org"), 1),
    (("post", "hi", "--expires", "10x"), 2),                  # bad duration
    (("post", "hi", "--expires", "0s"), 2),
    (("post", "hi", "--reply-to", "zzzzzzzz"), 1),
    (("device", "join", "{missing}"), 2),                     # this directory has an identity already
    (("device", "revoke", "no-such-device"), 2),
    (("keys", "recover", "{missing}"), 1),                    # unreadable file
    (("keys", "recover", "{garbage}"), 1),
    (("import", "{garbage}"), 1),
    (("init", "--name", "again"), 2),
], ids=lambda value: value if isinstance(value, int) else " ".join(value))
def test_bad_input_is_one_line_on_stderr(alice_home: tuple[Path, str], tmp_path: Path,
                                         args: tuple[str, ...], code: int) -> None:
    alice, _ = alice_home
    garbage = tmp_path / "garbage"
    garbage.write_text("this is not what you think\n")
    args = tuple(arg.format(missing=tmp_path / "missing", garbage=garbage) for arg in args)
    run = weft(*args, data=alice, ok=False)
    assert run.code == code, str(run)
    assert run.err.startswith("error: ") and run.err.count("\n") == 1, str(run)
    assert run.out == ""


def test_no_identity_yet_is_an_error_that_says_what_to_do(tmp_path: Path) -> None:
    empty = tmp_path / "nothing-here"
    run = weft("feed", data=empty, ok=False)
    assert (run.code, run.err) == (1, f"error: no identity in {empty}: run 'weft init --name NAME' first\n")
    assert not empty.exists()  # nothing was created on the way


def test_a_bad_clock_offset_is_refused(alice_home: tuple[Path, str]) -> None:
    run = weft("feed", data=alice_home[0], env={"WEFT_CLOCK_OFFSET_MS": "soon"}, ok=False)
    assert run.code == 2 and run.err.startswith("error: WEFT_CLOCK_OFFSET_MS")


def test_usage_errors_are_typers_own(alice_home: tuple[Path, str]) -> None:
    run = weft("post", "hi", "--visibility", "secret", data=alice_home[0], ok=False)
    assert run.code == 2 and "--visibility" in run.err
