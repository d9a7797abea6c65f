"""The part of a gateway's ``POST /push`` that does not depend on the messenger.

Other services (action server, console) send ``Authorization: Bearer <push token>`` and a JSON
object ``{"recipient": ..., "text"?: str, "buttons"?: [{"title", "payload"}]}``. This module
checks the token (401), the body's shape and the recipient's form (400); each gateway then renders
and sends in its own way. Secrets are compared with :func:`hmac.compare_digest` so timing reveals
nothing about them.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiohttp import web

Recipient = TypeVar("Recipient")


def same_secret(given: str | None, expected: str | None) -> bool:
    """True when both are set and equal; compared in constant time."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def refusal(error: str, status: int = 400, **extra: Any) -> web.Response:
    """The JSON answer ``{"ok": false, "error": ...}`` every push endpoint gives."""
    return web.json_response({"ok": False, "error": error, **extra}, status=status)


@dataclass(frozen=True)
class PushRequest(Generic[Recipient]):
    recipient: Recipient
    text: str | None
    buttons: list[Any] | None


async def read_push_request(
    request: web.Request,
    *,
    push_token: str,
    parse_recipient: Callable[[Any], Recipient | None],
    recipient_form: str,
) -> PushRequest[Recipient] | web.Response:
    """The checked request, or the refusal to answer with.

    ``parse_recipient`` turns the body's ``recipient`` into the gateway's own address (None when
    it is not one); ``recipient_form`` names the expected form in the 400 answer.
    """
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not same_secret(token.strip(), push_token):
        return refusal("unauthorized", status=401)
    try:
        body = await request.json()
    except Exception:
        return refusal("body must be JSON")
    if not isinstance(body, dict):
        return refusal("body must be an object")
    recipient = parse_recipient(body.get("recipient"))
    if recipient is None:
        return refusal(f"recipient must be {recipient_form}")
    text, buttons = body.get("text"), body.get("buttons")
    if text is not None and not isinstance(text, str):
        return refusal("text must be a string")
    if buttons is not None and not isinstance(buttons, list):
        return refusal("buttons must be a list")
    return PushRequest(recipient, text, buttons)


def push_handler(
    *,
    push_token: str,
    parse_recipient: Callable[[Any], Recipient | None],
    recipient_form: str,
    deliver: Callable[[PushRequest[Recipient]], Awaitable[web.Response]],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The ``POST /push`` handler: a checked request goes to ``deliver``, anything else is
    refused as :func:`read_push_request` says."""

    async def push(request: web.Request) -> web.Response:
        checked = await read_push_request(
            request,
            push_token=push_token,
            parse_recipient=parse_recipient,
            recipient_form=recipient_form,
        )
        if isinstance(checked, web.Response):
            return checked
        return await deliver(checked)

    return push
