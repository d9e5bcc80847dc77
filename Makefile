# Developer shortcuts. The README's two commands need none of this.
PY ?= .venv/bin/python

.PHONY: dev test lint fixtures demo
dev:
	python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]'
test:
	.venv/bin/pytest -q
lint:
	.venv/bin/ruff check mlsbom tests fixtures && .venv/bin/ruff format --check mlsbom tests && .venv/bin/mypy --strict mlsbom
# Library-based fixtures need torch, scikit-learn, joblib, dill and cloudpickle (a separate venv):
#   python3 -m venv .genvenv && .genvenv/bin/pip install torch==2.13.0 scikit-learn joblib dill cloudpickle lz4 safetensors numpy
fixtures:
	$(PY) fixtures/generate.py
demo:
	.venv/bin/mlsbom scan fixtures/demo
