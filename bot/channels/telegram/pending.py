"""Messages kept while Rasa is unavailable, to be re-sent in order once it is back.

Why queue instead of "please resend": veterans often type one long message slowly; losing it to
a restart of the Rasa or action server would be frustrating, and the channel can retry for them.
Only failures that are *safe* to retry end up here (connection refused / 5xx: Rasa did not keep
the turn, or kept it and is asked again with the same message id, which it answers from the
stored turn). The queue is bounded per chat and in number of chats; when full, the user is told to
resend later. It lives in memory: a gateway restart during a Rasa outage loses the queue, which
is acceptable for a channel (and avoids storing message text, which may contain personal data).
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any


@dataclass
class PendingMessage:
    chat_id: int
    sender: str
    text: str
    metadata: dict[str, Any]
    queued_at: float = field(default_factory=time.monotonic)
    # Sent with every attempt: a resend of a message Rasa did keep is answered, not run again.
    message_id: str | None = None


@dataclass
class _ChatQueue:
    messages: deque[PendingMessage] = field(default_factory=deque)
    apologised_at: float | None = None  # when the user was last told their message is kept


class PendingQueue:
    """Per-chat FIFO queues, bounded by ``per_chat`` messages and ``max_chats`` chats."""

    def __init__(self, per_chat: int = 20, max_chats: int = 1000) -> None:
        self.per_chat = per_chat
        self.max_chats = max_chats
        self._chats: OrderedDict[int, _ChatQueue] = OrderedDict()

    def __len__(self) -> int:
        return sum(len(q.messages) for q in self._chats.values())

    def has(self, chat_id: int) -> bool:
        queue = self._chats.get(chat_id)
        return bool(queue and queue.messages)

    def chats(self) -> list[int]:
        """Chats with waiting messages, oldest first."""
        return [chat_id for chat_id, q in self._chats.items() if q.messages]

    def add(self, message: PendingMessage) -> bool:
        """Queue ``message``; False (and nothing queued) when the chat's or global bound is hit."""
        queue = self._chats.get(message.chat_id)
        if queue is None:
            if len(self._chats) >= self.max_chats:
                return False
            queue = self._chats[message.chat_id] = _ChatQueue()
        if len(queue.messages) >= self.per_chat:
            return False
        queue.messages.append(message)
        return True

    def peek(self, chat_id: int) -> PendingMessage | None:
        queue = self._chats.get(chat_id)
        return queue.messages[0] if queue and queue.messages else None

    def pop(self, chat_id: int) -> PendingMessage | None:
        queue = self._chats.get(chat_id)
        if not queue or not queue.messages:
            return None
        return queue.messages.popleft()

    def should_apologise(self, chat_id: int, now: float, every: float) -> bool:
        """True (and remember it) unless the chat was told less than ``every`` seconds ago."""
        queue = self._chats.get(chat_id)
        if queue is None:
            return False
        if queue.apologised_at is not None and now - queue.apologised_at < every:
            return False
        queue.apologised_at = now
        return True

    def forget(self, chat_id: int) -> None:
        """Drop the chat's bookkeeping once its queue is empty (outage over for this chat)."""
        queue = self._chats.get(chat_id)
        if queue is not None and not queue.messages:
            del self._chats[chat_id]
