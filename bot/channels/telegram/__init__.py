"""Telegram channel of 荣军助手: a gateway between the Telegram Bot API and Rasa's REST channel.

Run ``python -m bot.channels.telegram`` (needs TELEGRAM_TOKEN). Development uses long polling;
production
sets TELEGRAM_WEBHOOK_URL (+ TELEGRAM_WEBHOOK_SECRET), and a TLS reverse proxy forwards Telegram's
requests to the gateway's HTTP server (127.0.0.1:TELEGRAM_GATEWAY_PORT, default 8081), which also
serves ``POST /push`` for the action server / console and ``GET /health``.

Modules
    config           environment → :class:`GatewayConfig` (tunables have production defaults)
    texts            the channel's own Chinese texts, from ``messages.yml``
    (Rasa is reached through bot/channels/rasa_client.py, shared with the other channels)
    rendering        Rasa reply items → sendMessage/sendPhoto/...; splitting; inline keyboards
    callback_store   callback_data ≤ 64 bytes: inline ASCII payloads or short random tokens
    (rate limiting: bot/channels/rate_limit.py, shared with the WeChat gateway)
    pending          bounded per-chat queue of messages kept while Rasa is down
    relay            message → Rasa → replies; per-chat ordering; resend loop
    handlers         PTB callbacks: addressing in groups, commands, media, button presses
    push             aiohttp server: webhook (secret checked), /push (bearer token), /health
    outbox_delivery  appointment reminders from the outbox (``tg-`` recipients), exactly once
    app              wiring and lifecycle (:class:`Gateway`)

Design choices
    Conversation ids. The Rasa sender id is ``tg-<chat_id>`` for every chat. In a private chat
    that is the user. In a group, all members share ONE Rasa conversation (the group's), and the
    bot answers only when @mentioned or replied to. Why: pushes and reminders are addressed to
    chats (``tg-<chat_id>``), so a per-member id could not be reached by them; groups are rare
    for this audience (a family or a 驿站 volunteer group), and the user id is still passed in
    metadata (``user_id``) for actions that need to know who spoke. Consequence: two members
    filling one form at the same time share it — sensitive forms belong in a private chat.

    Rasa down. Connection errors and 5xx are retried (3 attempts, ~2 s), then the message is kept
    in a bounded in-memory per-chat queue and the user is told "系统繁忙，您的消息已保存…". A
    background loop re-sends queued messages in order when Rasa is back and says once that they
    went through. A read timeout is NOT retried or queued: Rasa may still be executing it (e.g.
    a booking), so the user is asked to resend if no answer comes. Queue full → "please resend".

    Buttons. Short ASCII payloads travel inline in callback_data; others are stored under a
    random 16-character token in a bounded LRU/TTL dict (7 days). After a restart or expiry a
    press gets "按钮已过期，请重新输入". A pressed keyboard is removed (editMessageReplyMarkup)
    and the chosen title shown in the callback answer; a second press on the same message is
    ignored.

    Texts. Plain text only (no Markdown/HTML parse mode); messages over 4096 UTF-16 units are
    split on paragraph/line/sentence boundaries. The channel never converts scripts: Rasa already
    answers in the user's script. Message contents are never logged.
"""
