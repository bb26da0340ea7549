# Common entry points. Every target bootstraps first (fast when nothing changed).
.PHONY: run test bench bootstrap

PYTEST_ARGS ?=

bootstrap:
	bash scripts/bootstrap.sh

run:
	bash scripts/bootstrap.sh
	bash scripts/run-local.sh

test:
	bash scripts/bootstrap.sh --test
	.venv/bin/python -m pytest -q -n 2 $(PYTEST_ARGS)

bench:
	bash scripts/bootstrap.sh --bench
	.venv/bin/python bench/run.py
