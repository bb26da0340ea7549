# Common entry points. Every target bootstraps first (fast when nothing changed).
.PHONY: run test lint bench screenshots bootstrap

PYTEST_ARGS ?=
LINT_PATHS ?= webapp tests scripts bench gunicorn.conf.py wsgi.py

bootstrap:
	bash scripts/bootstrap.sh

run:
	bash scripts/bootstrap.sh
	bash scripts/run-local.sh

# The lint steps first (a finding fails the run, in CI too: .ci/run is `make test`), then the suite.
test: lint
	.venv/bin/python -m pytest -q -n 2 $(PYTEST_ARGS)

# ruff (lint and format check), mypy (configured in pyproject.toml), the import rules
# (tests/test_import_rules.py: no upward import, no face importing a face, no cycle between contexts) and the
# translation catalogs (complete, in step with the code: scripts/translations.py check);
# bootstraps the test set (requirements-dev.txt pins ruff, mypy and the typing stubs).
lint:
	bash scripts/bootstrap.sh --test
	.venv/bin/ruff check $(LINT_PATHS)
	.venv/bin/ruff format --check $(LINT_PATHS)
	.venv/bin/mypy
	.venv/bin/python -m pytest -q -n 0 -p no:cacheprovider tests/test_import_rules.py
	.venv/bin/python scripts/translations.py check

bench:
	bash scripts/bootstrap.sh --bench
	.venv/bin/python bench/run.py

screenshots:
	bash scripts/bootstrap.sh --test
	.venv/bin/python scripts/screenshots.py
