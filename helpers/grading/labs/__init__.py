"""How each graded lab is checked: one module per lab, the engine work its graded cells ask for.

=====================================  =============================================================
``source/`` assignment                 module holding its checks
=====================================  =============================================================
``lab1-build-basics``                  :mod:`helpers.grading.labs.lab1` (build, ``/health``, tests inside)
``lab2-improve-dockerfile``            :mod:`helpers.grading.labs.lab2` (size, user, cache, ``.dockerignore``)
``lab3-security-scan``                 :mod:`helpers.grading.labs.lab3` (build, scan, health, packages)
``lab4-publish``                       :mod:`helpers.grading.labs.lab4` (build, push, registry contents)
``lab5-automate-builds``               :mod:`helpers.grading.labs.lab5` (verdicts: the workflow file, its pipeline)
``activity-shrink-image``              none: its graded cell builds with :mod:`helpers.layers` directly
=====================================  =============================================================

:mod:`helpers.grading.labs.common` holds what the labs share: whether the notebook is being graded
(:func:`~helpers.grading.labs.common.graded_in_sandbox`, :func:`~helpers.grading.labs.common.grading_engine`),
building and running a student's Dockerfile (:func:`~helpers.grading.labs.common.check_dockerfile`) and the
text-only checklist of Labs 1-2. Each lab's engine checks are trusted queries (:mod:`helpers.grading.queries`):
while graded in the sandbox the grader answers them; elsewhere they run directly. The notebooks import them as
``from helpers.grading.labs import common, lab3``.
"""

from __future__ import annotations

__all__ = ["common", "lab1", "lab2", "lab3", "lab4", "lab5"]
