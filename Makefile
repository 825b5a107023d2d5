# Docker for CI/CD practitioners: course kit.
#   make lab    set everything up and serve the course in JupyterLab
#   make test   set everything up and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export PYTHON VENV

.PHONY: lab test setup env index release-sync help

help:
	@echo "make lab    - set up (Python env, Docker Engine, base images, registry) and start JupyterLab"
	@echo "make test   - set up, then run unit tests, engine tests and every notebook"
	@echo "make index  - regenerate notebooks/00-index.ipynb"
	@echo "make release-sync - regenerate release/ from source/ with nbgrader (never edit release/ by hand)"

setup:
	@scripts/bootstrap.sh

env: setup
	@$(PY) -m helpers env up --vm-tools

lab: env
	@$(PY) -m helpers lab

test: env
	COURSE_REQUIRE_ENGINE=1 $(PY) -m pytest tests

index: setup
	@$(PY) -m helpers index

release-sync: setup
	@for a in $$(ls source); do $(PY) -m nbgrader generate_assignment "$$a" --force --log-level=WARN || exit 1; done
	@$(PY) -m helpers index
