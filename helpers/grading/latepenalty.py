"""The course's late-submission rule: a share of a notebook's points per day late, never more than its score.

nbgrader's ``autograde`` runs :class:`nbgrader.preprocessors.AssignLatePenalties` after the scores are
saved (also in the kit's sandboxed autograde, see ``SANDBOX_PREPROCESSORS`` in
:mod:`helpers.grading.course`); that preprocessor asks its plugin for each notebook's penalty.
``nbgrader_config.py`` names this module's plugin::

    c.AssignLatePenalties.plugin_class = "helpers.grading.latepenalty.DailyLatePenalty"
    c.DailyLatePenalty.percent_per_day = 10

How late a submission is comes from nbgrader: the submission's ``timestamp.txt`` against the
assignment's due date in the gradebook (``make due``, :mod:`helpers.grading.deadlines`). No due date,
no penalty.
"""

from __future__ import annotations

import math
from typing import Any

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float

__all__ = ["DAY", "late_penalty", "days_late", "DailyLatePenalty"]

#: Seconds in a day of lateness.
DAY = 86_400.0


def days_late(seconds_late: float, grace_minutes: float = 0.0) -> int:
    """Days late, a started day counting as one (0 when on time or within the grace period)."""
    if seconds_late <= grace_minutes * 60:
        return 0
    return math.ceil(seconds_late / DAY)


def late_penalty(
    score: float, max_score: float, seconds_late: float, percent_per_day: float = 10.0, grace_minutes: float = 0.0
) -> float:
    """Points taken off one notebook: ``percent_per_day`` of its maximum per started day late, at most its score.

    Example: 10 % per day, a notebook of 20 points scored 15, submitted 26 hours late (2 started days):
    the penalty is 4 points (score 11). Five days late: 10 points. Ten days late: 15, all of the score.
    """
    if score <= 0:
        return 0.0
    penalty = max_score * percent_per_day / 100.0 * days_late(seconds_late, grace_minutes)
    return float(min(score, max(0.0, penalty)))


class DailyLatePenalty(LateSubmissionPlugin):
    """nbgrader late-submission plugin: :func:`late_penalty` with the percentage set in ``nbgrader_config.py``."""

    percent_per_day = Float(10.0, help="Share of a notebook's maximum score taken off per started day late.").tag(
        config=True
    )
    grace_minutes = Float(0.0, help="Minutes after the due date that are not yet late.").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float:
        """The penalty of the notebook nbgrader is grading for ``student_id`` (its maximum read from the gradebook)."""
        penalty = late_penalty(
            score, self._max_score(score), total_seconds_late, self.percent_per_day, self.grace_minutes
        )
        self.log.info(
            "%s: %d day(s) late, penalty %.2f of %.2f points (%.0f%% of the notebook's maximum per day)",
            student_id,
            days_late(total_seconds_late, self.grace_minutes),
            penalty,
            score,
            self.percent_per_day,
        )
        return penalty

    def _max_score(self, score: float) -> float:
        """The notebook's maximum score, from the gradebook nbgrader's preprocessor holds open (else the score)."""
        parent: Any = self.parent
        try:
            return float(parent.gradebook.find_notebook(parent.notebook_id, parent.assignment_id).max_score)
        except Exception as e:  # noqa: BLE001  (run outside AssignLatePenalties: fall back to the score itself)
            self.log.warning(
                "late penalty: no maximum score (%s); taking %s%% of the score per day", e, self.percent_per_day
            )
            return float(score)
