"""The HTTP face of a node: a read-only native JSON API and a plain HTML page of the feed.

``create_app(node)`` builds the Starlette application; ``weft serve`` runs it
under uvicorn. Nothing here writes: writes go through the node, and the
write API (with authentication) comes later.
"""

from __future__ import annotations

from weft.api.app import create_app

__all__ = ["create_app"]
