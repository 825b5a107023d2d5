"""How each graded lab is checked: one module per lab, the engine work its graded cells ask for.

=====================================  =============================================================
``source/`` assignment                 module holding its checks
=====================================  =============================================================
``lab1-build-basics``                  :mod:`helpers.grading.labs.lab1` (verdicts: build, ``/health``, tests)
``lab2-improve-dockerfile``            :mod:`helpers.grading.labs.lab2` (size, user, cache, ``.dockerignore``)
``lab3-security-scan``                 :mod:`helpers.grading.labs.lab3` (build, scan, health, packages)
``lab4-publish``                       :mod:`helpers.grading.labs.lab4` (build, push, registry contents)
``lab5-automate-builds``               :mod:`helpers.grading.labs.lab5` (verdicts: the workflow file, its pipeline)
``activity-shrink-image``              :mod:`helpers.grading.labs.shrink` (verdicts: build, dive's CI rules)
=====================================  =============================================================

:mod:`helpers.grading.labs.common` holds what the labs share: building and running a student's Dockerfile
(:func:`~helpers.grading.labs.common.check_dockerfile`), tags unique to a submission on the grader, and the
text-only checklist of Labs 1-2. Each lab module defines ``verdicts(sub)``: the grader decides the cells its
``grading.yml`` lists under ``verdicts:`` from the submitted files (:mod:`helpers.grading.verdicts`); the
notebook's test cells run the same function as the student's self-check. The notebooks import them as
``from helpers.grading.labs import common, lab2``.
"""

from __future__ import annotations

__all__ = ["common", "lab1", "lab2", "lab3", "lab4", "lab5", "shrink"]
