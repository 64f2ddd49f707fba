"""The inboxes of bench_fanout's thousand hosts: one server, in a process of its own, answering
under every host name (the deliverer's resolver maps them all to 127.0.0.1).

    python -m bench.fanout_inboxes PORT

POST to any path is a delivery: 202, or 503 while its host is one of the failing ones.
``POST /_fail?share=0.3`` makes the hosts whose number ends in 0, 1 or 2 fail (``share=0``:
none); ``GET /_stats`` answers JSON counts: accepted and refused POSTs, and distinct
(host, path, body digest) triples accepted, so duplicates show.
"""

from __future__ import annotations

import hashlib
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

_failing_share = 0.0
_accepted = 0
_refused = 0
_distinct: set[bytes] = set()


def _host_number(host: str) -> int:
    digits = "".join(ch for ch in host.split(".", 1)[0] if ch.isdigit())
    return int(digits) if digits else 0


async def deliver(request: Request) -> Response:
    global _accepted, _refused
    body = await request.body()
    host = request.headers.get("host", "").rsplit(":", 1)[0]
    if _host_number(host) % 10 < round(_failing_share * 10):
        _refused += 1
        return Response(status_code=503)
    _accepted += 1
    _distinct.add(hashlib.sha256(f"{host} {request.url.path} ".encode() + body).digest())
    return Response(status_code=202)


async def fail(request: Request) -> Response:
    global _failing_share
    _failing_share = float(request.query_params.get("share", "0"))
    return Response(status_code=204)


async def stats(_request: Request) -> Response:
    return JSONResponse({"accepted": _accepted, "refused": _refused, "distinct": len(_distinct)})


app = Starlette(routes=[Route("/_fail", fail, methods=["POST"]), Route("/_stats", stats),
                        Route("/{path:path}", deliver, methods=["POST"])])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False,
                lifespan="off")
