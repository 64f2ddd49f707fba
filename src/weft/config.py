"""Where a node keeps its things: the data directory and the database URL.

``--data DIR`` or ``WEFT_HOME`` picks the data directory (default ``./data``);
``WEFT_DATABASE_URL`` picks PostgreSQL instead of ``DIR/weft.db``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from weft.store.database import sqlite_url

__all__ = ["NodeConfig"]


@dataclass(frozen=True)
class NodeConfig:
    data_dir: Path
    database_url: str

    @classmethod
    def resolve(cls, data_dir: str | Path | None = None, database_url: str | None = None) -> NodeConfig:
        directory = Path(data_dir or os.environ.get("WEFT_HOME") or "./data").expanduser().resolve()
        url = database_url or os.environ.get("WEFT_DATABASE_URL") or sqlite_url(directory / "weft.db")
        return cls(directory, url)
