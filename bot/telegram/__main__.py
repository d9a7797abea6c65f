"""``python -m bot.telegram`` — run the Telegram gateway.

Without TELEGRAM_TOKEN it prints (in Chinese and English) how to set it and exits 0, so that a
developer running everything locally without a bot is not greeted by a traceback.
"""
from __future__ import annotations

import asyncio
import logging
import os
import sys

from bot.telegram.config import GatewayConfig
from bot.telegram.texts import default_texts


def main() -> int:
    config = GatewayConfig.from_env()
    if config is None:
        print(default_texts().get("missing_token"))
        return 0
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL at INFO — and Bot API URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from telegram.error import InvalidToken

    from bot.telegram.app import Gateway

    try:
        asyncio.run(Gateway(config).run_until_signal())
    except InvalidToken:
        logging.getLogger("bot.telegram").error(
            "Telegram rejected TELEGRAM_TOKEN (InvalidToken): check the token from @BotFather"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
