#!/usr/bin/env python3
"""A do-nothing stand-in for ``satupintu run``: same route, same answer, nothing stored.

``bench/webform_e2e.py --backend null-http`` runs against it to measure, in the same session
and with the same client and CPU pinning, what the load generator and bare aiohttp can do:
the HTTP ceiling the pipeline's accepted/s is compared with. It reads the body, parses and
checks the JSON like the web-form handler does, and answers 202.
"""

from __future__ import annotations

import argparse
import itertools

import orjson
from aiohttp import web

counter = itertools.count(1)


async def submit(request: web.Request) -> web.Response:
    form = orjson.loads(await request.read())
    if not isinstance(form, dict) or not form.get("text"):
        return web.json_response({"error": "invalid report"}, status=422)
    number = next(counter)
    answer = {"id": f"{number}-0", "status_url": f"/api/v1/reports/{number}-0", "duplicate": False}
    return web.json_response(answer, status=202)


async def ready(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ready", "problems": {}})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = web.Application()
    app.add_routes([web.post("/api/v1/reports", submit), web.get("/readyz", ready)])
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
