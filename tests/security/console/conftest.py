"""The console's test fixtures (the real app on a temp SQLite DB, a fake Rasa, accounts …) for
the console security tests here (test_console_*.py); see tests/console/conftest.py."""

from tests.console.conftest import *  # noqa: F403 - fixtures
from tests.console.conftest import _env  # noqa: F401 - autouse: a temp data dir and ID key
