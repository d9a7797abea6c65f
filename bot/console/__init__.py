"""荣军助手 hotline agents' console and the public web chat (aiohttp, server-side rendered).

Run: ``python -m bot.core.migrate`` (tables), then ``python -m bot.console``
(127.0.0.1:CONSOLE_PORT, default 8080); first account:
``python -m bot.console create-supervisor <name>`` (password from stdin / prompted twice).
Settings: see ``bot/console/config.py``. Tables: ``bot/console/models.py`` (migrations 0003_console,
0005_console_sessions).

Layout
------
app.py          ``create_app()``: config, DB engine, session + CSRF + access middleware, Jinja2,
                static files, background tasks (event source → hub, outbox delivery, queue watch),
                and every page module in ``pages/``.
kit.py          what page modules use: app keys, ``@public``, ``@require_role``, ``@csrf_exempt``,
                ``register_nav``, ``db_call``, ``render``, ``error``, ``flash`` (the one notice
                mechanism), ``now``, ``current_user``, input helpers (``path_id``, ``json_object``).
security.py     session cookie (encrypted), CSRF, the access middleware, security headers.
sessions.py     server-side logins (``console_sessions``): logout / deactivation end them at once.
accounts.py     console users (scrypt hashes).
ratelimit.py    request limits (logins, web chat, PII reveals; ``RJ_RATE_LIMITS=off`` lifts them).
events.py       Rasa event sources: SQL broker table (poll) or RabbitMQ queue (aio-pika).
hub.py          live conversations in memory + websocket fan-out (agents /ws, web users /chat/ws);
                raises handoff triggers (crisis, request_human, two fallbacks).
handoffs.py     queue snapshots, take (handoff.take + Rasa pause), release (Rasa resume +
                handoff.release).
history.py      one conversation's history: the hub's, else rebuilt from Rasa's tracker.
delivery.py     web push / outbox delivery for ``web-`` users, the Telegram and WeChat
                gateways' /push for ``tg-`` and ``wx-``.
assist.py       suggested replies (Rasa predict + domain, /model/parse + knowledge), profile,
                entitlements, PII reveal (logged).
(the Rasa client is bot/channels/rasa_client.py, shared with the gateways)
messages.yml    Chinese texts used by Python code (``texts.t("errors.csrf")``; ``T`` in
                templates).
templates/      Jinja2 pages extending ``base.html``; static/ holds console.css, console.js,
                chat.js.

Adding a page
-------------
1. Create ``bot/console/pages/<name>.py`` with a ``setup(app)`` function; ``create_app`` imports
   every module in ``pages/`` and calls it (no central list to edit). A page imports the modules
   above, never another page (tests/console/test_page_boundaries.py)::

       from aiohttp import web
       from bot.console.kit import db_call, now, register_nav, render, require_role, flash

       @require_role("supervisor")          # omit → any logged-in agent or supervisor
       async def closures(request):
           rows = await db_call(request, lambda s: my_capability.list(s, now(request)))
           return render(request, "closures.html", {"rows": rows})

       @require_role("supervisor")
       async def add_closure(request):      # POST: CSRF is checked by the middleware
           form = await request.post()
           ...
           await flash(request, "saved")    # ``flash:`` key in messages.yml; values format it
           raise web.HTTPFound("/closures")

       def setup(app):
           app.router.add_get("/closures", closures, name="closures")
           app.router.add_post("/closures", add_closure)
           register_nav(app, "/closures", "nav.closures", roles=("supervisor",), order=60)

2. Access is deny-by-default: every route needs a logged-in active user; ``@require_role``
   narrows it; only ``@public`` routes are open. ``tests/console/test_access.py`` walks
   ``app.router`` (your routes included, path parameters filled with ``1``) and checks that
   anonymous users get 302 /login (GET pages) or 401 (APIs, POST, websockets), that roles you
   declare are enforced (403), and that every POST without the CSRF token gets 403. It fails if
   a route becomes ``@public`` or ``@csrf_exempt`` without being added to its lists.
3. Every non-GET request must carry the session CSRF token: in forms
   ``<input type="hidden" name="_csrf" value="{{ csrf_token }}">``; from JS ``RJ.post(url, data)``
   (console.js) sends the ``X-CSRF-Token`` header. Missing/wrong → 403.
4. Templates: ``{% extends "base.html" %}`` with blocks ``title``, ``head`` (extra
   ``<link rel="stylesheet" href="{{ asset('x.css') }}">``), ``page`` (sets ``body[data-page]``),
   ``content``, ``scripts``. Context always has ``user``, ``csrf_token``,
   ``T`` (messages.yml), ``nav``, ``path``, ``flash``. Use ``asset('file.css')`` for static URLs.
   Put Chinese UI text in templates or messages.yml, never in Python.
5. Database work: ``await db_call(request, fn, *args)`` runs ``fn(session, *args)`` in a worker
   thread inside one transaction (commit on success). Use ``now(request)`` for the time (tests
   replace the clock). New tables: add models to ``models.py`` (or your own module on
   ``bot.core.db.Base``) and a migration ``0005_…`` with down_revision the current
   head (``0005_console_sessions`` at the time of writing; keep a single head).
6. Personal data: show ``people.mask_*`` values only; revealing goes through ``/pii/reveal``
   (the agent holding the handoff or a supervisor; rate-limited; logged in ``pii_reveal_log``).
   Input: read JSON bodies with ``json_object`` / ``form_or_json`` and ``text_field`` (400 on
   anything but an object with string fields), ids in paths with ``path_id`` (404 when out of
   range), free text through ``clean_text``.
7. Live updates: ``await request.app[HUB].broadcast({"type": "<yours>", ...})`` reaches every
   agent page; in JS ``RJ.on(function (msg) { if (msg.type === "<yours>") ... })``.
8. Tests: ``tests/console/conftest.py`` gives ``client`` / ``make_client(**config)`` (the real app
   on a temp SQLite DB with every capability table, a fake Rasa over HTTP, a fake Telegram
   gateway), ``accounts`` (users ``sup``, ``agent1``, ``agent2``; password ``PASSWORD``),
   ``await login(client, "agent1")`` → CSRF token, ``csrf_of(client, path)``, ``browser(client)``
   (a second browser on the same app), ``clock`` (``clock.moment = …``) and ``eventually()``.
   Browser tests: ``tests/console/e2e`` (Playwright, Debian's Chromium; ``CONSOLE_E2E_*`` settings).
"""
