"""Starts the assistant's processes together and stops them together.

`make run`, `make shell` and the integration tests all start the stack through this module, so
there is one way to wire Rasa, the action server and the gateways. The effective endpoints file
is derived from endpoints.yml plus environment overrides (see the comment at its top).

    python -m bot.run serve     # Rasa + action server (+ console, + Telegram when TELEGRAM_TOKEN
                                #  is set, + WeChat when WECHAT_TOKEN is set)
    python -m bot.run shell     # action server + a terminal chat
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Dict, List, Optional
from urllib.parse import urlparse

import yaml

from bot.core import settings

REPO = settings.REPO_ROOT
PYTHON = sys.executable
RASA = str(Path(PYTHON).with_name("rasa"))


def _sqlite_path(env: Dict[str, str], name: str) -> str:
    return str(settings.data_dir(env) / name)


def _sql_store_from_url(url: str) -> Dict[str, object]:
    """Rasa's SQL store settings from a SQLAlchemy URL (postgresql+psycopg2://user@host/db)."""
    parsed = urlparse(url)
    dialect = parsed.scheme.split("+")[0]
    store: Dict[str, object] = {
        "type": "SQL",
        "dialect": "postgresql" if dialect == "postgres" else dialect,
        "db": parsed.path.lstrip("/"),
    }
    for key, value in (
        ("host", parsed.hostname),
        ("port", parsed.port),
        ("username", parsed.username),
        ("password", parsed.password),
    ):
        if value:
            store[key] = value
    return store


def effective_endpoints(env: Optional[Dict[str, str]] = None) -> Dict[str, object]:
    """endpoints.yml with the environment's overrides applied (pure: no files written)."""
    env = dict(os.environ if env is None else env)
    endpoints = yaml.safe_load((REPO / "endpoints.yml").read_text(encoding="utf-8"))
    if env.get("ACTION_ENDPOINT_URL"):
        endpoints["action_endpoint"]["url"] = env["ACTION_ENDPOINT_URL"]
    if env.get("RASA_TRACKER_URL"):
        endpoints["tracker_store"] = _sql_store_from_url(env["RASA_TRACKER_URL"])
    else:
        endpoints["tracker_store"]["db"] = _sqlite_path(env, "rasa_tracker.db")
    if env.get("RASA_EVENT_BROKER", "sql").lower() == "rabbitmq":
        rabbit = urlparse(env.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672"))
        endpoints["event_broker"] = {
            "type": "pika",
            "url": rabbit.hostname,
            "port": rabbit.port or 5672,
            "username": rabbit.username or "guest",
            "password": rabbit.password or "guest",
            "queues": [env.get("RABBITMQ_QUEUE", "rasa_events")],
        }
    else:
        endpoints["event_broker"]["db"] = _sqlite_path(env, "rasa_events.db")
    if env.get("RASA_LOCK_STORE", "").lower() == "redis":
        endpoints["lock_store"] = {
            "type": "redis",
            "url": env.get("REDIS_HOST", "127.0.0.1"),
            "port": int(env.get("REDIS_PORT", "6379")),
        }
    return endpoints


def write_effective_endpoints(env: Optional[Dict[str, str]] = None) -> Path:
    path = settings.data_dir(env) / "endpoints.effective.yml"
    path.write_text(yaml.safe_dump(effective_endpoints(env), allow_unicode=True), encoding="utf-8")
    return path


def latest_model(models_dir: Path = REPO / "models") -> Path:
    models = sorted(models_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise SystemExit("没有找到模型 / no trained model in models/: run `make train` first.")
    return models[-1]


def wait_http(url: str, timeout: float, process: Optional[subprocess.Popen] = None) -> None:
    """Wait until ``url`` answers 2xx/4xx; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError as error:
            if error.code < 500:
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")


@dataclass
class Stack:
    """The processes of one running assistant; ports default to the documented ones."""

    rasa_port: int = 5005
    action_port: int = 5055
    console_port: int = 8080
    telegram_port: int = 8081
    wechat_port: int = 8090
    env: Dict[str, str] = field(default_factory=lambda: dict(os.environ))
    log_dir: Optional[Path] = None
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: List[IO[bytes]] = field(default_factory=list)

    def _spawn(self, name: str, args: List[str]) -> subprocess.Popen:
        out = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.log_dir / f"{name}.log", "ab")
            self.logs.append(out)
        process = subprocess.Popen(
            args, cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT if out else None
        )
        self.processes[name] = process
        return process

    def start_actions(self) -> None:
        process = self._spawn(
            "actions",
            [PYTHON, "-m", "rasa_sdk", "--actions", "actions", "-p", str(self.action_port)],
        )
        wait_http(f"http://127.0.0.1:{self.action_port}/health", 120, process)

    def start_rasa(self, model: Optional[Path] = None) -> None:
        self.env.setdefault("ACTION_ENDPOINT_URL", f"http://127.0.0.1:{self.action_port}/webhook")
        endpoints = write_effective_endpoints(self.env)
        process = self._spawn(
            "rasa",
            [
                RASA, "run", "--enable-api", "-i", "127.0.0.1", "-p", str(self.rasa_port),
                "-m", str(model or latest_model()), "--endpoints", str(endpoints),
                "--credentials", str(REPO / "credentials.yml"), "--cors", "*",
            ]
            + (["--auth-token", self.env["RASA_AUTH_TOKEN"]] if self.env.get("RASA_AUTH_TOKEN") else []),
        )
        wait_http(f"http://127.0.0.1:{self.rasa_port}/status", 300, process)

    def start_console(self) -> None:
        self.env.setdefault("RASA_URL", f"http://127.0.0.1:{self.rasa_port}")
        self.env["CONSOLE_PORT"] = str(self.console_port)
        self.env.setdefault("TELEGRAM_PUSH_URL", f"http://127.0.0.1:{self.telegram_port}/push")
        self.env.setdefault("WECHAT_PUSH_URL", f"http://127.0.0.1:{self.wechat_port}/push")
        process = self._spawn("console", [PYTHON, "-m", "bot.console"])
        wait_http(f"http://127.0.0.1:{self.console_port}/login", 60, process)

    def start_telegram(self) -> None:
        self.env.setdefault("RASA_URL", f"http://127.0.0.1:{self.rasa_port}")
        self.env["TELEGRAM_GATEWAY_PORT"] = str(self.telegram_port)
        process = self._spawn("telegram", [PYTHON, "-m", "bot.channels.telegram"])
        wait_http(f"http://127.0.0.1:{self.telegram_port}/health", 60, process)

    def start_wechat(self) -> None:
        self.env.setdefault("RASA_URL", f"http://127.0.0.1:{self.rasa_port}")
        self.env["WECHAT_PORT"] = str(self.wechat_port)
        process = self._spawn("wechat", [PYTHON, "-m", "bot.channels.wechat"])
        wait_http(f"http://127.0.0.1:{self.wechat_port}/health", 60, process)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()
        for log in self.logs:
            log.close()
        self.logs.clear()


def migrate() -> None:
    subprocess.run([PYTHON, "-m", "bot.core.migrate"], cwd=REPO, check=True)


def serve() -> int:
    migrate()
    stack = Stack()
    stopping = False

    def _stop(*_args) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        print("启动动作服务器 / starting the action server …", flush=True)
        stack.start_actions()
        print("启动 Rasa / starting Rasa (loading the model takes ~30 s) …", flush=True)
        stack.start_rasa()
        if (REPO / "bot" / "console" / "__main__.py").exists():
            stack.start_console()
        telegram = bool(os.environ.get("TELEGRAM_TOKEN"))
        if telegram:
            stack.start_telegram()
        wechat = bool(os.environ.get("WECHAT_TOKEN"))
        if wechat:
            stack.start_wechat()
        print(
            "\n荣军助手已启动 / 荣军助手 is running:\n"
            f"  网页聊天 web chat:      http://127.0.0.1:{stack.console_port}/chat\n"
            f"  坐席控制台 console:     http://127.0.0.1:{stack.console_port}/  "
            "(first time: .venv/bin/python -m bot.console create-supervisor NAME)\n"
            f"  Rasa REST:             http://127.0.0.1:{stack.rasa_port}/webhooks/rest/webhook\n"
            + (
                f"  Telegram gateway:      running (push on http://127.0.0.1:{stack.telegram_port})\n"
                if telegram
                else "  Telegram:              未启动 not started — set TELEGRAM_TOKEN=<token from @BotFather> "
                "and run `make run` again\n"
            )
            + (
                f"  WeChat 公众号 gateway:  http://127.0.0.1:{stack.wechat_port}/wechat "
                "(reverse-proxy your 服务器地址 URL here; push on /push)\n"
                if wechat
                else "  WeChat 公众号:          未启动 not started — set WECHAT_TOKEN, WECHAT_APPID, "
                "WECHAT_SECRET (see README「WeChat 公众号」)\n"
            )
            + "按 Ctrl-C 停止 / press Ctrl-C to stop.",
            flush=True,
        )
        while not stopping:
            for name, process in stack.processes.items():
                if process.poll() is not None:
                    print(f"{name} exited with {process.returncode}; stopping.", flush=True)
                    stopping = True
            time.sleep(0.5)
    finally:
        print("\n正在停止 / stopping …", flush=True)
        stack.stop()
    return 0


def shell() -> int:
    migrate()
    stack = Stack()
    try:
        stack.start_actions()
        endpoints = write_effective_endpoints(stack.env)
        return subprocess.call(
            [RASA, "shell", "-m", str(latest_model()), "--endpoints", str(endpoints)], cwd=REPO
        )
    finally:
        stack.stop()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("command", choices=["serve", "shell", "endpoints"])
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve()
    if args.command == "shell":
        return shell()
    print(write_effective_endpoints())
    return 0


if __name__ == "__main__":
    sys.exit(main())
