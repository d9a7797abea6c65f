"""Start and stop steps every gateway process shares: its local HTTP server, its background
tasks and the signals that end it."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

logger = logging.getLogger(__name__)


async def serve(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start ``app`` on ``host:port``; the runner (to clean up) and the port actually bound
    (``port`` 0 lets the system choose one)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = getattr(site, "_server", None)
    sockets = getattr(server, "sockets", None) or []
    return runner, sockets[0].getsockname()[1] if sockets else port


async def finish_tasks(tasks: list[asyncio.Task], timeout: float = 5.0) -> None:
    """Wait for each background task (they watch the stop event); a failure is only logged.
    Empties ``tasks``."""
    for task in tasks:
        try:
            await asyncio.wait_for(task, timeout=timeout)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            pass
        except Exception:
            logger.exception("background task %s failed", task.get_name())
    tasks.clear()


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM (where the loop supports signal handlers)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except NotImplementedError:  # pragma: no cover - non-Unix
            pass
    return stop
