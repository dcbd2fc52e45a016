# Two commands do all the set-up: `make check` (the student self-check) and `make test`.
# Both create .venv from requirements.txt when it is missing, and refresh it when
# requirements.txt changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed

.PHONY: check test stubs clean

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

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
