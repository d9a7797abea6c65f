"""Starts Rasa (``python -m bot.rasa_server run …``) with the project's safety settings applied.

Used by bot/run.py instead of the ``rasa`` script, for three reasons:

* the API token is read from the environment/data dir (``settings.rasa_token``) and handed to
  Rasa in-process, so it never appears in the process list as ``--auth-token`` would;
* telemetry is switched off and files Rasa creates (SQLite stores) are private (umask 077);
* Rasa 3.6 waits up to 300 s for a custom action (``DEFAULT_REQUEST_TIMEOUT``, read at call time
  from the module globals patched in :func:`bound_action_timeout`). A stuck action server would
  hold the conversation's lock that long; RJ_ACTION_TIMEOUT bounds it. tests/security checks that
  Rasa still reads those globals, so an upgrade that changes this fails loudly.

It also installs :mod:`bot.rasa_speedups`: action responses validated by a compiled validator,
and action calls sent over a keep-alive connection pool (Rasa itself opens a new HTTP session
per call) with one retry, for repeatable actions only, when a pooled connection is found dead.
The action server's keep-alive timeout (75 s, actions/server.py) is above the pool's (15 s),
so an idle connection is closed by Rasa's side first.
"""

from __future__ import annotations

import os
import sys

from bot.core import settings


def bound_action_timeout(seconds: float) -> None:
    import rasa.core.actions.action as action_module
    import rasa.utils.endpoints as endpoints_module

    action_module.DEFAULT_REQUEST_TIMEOUT = seconds
    endpoints_module.DEFAULT_REQUEST_TIMEOUT = seconds


def rasa_argv(argv: list[str], config: settings.Settings) -> list[str]:
    """The arguments for Rasa: the token is added to ``run`` when one is configured."""
    given = any(arg == "--auth-token" or arg.startswith("--auth-token=") for arg in argv)
    if argv[:1] == ["run"] and config.rasa_token and not given:
        # One argument with "=": a generated token may begin with "-", which argparse would
        # otherwise take for an option (Rasa then exits: "expected one argument").
        return [*argv, f"--auth-token={config.rasa_token}"]
    return list(argv)


def main(argv: list[str] | None = None) -> None:
    os.umask(0o077)
    os.environ["RASA_TELEMETRY_ENABLED"] = "false"
    config = settings.current()
    bound_action_timeout(config.action_timeout)
    from bot import rasa_speedups

    rasa_speedups.install()
    sys.argv = ["rasa", *rasa_argv(sys.argv[1:] if argv is None else argv, config)]
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
