"""Keep ID numbers and phone numbers out of every log sink of a process (PIPL).

Filters sit on handlers, so records from any library (Rasa, Sanic, aiohttp) are masked too.
Each server calls ``install_pii_masking()`` once its logging is configured.
"""

from __future__ import annotations

import logging

from bot.core.people import PiiMaskingFilter


def install_pii_masking() -> int:
    """Add the masking filter to every existing handler; returns how many handlers were covered."""
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    covered = 0
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, PiiMaskingFilter) for f in handler.filters):
                handler.addFilter(PiiMaskingFilter())
                covered += 1
    return covered
