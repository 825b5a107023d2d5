"""Due dates: each assignment's deadline in nbgrader's gradebook, where autograde reads it for late penalties.

``make due A=<lab> DATE="2026-12-15 23:59 Europe/Berlin"`` sets one (``DATE=none`` clears it);
``make due`` lists them. A date always names its time zone: a deadline read in the wrong zone would
make every student hours early or late. The penalty rule itself is in :mod:`helpers.grading.latepenalty`;
:func:`reapply_late_penalties` applies it again once graders have added manual scores.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from helpers.errors import CourseError
from helpers.grading.gradebook import open_gradebook
from helpers.grading.nbgrader_run import CourseDirs, assignments, course_dirs

__all__ = ["parse_due", "set_due", "due_dates", "reapply_late_penalties"]

_HINT = (
    'Give a date, a time and a zone: "2026-12-15 23:59 Europe/Berlin", "2026-12-15 23:59 UTC" '
    'or "2026-12-15T23:59-05:00" (DATE=none clears the due date).'
)


def parse_due(text: str) -> datetime:
    """A due date with its zone, as nbgrader stores it (UTC, without tzinfo).

    Accepts ``YYYY-MM-DD HH:MM[:SS] <IANA zone or UTC>`` or ISO 8601 with an offset.

    Raises:
        CourseError: Not a date, an unknown zone, or no zone at all.
    """
    import dateutil.parser
    import dateutil.tz

    parts = text.strip().split()
    try:
        if len(parts) == 3:
            zone = dateutil.tz.UTC if parts[2].upper() in ("UTC", "Z") else dateutil.tz.gettz(parts[2])
            if zone is None:
                raise CourseError(f"Unknown time zone {parts[2]!r} in the due date {text!r}.", _HINT)
            when = dateutil.parser.isoparse(f"{parts[0]}T{parts[1]}").replace(tzinfo=zone)
        else:
            when = dateutil.parser.isoparse(text.strip().replace(" ", "T", 1))
    except (ValueError, OverflowError) as e:
        raise CourseError(f"{text!r} is not a due date ({e}).", _HINT) from e
    if when.tzinfo is None or when.utcoffset() is None:
        raise CourseError(f"The due date {text!r} has no time zone.", _HINT)
    return when.astimezone(UTC).replace(tzinfo=None)


def set_due(assignment: str, when: str | None, dirs: CourseDirs | None = None) -> datetime | None:
    """Set (or with ``None``/``"none"`` clear) one assignment's due date in the gradebook.

    The assignment must be in ``source/``; it is added to the gradebook if ``make release`` has not
    run yet (release keeps the date). Autograde applies the penalty; ``make grades`` applies it again
    with the current dates (:func:`reapply_late_penalties`), so graded submissions follow a changed date.

    Returns:
        The due date stored (UTC), or ``None`` when cleared.

    Raises:
        CourseError: Unknown assignment or a date :func:`parse_due` refuses.
    """
    dirs = dirs or course_dirs()
    if assignment not in assignments(dirs):
        known = ", ".join(assignments(dirs)) or "none"
        raise CourseError(f"No assignment {assignment!r} in source/ (there: {known}).", "Use A=<folder of source/>.")
    due = None if when is None or when.strip().lower() == "none" else parse_due(when)
    with open_gradebook(dirs) as gb:
        gb.update_or_create_assignment(assignment, duedate=due)
    return due


def due_dates(dirs: CourseDirs | None = None) -> Any:
    """Every assignment of ``source/`` with its due date (UTC), submissions graded and how many were late."""
    import pandas as pd

    dirs = dirs or course_dirs()
    rows = {a: {"assignment": a, "due_utc": None, "submissions": 0, "late": 0} for a in assignments(dirs)}
    with open_gradebook(dirs) as gb:
        for a in gb.assignments:
            if a.name in rows:
                subs = a.submissions
                late = sum(1 for s in subs if s.total_seconds_late > 0)
                rows[a.name].update(due_utc=a.duedate, submissions=len(subs), late=late)
    return pd.DataFrame(list(rows.values()), columns=["assignment", "due_utc", "submissions", "late"])


def reapply_late_penalties(dirs: CourseDirs | None = None) -> int:
    """Recompute every submitted notebook's late penalty from its current score, with nbgrader's own
    ``AssignLatePenalties`` and the plugin ``nbgrader_config.py`` names. Returns how many changed.

    nbgrader applies the penalty during autograde, capped at the notebook's score at that time: points a
    grader adds later in formgrader (free-text answers) would escape it, and a due date changed since would
    not count. ``make grades`` calls this first, so the export follows the rule on the final scores.
    """
    from nbgrader.api import SubmittedAssignment
    from nbgrader.preprocessors import AssignLatePenalties

    dirs = dirs or course_dirs()
    try:
        pre = AssignLatePenalties(config=_nbgrader_config(dirs))
        pre.init_plugin()
    except Exception as e:  # a typo in the config: say where, not a traceback
        raise CourseError(
            f"The late-penalty plugin of nbgrader_config.py cannot be loaded ({type(e).__name__}: {e}).",
            "Fix `c.AssignLatePenalties.plugin_class` (and its settings) in nbgrader_config.py.",
        ) from e
    changed = 0
    with open_gradebook(dirs) as gb:
        pre.gradebook = gb  # what AssignLatePenalties.preprocess sets before it asks its plugin
        for sub in gb.db.query(SubmittedAssignment).all():
            seconds = sub.total_seconds_late
            for nb in sub.notebooks:
                pre.notebook_id, pre.assignment_id, pre.student_id = nb.name, sub.name, sub.student_id
                penalty = (
                    pre.plugin_inst.late_submission_penalty(sub.student_id, nb.score, seconds) if seconds else None
                )
                penalty = None if penalty is None else pre._check_late_penalty(nb, penalty)
                if penalty != nb.late_submission_penalty:
                    nb.late_submission_penalty, changed = penalty, changed + 1
        gb.db.commit()
    return changed


def _nbgrader_config(dirs: CourseDirs) -> Any:
    """The course's ``nbgrader_config.py``, loaded as nbgrader loads it (empty when there is none)."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    if not (dirs.root / "nbgrader_config.py").is_file():
        return Config()
    return PyFileConfigLoader("nbgrader_config.py", path=str(dirs.root)).load_config()
