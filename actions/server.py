"""The action server, locked down: ``python -m actions.server [--port N]``.

rasa_sdk's own ``python -m rasa_sdk`` binds 0.0.0.0, answers anyone, allows every CORS origin,
accepts any content type and inflates ``Content-Encoding: deflate`` bodies without a limit. This
launcher builds the same rasa_sdk app and puts middleware in front of it:

* it binds ``RJ_BIND_HOST`` (127.0.0.1 by default) and ``RJ_ACTION_PORT``;
* every route except ``/health`` needs ``Authorization: Bearer <action secret>`` — the secret
  Rasa sends from the effective endpoints file written by bot/run.py;
* ``POST`` bodies must be ``application/json``, at most RJ_ACTION_MAX_BODY bytes, also after
  decompression;
* errors answer with a generic message instead of echoing the request body (the tracker).

The response timeout is kept above Rasa's action timeout (RJ_ACTION_TIMEOUT), so Rasa gives up
first and never writes to a connection the server already closed.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import zlib

from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request

from bot.core import settings

logger = logging.getLogger(__name__)

OPEN_PATHS = {"/health"}
JSON_TYPES = {"application/json"}


def _too_big_when_inflated(body: bytes, limit: int) -> bool:
    """Inflate at most ``limit + 1`` bytes: a deflate bomb is caught without being expanded."""
    try:
        return len(zlib.decompressobj().decompress(body, limit + 1)) > limit
    except zlib.error:
        return False  # not deflate data: rasa_sdk answers it with an error itself


def guard(app: Sanic, secret: str, max_body: int) -> None:
    """Install the middleware described in the module docstring on ``app``."""
    expected = f"Bearer {secret}".encode()
    app.config.REQUEST_MAX_SIZE = max_body

    @app.middleware("request")
    async def require_secret_and_json(request: Request):
        if request.path in OPEN_PATHS:
            return None
        given = (request.headers.get("Authorization") or "").encode()
        if not hmac.compare_digest(given, expected):
            return response.json({"error": "unauthorised"}, status=401)
        if request.method == "POST":
            content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip()
            if content_type.lower() not in JSON_TYPES:
                return response.json({"error": "JSON only"}, status=415)
            if len(request.body or b"") > max_body:
                return response.json({"error": "too large"}, status=413)
            encoding = (request.headers.get("Content-Encoding") or "").strip().lower()
            if encoding not in ("", "identity", "deflate"):
                return response.json({"error": "unsupported encoding"}, status=415)
            if encoding == "deflate" and _too_big_when_inflated(request.body or b"", max_body):
                return response.json({"error": "too large"}, status=413)
        return None

    @app.exception(Exception)
    async def generic_error(request: Request, exception: Exception):
        logger.error("action call failed: %s", type(exception).__name__, exc_info=exception)
        status = getattr(exception, "status_code", 500) or 500
        return response.json({"error": "action server error"}, status=status)


def build_app(config: settings.Settings | None = None) -> Sanic:
    config = config or settings.current()
    app = create_app("actions", cors_origins=None)
    guard(app, settings.action_secret(config.environ), config.action_max_body)
    app.config.RESPONSE_TIMEOUT = int(config.action_timeout) + 30
    app.config.KEEP_ALIVE_TIMEOUT = 75  # above aiohttp's 15 s keep-alive: no half-closed reuse
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="荣军助手 action server")
    parser.add_argument("-p", "--port", type=int, help="default: RJ_ACTION_PORT (5055)")
    args = parser.parse_args(argv)
    config = settings.current()
    logging.basicConfig(
        level=config.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    app = build_app(config)
    port = args.port or config.action_port
    logger.info("action server on http://%s:%d", config.bind_host, port)
    app.run(host=config.bind_host, port=port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
