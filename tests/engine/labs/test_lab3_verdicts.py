"""Lab 3's verdicts on the lab engine: the reference passes all; the starter and wrong answers fail the right cells.

Each case is a lab folder with a ``Dockerfile`` and a ``requirements.txt`` as a student would hand them in,
graded by :func:`helpers.grading.verdicts.compute` (the grader's path, on the lab engine here) with the scan
source fixed to the offline snapshot so that the expected findings do not depend on the day's advisories.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from kitroot import ROOT, TESTS
from labfolder import handed_in

from helpers.grading.facts import GradingSpec, load_spec
from helpers.grading.labs import lab3
from helpers.grading.verdicts import compute

pytestmark = [pytest.mark.engine]

LAB = ROOT / "source" / lab3.LAB3_ASSIGNMENT
REFERENCE = TESTS / "data" / "labs" / lab3.LAB3_ASSIGNMENT / "reference"
FILES = {
    "starter": (LAB / "Dockerfile", LAB / "requirements.txt"),
    "reference": (REFERENCE / "Dockerfile", REFERENCE / "requirements.txt"),
}
ALL = set(lab3.CELLS)

#: Three practitioners' wrong requirements.txt / Dockerfile variants.
UNPINNED = (REFERENCE / "requirements.txt").read_text().replace("==", ">=")
ALPINE = (
    (REFERENCE / "Dockerfile")
    .read_text()
    .replace("ARG BASE_IMAGE=python:3.12-slim\nFROM ${BASE_IMAGE}", "FROM python:3.12-alpine")
)
OLD_COPY = (
    (REFERENCE / "Dockerfile")
    .read_text()
    .replace("COPY requirements.txt .", "COPY requirements-old.txt requirements.txt")
)

#: Other practitioners' right answers. The minimal fix: idna at the first fixed release, full-upgrade for the OS.
MINIMAL_PIN = (REFERENCE / "requirements.txt").read_text().replace("idna==3.20", "idna==3.7")
FULL_UPGRADE = (
    (REFERENCE / "Dockerfile")
    .read_text()
    .replace("apt-get upgrade -y --no-install-recommends;", "DEBIAN_FRONTEND=noninteractive apt-get full-upgrade -y;")
)
#: Only the upgradable packages, named from `apt list --upgradable`; a user; ENTRYPOINT; pip told about PEP 668.
ONLY_UPGRADE = """\
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}
RUN . /etc/os-release \\
 && if ! grep -rqs "${VERSION_CODENAME}-security" /etc/apt/sources.list /etc/apt/sources.list.d; then \\
      mirror=$(sed -n 's#^deb \\(\\S*\\)/debian .*#\\1#p' /etc/apt/sources.list | head -n 1); \\
      echo "deb ${mirror}/debian-security ${VERSION_CODENAME}-security main" > /etc/apt/sources.list.d/sec.list; \\
    fi \\
 && apt-get update \\
 && apt-get install -y --only-upgrade $(apt list --upgradable 2>/dev/null | awk -F/ 'NR > 1 {print $1}') \\
 && rm -rf /var/lib/apt/lists/* \\
 && useradd --system app
WORKDIR /srv
COPY requirements.txt .
RUN pip install --no-cache-dir --break-system-packages -r requirements.txt
COPY app ./app
ENV PORT=8000 DATA_DIR=/tmp/data
USER app
HEALTHCHECK --interval=2s --timeout=2s --retries=10 \\
  CMD python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"
ENTRYPOINT ["python3", "-m", "app"]
"""


def _text(which: str, index: int) -> str:
    return FILES[which][index].read_text()


_IDNA = "idna 3.6 PYSEC-2024-60"
_UNPATCHED = "have a published fix not installed"
#: case -> (Dockerfile text, requirements.txt text, failing cell -> what its verdict must say)
CASES = {
    "reference": (_text("reference", 0), _text("reference", 1), {}),
    "starter": (
        _text("starter", 0),
        _text("starter", 1),
        {"no_findings_at_threshold": _IDNA, "os_packages_patched": _UNPATCHED, "still_healthy": "Remediate first"},
    ),
    "base-only": (_text("reference", 0), _text("starter", 1), {"no_findings_at_threshold": _IDNA}),
    "pins-only": (_text("starter", 0), _text("reference", 1), {"os_packages_patched": _UNPATCHED}),
    "unpinned": (_text("reference", 0), UNPINNED, {"no_findings_at_threshold": "not pinned: annotated-doc>=0.0.7"}),
    "minimal pin, full-upgrade": (FULL_UPGRADE, MINIMAL_PIN, {}),
    "only-upgrade, a user, PEP 668 flag": (ONLY_UPGRADE, _text("reference", 1), {}),
    "alpine-with-apt": (ALPINE, _text("reference", 1), dict.fromkeys(ALL, "did not build")),
    "still-copies-old-pins": (
        OLD_COPY,
        _text("reference", 1),
        {"no_findings_at_threshold": "pins idna==3.20 but the image has 3.6"},
    ),
}


def _spec() -> GradingSpec:
    """The lab's grading.yml with the scan source pinned to the offline snapshot (same findings every day)."""
    spec = load_spec(lab3.LAB3_ASSIGNMENT, root=ROOT)
    graded = dict(spec.graded) | {"scan_source": "snapshot"}
    return GradingSpec(
        spec.assignment, graded=tuple(graded.items()), build_timeout=spec.build_timeout, verdicts=spec.verdicts
    )


def _grade(tmp_path: Path, dockerfile: str | None, requirements: str | None) -> dict:
    folder = handed_in(tmp_path, lab3.LAB3_ASSIGNMENT, {"Dockerfile": dockerfile, "requirements.txt": requirements})
    return compute(lab3.LAB3_ASSIGNMENT, folder, _spec())


def test_grading_yml_lists_every_cell_verdicts_decides():
    """Does grading.yml list exactly the cells verdicts() decides, with the graded threshold at HIGH?"""
    spec = load_spec(lab3.LAB3_ASSIGNMENT, root=ROOT)
    assert set(spec.verdicts) == ALL
    assert lab3.graded_settings(spec) == ("HIGH", "auto")


@pytest.mark.parametrize("case", list(CASES))
def test_each_answer_fails_exactly_the_right_cells(engine, tmp_path, case):
    """Does each submission (reference, starter, practitioners' mistakes) fail exactly the right cells, saying why?"""
    dockerfile, requirements, failing = CASES[case]
    got = _grade(tmp_path, dockerfile, requirements)
    said = {cell: v.said for cell, v in got.items()}
    assert set(got) == ALL
    assert {cell for cell, v in got.items() if not v.passed} == set(failing), said
    assert all(words in said[cell] for cell, words in failing.items()), said
    assert all(said.values())


def test_missing_files_fail_every_cell_without_a_build(engine, tmp_path):
    """Does a folder without requirements.txt fail every cell with a message naming the missing file?"""
    got = _grade(tmp_path, _text("reference", 0), None)
    assert {cell for cell, v in got.items() if not v.passed} == ALL
    assert all("requirements.txt" in v.said for v in got.values())
