"""``python -m bot.channels.wechat`` — run the WeChat Official Account gateway.

Without WECHAT_TOKEN it prints (in Chinese and English) how to set it up and exits 0; with a
token but an unusable configuration it says what is missing and exits 2.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from bot.channels.wechat.config import ConfigError, WeChatConfig
from bot.channels.wechat.texts import default_texts
from bot.core import settings


def main() -> int:
    try:
        config = WeChatConfig.from_env()
    except ConfigError as exc:
        print(f"WeChat gateway: {exc}", file=sys.stderr)
        return 2
    if config is None:
        print(default_texts().get("missing_token"))
        return 0
    logging.basicConfig(
        level=settings.current().log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from bot.channels.wechat.app import Gateway

    asyncio.run(Gateway(config).run_until_signal())
    return 0


if __name__ == "__main__":
    sys.exit(main())
