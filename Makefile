# Docker for CI/CD practitioners: course kit.
#   make lab    set everything up and serve the course in JupyterLab
#   make test   set everything up and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# nbgrader runs `alembic` and the notebooks run `hadolint`/`dive` from PATH: put the venv first.
export PATH := $(abspath $(VENV))/bin:$(PATH)
export PYTHON VENV

.PHONY: lab test lint setup env index release-sync help

help:
	@echo "make lab    - set up (Python env, Docker Engine, base images, registry) and start JupyterLab"
	@echo "make test   - set up, lint, then run unit tests, engine tests and every notebook"
	@echo "make lint   - ruff check and ruff format --check (package, tests, bench, scripts, notebooks)"
	@echo "make index  - regenerate notebooks/00-index.ipynb"
	@echo "make release-sync - regenerate release/ from source/ with nbgrader (never edit release/ by hand)"
	@echo "Instructors (docs/INSTRUCTOR.md; A=<lab> limits a step to one lab):"
	@echo "  make release | collect | autograde | feedback | grades | prebuilt"

setup:
	@scripts/bootstrap.sh

env: setup
	@$(PY) -m helpers env up --vm-tools

lab: env
	@$(PY) -m helpers lab

test: lint env
	COURSE_REQUIRE_ENGINE=1 $(PY) -m pytest tests

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

index: setup
	@$(PY) -m helpers index

release-sync: setup
	@for a in $$(ls source); do $(PY) -m nbgrader generate_assignment "$$a" --force --log-level=WARN || exit 1; done
	@$(PY) -m helpers index

# Instructor workflow (docs/INSTRUCTOR.md). A=<lab> limits a step to one lab.
.PHONY: release collect autograde feedback grades prebuilt
release: setup
	@$(PY) -m helpers course release $(A)
collect: setup
	@$(PY) -m helpers course collect $(A)
autograde: env
	@$(PY) -m helpers course autograde $(A)
feedback: setup
	@$(PY) -m helpers course feedback $(A)
grades: setup
	@$(PY) -m helpers course grades
prebuilt: env
	@$(PY) -m helpers course prebuilt
