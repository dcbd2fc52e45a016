# Two commands do all the set-up: `make check` (the student self-check) and `make test`.
# Both create .venv from requirements.txt when it is missing, and refresh it when
# requirements.txt changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed

.PHONY: check test stubs lessons clean

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

# `make check F=clip_by_norm` checks one function.
check: $(STAMP)
	$(PY) -m autograder check exercises $(if $(F),--function $(F))

test: $(STAMP)
	$(PY) -m pytest

stubs: $(STAMP)
	$(PY) -m autograder stubs

# Re-render lessons/rendered/*.html with the reference's outputs (commit them; a test fails
# when they are stale). `python lessons/render.py` renders your exercises/ into build/lessons/.
lessons: $(STAMP)
	$(PY) lessons/render.py --reference

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
