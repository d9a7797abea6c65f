"""`make demo-data` loads marked demo jobs; a plain migration (what `make run` does) loads none."""

from __future__ import annotations

from sqlalchemy import select

from bot.core import db, demo_data, jobs, migrate


def _jobs(url):
    engine = db.make_engine(url)
    try:
        with db.session_scope(engine) as session:
            rows = session.execute(select(jobs.Job)).scalars()
            return [(j.title, j.employer, j.is_sample) for j in rows]
    finally:
        engine.dispose()


def test_migration_alone_adds_no_jobs(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'plain.db'}"
    migrate.main(["--url", url])
    assert _jobs(url) == []
    assert "示例" not in capsys.readouterr().out


def test_demo_data_is_marked_and_idempotent(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    demo_data.main(["--url", url])
    rows = _jobs(url)
    assert len(rows) == len(jobs.demo_jobs()) >= 8
    assert all(
        is_sample and "示例" in title and employer.startswith("示例企业")
        for title, employer, is_sample in rows
    )
    assert demo_data.load(url) == 0  # a second run adds nothing
    assert len(_jobs(url)) == len(rows)
    assert f"{len(rows)}" in capsys.readouterr().out
