"""Load clearly marked demo data for trying the agent console: ``make demo-data``.

    python -m bot.core.demo_data [--url URL]

Upgrades the schema, then adds the invented 示例 jobs of ``data/demo/jobs.yml`` (every row
``is_sample``; idempotent). A default ``make run`` never does this, and the veteran-facing job
actions never show ``is_sample`` rows, so demo data stays inside the console.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from bot.core import db, jobs, migrate


def load(url: str | None = None) -> int:
    """Upgrade the database at ``url`` (default: settings) and add the demo jobs; returns how many
    were added."""
    migrate.upgrade(url)
    engine = db.make_engine(url) if url else None
    try:
        with db.session_scope(engine) as session:
            return jobs.seed_jobs(session)
    finally:
        if engine is not None:
            engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Load demo (示例) data for the agent console.")
    parser.add_argument("--url", help="SQLAlchemy URL (default: DATABASE_URL or the SQLite file)")
    args = parser.parse_args(argv)
    print(f"demo jobs added (marked is_sample, shown only in the console): {load(args.url)}")


if __name__ == "__main__":
    main()
