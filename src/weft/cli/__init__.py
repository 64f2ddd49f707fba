"""The ``weft`` command line: one data directory, one identity, typed commands.

``weft.cli.app`` holds the root command and the error handling; the other
modules hold the commands, grouped by what they touch. Heavy imports (the
database, the node, the HTTP server) happen inside the commands, so that
``weft --help`` answers at once.
"""

from __future__ import annotations

__all__: list[str] = []
