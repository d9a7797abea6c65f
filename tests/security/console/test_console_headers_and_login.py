"""Finding 11: every response forbids framing and MIME sniffing and carries a
Content-Security-Policy; failed logins are limited per IP as well as per username + IP, so
spraying many usernames from one address is stopped."""

from __future__ import annotations

from tests.console.conftest import PASSWORD, csrf_of, login


def assert_hardened(resp) -> None:
    csp = resp.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp and "script-src 'self'" in csp, (resp.url, csp)
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-eval" not in csp and "script-src 'self' 'unsafe-inline'" not in csp
    assert resp.headers.get("X-Frame-Options") == "DENY"
    assert resp.headers.get("X-Content-Type-Options") == "nosniff"
    assert resp.headers.get("Referrer-Policy") == "same-origin"


async def test_security_headers_on_pages_apis_errors_and_static_files(client, accounts):
    for path in ("/login", "/chat", "/static/chat.js", "/nowhere", "/api/queue", "/live"):
        resp = await client.get(path, allow_redirects=False)
        assert_hardened(resp)
    assert_hardened(await client.post("/chat/api/message", json={"text": "x"}))  # 403 csrf
    await login(client, "agent1")
    for path in ("/live", "/queue", "/api/queue"):
        assert_hardened(await client.get(path))


async def post_login(client, username: str, password: str):
    token = await csrf_of(client)
    return await client.post(
        "/login",
        data={"username": username, "password": password, "_csrf": token},
        allow_redirects=False,
    )


async def test_spraying_usernames_from_one_ip_is_limited(make_client, accounts):
    client = await make_client(login_ip_max_failures=6)
    statuses = [(await post_login(client, f"guess{n}", "wrong-password")).status for n in range(6)]
    assert statuses == [401] * 5 + [429]  # each username failed only once
    resp = await post_login(client, "agent1", PASSWORD)  # even a right password now waits
    assert resp.status == 429 and "请 5 分钟后再试" in await resp.text()


async def test_the_per_ip_default_allows_a_few_typos(client, accounts):
    for _ in range(4):
        assert (await post_login(client, "agent1", "typo-typo-typo")).status == 401
    assert (await post_login(client, "agent1", PASSWORD)).status == 302
