# Docker for CI/CD practitioners: course kit.
#   make lab    set everything up and serve the course in JupyterLab
#   make test   set everything up and run the whole test suite
PYTHON ?=
VENV ?= .venv
PY := $(VENV)/bin/python
# nbgrader runs `alembic` and the notebooks run `hadolint`/`dive` from PATH: put the venv first.
export PATH := $(abspath $(VENV))/bin:$(PATH)
export PYTHON VENV

.PHONY: lab test lint setup env index release-sync help timing-reset

help:
	@echo "make lab    - set up (Python env, Docker Engine, base images, registry) and start JupyterLab"
	@echo "make test   - set up, lint, then run unit tests, engine tests and every notebook (two pytest lanes at once)"
	@echo "make lint   - ruff check and ruff format --check (package, tests, bench, scripts, notebooks)"
	@echo "make index  - regenerate notebooks/00-index.ipynb"
	@echo "make release-sync - regenerate release/ from source/ with nbgrader (never edit release/ by hand)"
	@echo "Instructors (docs/INSTRUCTOR.md; A=<lab> limits a step to one lab):"
	@echo "  make release | collect | autograde | feedback | grades | prebuilt"
	@echo "  make roster FILE=students.csv - add/update students (columns id, first_name, last_name, email)"
	@echo "  make import-repos DIR=<folder of clones> [PREFIX=<assignment>-] - students' repositories -> submitted/"
	@echo "  make due [A=<lab> DATE=\"2026-12-15 23:59 Europe/Berlin\"] - set or list due dates (late penalty)"
	@echo "  make student-repo DEST=<empty folder> - the students' copy: labs, lessons, kit; no solutions"
	@echo "  make links HUB=<hub URL> REPO=<students' repo URL> [BRANCH=main] - an nbgitpuller link per notebook"
	@echo "  make hub-image [TAG=docker-cicd-hub:latest] - the JupyterHub single-user image (hub/README.md)"

# `make test` times its set-up steps: `<step> <seconds>` lines in $(TIMING)/phases.tsv (reset first),
# which the pytest plugin tests/timing.py prints beside the tests' phases. Other goals time nothing.
ifneq ($(filter test,$(MAKECMDGOALS)),)
TIMING := $(abspath $(or $(COURSE_STATE_DIR),.course)/timing)
timer_reset = mkdir -p "$(TIMING)" && rm -f "$(TIMING)/phases.tsv"
timer_start = mkdir -p "$(TIMING)" && date +%s.%N > "$(TIMING)/$(1).start"
timer_stop = date +%s.%N | awk -v t0="$$(cat "$(TIMING)/$(1).start")" '{ printf "$(1)\t%.2f\n", $$1 - t0 }' >> "$(TIMING)/phases.tsv"
else
timer_reset = :
timer_start = :
timer_stop = :
endif

timing-reset:
	@$(timer_reset)

setup:
	@$(call timer_start,setup)
	@scripts/bootstrap.sh
	@$(call timer_stop,setup)

env: setup
	@$(call timer_start,env)
	@$(PY) -m helpers env up --vm-tools $(ENV_UP_FLAGS)
	@$(call timer_stop,env)

lab: env
	@$(PY) -m helpers lab

# timing-reset comes first: make builds prerequisites left to right. tests/lanes.py runs pytest twice at once,
# the grading-engine tests in one process and the rest in the other, and prints one merged timing table.
# make test also installs Debian's chromium (tests/engine/kit/test_browser.py) and PostgreSQL (the shards test):
# a variable of the goal `test` reaches its prerequisite `env`; `make lab` installs neither. It also builds the
# Debian 13 stand-in base images (tests/engine/images/test_base_families.py builds every lab's answer on them).
test: ENV_UP_FLAGS = --test-tools --base-family trixie
test: timing-reset lint env
	COURSE_REQUIRE_ENGINE=1 COURSE_TIMING_PHASES="$(TIMING)/phases.tsv" $(PY) tests/lanes.py

lint: setup
	@$(call timer_start,lint)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	@$(call timer_stop,lint)

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
# SHARD=i/N grades only shard i of N (docs/INSTRUCTOR.md, "Grading a big class in shards").
autograde: env
	@$(PY) -m helpers course autograde $(A) $(if $(SHARD),--shard "$(SHARD)")
feedback: setup
	@$(PY) -m helpers course feedback $(A)
grades: setup
	@$(PY) -m helpers course grades
prebuilt: env
	@$(PY) -m helpers course prebuilt

# Class operations (helpers/grading/roster.py, deadlines.py): the roster and due dates, in the gradebook.
.PHONY: roster due import-repos
# Students who push their work (GitHub Classroom, Codespaces): their clones' labs into submitted/ (helpers/grading/repos.py).
import-repos: setup
	@test -n "$(DIR)" || { echo "usage: make import-repos DIR=<folder of student clones> [PREFIX=<assignment>-] [A=<lab>]" >&2; exit 2; }
	@$(PY) -m helpers course import-repos "$(DIR)" $(A) $(if $(PREFIX),--prefix "$(PREFIX)")
roster: setup
	@test -n "$(FILE)" || { echo "usage: make roster FILE=students.csv [DRY=1]" >&2; exit 2; }
	@$(PY) -m helpers course roster "$(FILE)" $(if $(DRY),--dry-run)
due: setup
	@$(PY) -m helpers course due $(if $(A),"$(A)" $(if $(DATE),"$(DATE)"))

# The students' copy of the course (helpers/kit/studentrepo.py): a GitHub template or Classroom starter.
.PHONY: student-repo
student-repo: setup
	@test -n "$(DEST)" || { echo "usage: make student-repo DEST=<new or empty folder outside this checkout>" >&2; exit 2; }
	@$(PY) -m helpers student-repo "$(DEST)"

# nbgitpuller links to the students' copy on a JupyterHub (helpers/kit/hublinks.py), one per notebook.
.PHONY: links
links: setup
	@test -n "$(HUB)" -a -n "$(REPO)" || { echo "usage: make links HUB=<hub URL> REPO=<students' repo URL> [BRANCH=main]" >&2; exit 2; }
	@$(PY) -m helpers links --hub "$(HUB)" --repo "$(REPO)" $(if $(BRANCH),--branch "$(BRANCH)")

# The JupyterHub single-user image (hub/Dockerfile, helpers/kit/hubimage.py), built from the students' copy.
.PHONY: hub-image
hub-image: env
	@$(PY) -m helpers hub-image $(if $(TAG),--tag "$(TAG)")
