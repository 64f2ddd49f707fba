"""Where the test data from other projects is: ``../shared/testdata`` beside the repository
(see its README), the same folder beside the repository this one was cloned from (a
fresh clone elsewhere, as a CI check makes), or ``WEFT_SHARED_TESTDATA``. Tests that need
it fail when none is found (test_activitystreams_corpus checks), never pass on nothing.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

__all__ = ["SHARED_TESTDATA"]

_REPO = Path(__file__).resolve().parents[1]


def _origin() -> Path | None:
    try:
        url = subprocess.run(["git", "-C", str(_REPO), "config", "--get", "remote.origin.url"],
                             capture_output=True, text=True, check=False, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    path = Path(url.removeprefix("file://"))
    return path if url and path.is_absolute() else None


def _find() -> Path:
    candidates = [Path(os.environ["WEFT_SHARED_TESTDATA"])] if os.environ.get("WEFT_SHARED_TESTDATA") else []
    candidates.append(_REPO.parent / "shared" / "testdata")
    origin = _origin()
    if origin is not None:
        candidates.append(origin.parent / "shared" / "testdata")
    return next((path for path in candidates if path.is_dir()), candidates[0])


SHARED_TESTDATA = _find()
