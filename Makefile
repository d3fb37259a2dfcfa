# Thin aliases; dev.py does the work (Python >= 3.12, .venv, install). See README.md.
.PHONY: run test lint migrations-check ci

run:  ## set up and run with demo data at http://127.0.0.1:8000/
	python3 dev.py run

test:  ## run the test suite (pass pytest options as ARGS="-k name -x")
	python3 dev.py test $(ARGS)

lint:
	python3 dev.py setup
	.venv/bin/ruff check .

migrations-check:  ## fail if a model change has no migration
	python3 dev.py setup
	.venv/bin/python manage.py makemigrations --check --dry-run

ci:  ## what CI runs (installs Debian packages: needs root)
	bash .ci/run
