"""WeChat Official Account (公众号) channel of 荣军助手: WeChat's server ↔ Rasa's REST channel.

Run ``python -m bot.channels.wechat`` (``make run`` does when WECHAT_TOKEN is set). It listens on
127.0.0.1:8090 (WECHAT_PORT); a TLS reverse proxy forwards WeChat's calls to ``/wechat``. The same
server answers ``POST /push`` (console, action server) and ``GET /health``. Operator set-up: the
README section "WeChat 公众号".

Modules
    config          environment → :class:`WeChatConfig` (tunables have production defaults)
    texts           the channel's own Chinese texts (``messages.yml``), in the user's script
    envelope        signatures; AES decryption/encryption in compatible and safe mode (wechatpy)
    api             access token (cached, one refresh at a time) and 客服 messages, on aiohttp
    rendering       Rasa reply items → texts ≤ 2048 bytes; buttons → a numbered menu
    menu            the numbered menu per user: a number or title picks the button's payload
    dedupe          WeChat's retries of one message (same MsgId) are handled once
    relay           message → Rasa → passive reply within 5 s, the rest as 客服 messages
    contact_window  the 48-hour push window, stored in the core DB (bot/core/contacts.py)
    push            客服 messages for follow-ups, /push and outbox reminders
    server          aiohttp routes: /wechat (GET check, POST messages), /push, /health
    app             wiring and lifecycle (:class:`Gateway`)

Shared with the Telegram gateway: bot/channels/rasa_client.py (the one Rasa client),
rate_limit.py, text_split.py and outbox_delivery.py.

Conversation ids are ``wx-<openid>`` (the user's id within this 公众号). Message contents are
never logged. Rasa down: the user is asked to send again in a few minutes (no queue: unlike a
Telegram chat, a WeChat answer after the 5-second window needs 客服 permission, which
unverified accounts lack, so the channel does not promise a later answer).
"""
