"""Page modules: every module here with a ``setup(app)`` is loaded by ``create_app`` (by name)."""
