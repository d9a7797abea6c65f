"""Run database jobs in threads released together, to prove constraints hold under contention."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from bot.core.appointments import BookingError


def run_concurrently(engine, jobs: list[Callable[[Session], Any]]) -> Counter:
    """Outcome counts: a job's return value (or "ok") once committed, a BookingError's code, or
    the text of any other exception (a bug the calling test's assertion will show)."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list = [None] * len(jobs)

    def worker(index: int, job: Callable[[Session], Any]) -> None:
        session = Session(engine, future=True, expire_on_commit=False)
        try:
            barrier.wait(timeout=60)
            result = job(session)
            session.commit()
            outcomes[index] = result or "ok"
        except BookingError as exc:
            session.rollback()
            outcomes[index] = exc.code
        except Exception as exc:
            session.rollback()
            outcomes[index] = f"{type(exc).__name__}: {exc}"
        finally:
            session.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return Counter(outcomes)
