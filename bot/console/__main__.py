"""``python -m bot.console`` serves the console; ``python -m bot.console create-supervisor NAME``
creates a supervisor account (password read from stdin when piped, else prompted twice)."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Sequence


def _read_password(stream=None) -> str:
    stream = stream or sys.stdin
    if not stream.isatty():
        return stream.readline().rstrip("\r\n")
    from bot.console.texts import t

    first = getpass.getpass(t("cli.password"))
    second = getpass.getpass(t("cli.password_again"))
    if first != second:
        raise SystemExit(t("errors.password_mismatch"))
    return first


def create_account(username: str, role: str, password: str, url: str | None = None) -> None:
    from bot.console import accounts
    from bot.console.kit import local_now
    from bot.console.texts import t
    from bot.core import db

    engine = db.make_engine(url) if url else db.get_engine()
    try:
        with db.session_scope(engine) as s:
            accounts.create_user(s, username, password, role, now=local_now(), created_by="cli")
    except accounts.AccountError as exc:
        raise SystemExit(t(f"errors.{exc.code}")) from exc
    print(f"created {role} {username}")


def serve() -> None:
    from aiohttp import web

    from bot.console.app import create_app
    from bot.console.config import ConsoleConfig
    from bot.core.people import PiiMaskingFilter

    handler = logging.StreamHandler()
    handler.addFilter(PiiMaskingFilter())
    logging.basicConfig(
        level=logging.INFO,
        handlers=[handler],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    config = ConsoleConfig.from_env()
    web.run_app(create_app(config), host=config.host, port=config.port, access_log=None)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.console", description="荣军助手 console")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the console (default)")
    for name, role in (("create-supervisor", "supervisor"), ("create-agent", "agent")):
        cmd = sub.add_parser(name, help=f"create a {role} account")
        cmd.add_argument("username")
        cmd.add_argument("--url", help="SQLAlchemy URL (default: DATABASE_URL / the SQLite file)")
        cmd.set_defaults(role=role)
    args = parser.parse_args(argv)
    if args.command in ("create-supervisor", "create-agent"):
        create_account(args.username, args.role, _read_password(), args.url)
    else:
        serve()


if __name__ == "__main__":
    main()
