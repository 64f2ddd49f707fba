"""``python -m weft.cli`` runs the same program as the ``weft`` script."""

from __future__ import annotations

from weft.cli.app import main

main()
