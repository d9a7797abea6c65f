"""`make train` shows Rasa's progress and result, not the dependency warnings (bot/train.py)."""

import io

from bot.train import show


def shown(lines):
    terminal = io.BytesIO()
    for line in lines:
        show(line, terminal)
    return terminal.getvalue()


def test_warnings_go_to_the_log_only():
    out = shown(
        [
            b"/x/pkg_resources/__init__.py:3117: DeprecationWarning: Deprecated call",
            b"  declare_namespace(pkg)",
            b"UserWarning: The utterance 'utter_x' is not used in any story or rule.",
            b"Epochs:  45%|####5     | 18/40 [00:20<00:25, 1.10s/it, t_loss=1.2, i_acc=0.9]",
            b"Your Rasa model is trained and saved at 'models/rongjun.tar.gz'.",
        ]
    )
    assert b"Warning" not in out and b"declare_namespace" not in out
    assert b"Epochs:  45%" in out and b"Your Rasa model is trained" in out
