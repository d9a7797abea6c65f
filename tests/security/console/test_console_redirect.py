"""Finding 6: after login, ``next`` may only lead to a path on this site."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from tests.console.conftest import PASSWORD, csrf_of, login

HOSTILE = [
    "/\t/evil.example",  # what /login?next=/%09/evil.example decodes to; browsers drop the tab
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/ /evil.example",
    "//evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "\\\\evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "/\u200b/evil.example",  # zero-width space
    "/\x00/evil.example",
    "evil.example",
]


@pytest.mark.parametrize("target", HOSTILE)
async def test_login_never_redirects_off_site(client, accounts, target):
    token = await csrf_of(client)
    resp = await client.post(
        "/login",
        data={"username": "agent1", "password": PASSWORD, "_csrf": token, "next": target},
        allow_redirects=False,
    )
    if "\x00" in target:  # form fields with control characters are refused outright
        assert resp.status == 400 and "Location" not in resp.headers
    else:
        assert resp.status == 302 and resp.headers["Location"] == "/live"


async def test_the_login_page_does_not_carry_a_hostile_next(client, accounts):
    resp = await client.get("/login?next=/%09/evil.example")
    html = await resp.text()
    assert resp.status == 200 and "evil.example" not in html
    await login(client, "agent1")
    resp = await client.get("/login?next=/%09/evil.example", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/live"


async def test_local_targets_still_work(client, accounts):
    for target in ("/queue", "/conversations/web-0123?tab=notes#n", "/wishes?status=待审核"):
        token = await csrf_of(client)
        resp = await client.post(
            "/login",
            data={"username": "agent1", "password": PASSWORD, "_csrf": token, "next": target},
            allow_redirects=False,
        )
        assert unquote(resp.headers["Location"]) == target
        await client.post("/logout", data={"_csrf": await csrf_of(client, "/live")})
