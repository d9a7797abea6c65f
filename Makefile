# 荣军助手 — `make run` to chat, `make test` to check everything. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
PY        := $(VENV)/bin/python
RASA      := $(VENV)/bin/rasa
STAMP     := $(VENV)/.installed
MODELS    := models
# Everything that changes the trained model; training is skipped when its hash is unchanged.
MODEL_INPUTS = config.yml domain.yml $(shell find nlu_data bot/nlu -type f \( -name '*.yml' -o -name '*.txt' -o -name '*.py' \) 2>/dev/null | sort)
FINGERPRINT = $(MODELS)/.fingerprint
export PYTHONDONTWRITEBYTECODE = 1
export TF_CPP_MIN_LOG_LEVEL = 2
export SQLALCHEMY_SILENCE_UBER_WARNING = 1
# Every Rasa command the project runs (train, test, run) sends no telemetry.
export RASA_TELEMETRY_ENABLED = false
# One passive OpenMP thread per process (the encoder's spinning threads starve everything else on
# 2 cores; bot/run.py OPENMP_ENV says why). Set either variable to override.
export OMP_NUM_THREADS ?= 1
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: help setup rules train run shell test test-python test-stories test-nlu validate browser \
        run-cluster lint migrate purge demo-data bench-nlu bench-booking bench-telegram bench-wechat \
        bench-dialogue bench-load bench-assist lock clean

help:
	@echo "make run       set up, train if needed, start the assistant (Ctrl-C stops it)"
	@echo "make test      set up, train if needed, run every test"
	@echo "make shell     chat in the terminal"
	@echo "make train     train the model if config, domain or data changed"
	@echo "make demo-data load marked demo jobs for trying the console (never shown to veterans)"
	@echo "make bench-nlu | bench-booking | bench-telegram | bench-wechat | bench-dialogue | bench-assist   print figures"

# --- set-up ------------------------------------------------------------------------------
$(STAMP): requirements.txt constraints.txt .ci/find-python
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then \
		echo "Rebuilding $(VENV): it is not Python 3.10"; rm -rf $(VENV); fi
	@if [ ! -x $(PY) ]; then \
		PYTHON310=$$(.ci/find-python) || exit 1; \
		echo "Creating $(VENV) with $$PYTHON310"; \
		"$$PYTHON310" -m venv $(VENV) || exit 1; fi
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade "pip<24"
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	$(PY) -m pip check
	@touch $(STAMP)

setup: $(STAMP)

migrate: $(STAMP)
	$(PY) -m bot.core.migrate

# Deletes conversations idle for more than RJ_RETENTION_DAYS (180) days and clears personal data
# from core records finished that long ago; DAYS=N overrides.
purge: $(STAMP)
	$(PY) -m bot.core.retention $(if $(DAYS),--days $(DAYS))

# Invented 示例 jobs for trying the agent console (marked is_sample; never shown to veterans).
demo-data: $(STAMP)
	$(PY) -m bot.core.demo_data

# --- model -------------------------------------------------------------------------------
# The form digression rules and protected-intent lists, written from bot/dialogue_rules.py.
rules: $(STAMP)
	$(PY) -m bot.dialogue_rules

train: $(STAMP) rules
	@mkdir -p $(MODELS)
	@hash=$$(cat $(MODEL_INPUTS) | sha256sum | cut -d' ' -f1); \
	if [ -f $(FINGERPRINT) ] && [ "$$(cat $(FINGERPRINT))" = "$$hash" ] && ls $(MODELS)/*.tar.gz >/dev/null 2>&1; then \
		echo "Model is up to date ($$(ls -t $(MODELS)/*.tar.gz | head -1))."; \
	else \
		echo "Training (config, domain or data changed) …"; \
		start=$$(date +%s); \
		$(PY) -m bot.train --data nlu_data --domain domain.yml --config config.yml --out $(MODELS) --fixed-model-name rongjun --augmentation 0 --quiet || exit 1; \
		echo "Trained in $$(( $$(date +%s) - start )) s."; \
		echo "$$hash" > $(FINGERPRINT); \
	fi

# --- run ---------------------------------------------------------------------------------
run: train
	@$(PY) -m bot.run serve

shell: train
	$(PY) -m bot.run shell

# N Rasa servers (RJ_RASA_SERVERS, default 2) sharing PostgreSQL, Redis and RabbitMQ (README).
run-cluster: train
	@$(PY) -m bot.cluster serve

# --- tests -------------------------------------------------------------------------------
# Debian's Chromium for the console's browser tests (Playwright's own download is not used).
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi 'wenquanyi\|wqy'; then \
		if [ "$$(id -u)" = 0 ]; then \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei) >/dev/null; \
		else echo "Install Chromium and a CJK font: sudo apt-get install chromium fonts-wqy-microhei"; exit 1; fi; fi

validate: $(STAMP)
	$(PY) -m tests.validate_data

# Lint and formatting (pinned ruff, configuration in pyproject.toml); fails on any finding.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test-python: train browser
	$(PY) -m pytest tests

test-stories: train
	$(RASA) test core --model $(MODELS)/rongjun.tar.gz --stories tests/stories \
		--fail-on-prediction-errors --out results/core

test-nlu: train
	$(RASA) test nlu --model $(MODELS)/rongjun.tar.gz --nlu tests/nlu --out results/nlu
	$(PY) -m tests.nlu.check_accuracy results/nlu/intent_report.json --minimum 0.90

test: lint validate test-python test-stories test-nlu
	@echo "All checks passed."

# --- benchmarks (print numbers) ------------------------------------------------------------
bench-nlu: train
	$(PY) -m tests.benchmarks.bench_nlu

bench-booking: $(STAMP)
	$(PY) -m tests.benchmarks.bench_booking

bench-telegram: train
	$(PY) -m tests.benchmarks.bench_telegram

bench-wechat: $(STAMP)
	$(PY) -m tests.benchmarks.bench_wechat

bench-dialogue: train
	$(PY) -m tests.benchmarks.bench_dialogue

# Load: parse-only vs full-turn throughput, burst, drift, RSS (ARGS=--quick, ARGS=--cluster).
bench-load: train
	$(PY) -m tests.benchmarks.bench_load $(ARGS)

# How often the agent console's top suggestion has the key facts of tests/benchmarks/assist_cases.yml.
bench-assist: train
	$(PY) -m tests.benchmarks.bench_assist

# --- maintenance -------------------------------------------------------------------------
lock: $(STAMP)
	( echo '# Generated by `pip freeze --all` in the project venv (Python 3.10); update with `make lock`.'; \
	  $(PY) -m pip freeze --all | grep -v '^pip==' ) > constraints.txt

clean:
	rm -rf $(MODELS) results test-output .pytest_cache
