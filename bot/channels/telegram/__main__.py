"""``python -m bot.channels.telegram`` — run the Telegram gateway.

Without TELEGRAM_TOKEN it prints (in Chinese and English) how to set it and exits 0, so that a
developer running everything locally without a bot is not greeted by a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from bot.channels.telegram.config import GatewayConfig
from bot.channels.telegram.texts import default_texts
from bot.core import settings


def main() -> int:
    config = GatewayConfig.from_env()
    if config is None:
        print(default_texts().get("missing_token"))
        return 0
    logging.basicConfig(
        level=settings.current().log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL at INFO — and Bot API URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from telegram.error import InvalidToken

    from bot.channels.telegram.app import Gateway

    try:
        asyncio.run(Gateway(config).run_until_signal())
    except InvalidToken:
        logging.getLogger("bot.channels.telegram").error(
            "Telegram rejected TELEGRAM_TOKEN (InvalidToken): check the token from @BotFather"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
