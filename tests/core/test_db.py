from bot.core import db


def test_default_engine_follows_the_configured_database(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'a.db'}")
    first = db.get_engine()
    assert db.get_engine() is first
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'b.db'}")
    second = db.get_engine()
    assert second is not first and str(second.url).endswith("b.db")
