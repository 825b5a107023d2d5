"""Per-question grades: one column per graded cell, read from the gradebook, and the key of those columns.

``make grades`` writes nbgrader's export (one row per student and assignment) with these columns added
(:func:`helpers.grading.course.grades`): a column ``<notebook>:<grade id>`` per graded cell, holding
the cell's score (the manual score when a grader set one in formgrader, else the autograder's, plus
any extra credit), empty for the rows of other assignments and for unsubmitted work. The key file
(``grades-questions.csv``) gives each column's assignment, notebook, cell, maximum and whether the
cell is graded by hand; ``needs_manual_grade`` counts a row's cells still waiting for a grader.
"""

from __future__ import annotations

import json
from typing import Any

from helpers.grading.gradebook import open_gradebook
from helpers.grading.nbgrader_run import CourseDirs, course_dirs

__all__ = ["KEY_COLUMNS", "question_scores", "question_key", "with_questions"]

#: Columns of the key file, one row per question column.
KEY_COLUMNS = ["column", "assignment", "notebook", "grade_id", "max_score", "graded_by"]


def question_scores(dirs: CourseDirs | None = None) -> Any:
    """Every grade of every submission, one row each (long form), in one query of the gradebook.

    Columns: ``assignment``, ``student_id``, ``notebook``, ``grade_id``, ``score``, ``max_score``,
    ``auto_score``, ``manual_score``, ``needs_manual_grade``, ``manual`` (the cell is graded
    by hand: an answer cell that carries points, or a task).
    """
    import pandas as pd
    from nbgrader.api import Assignment, BaseCell, Grade, Notebook, SubmittedAssignment, SubmittedNotebook

    cols = ["assignment", "student_id", "notebook", "grade_id", "score", "max_score", "auto_score"]
    cols += ["manual_score", "needs_manual_grade"]
    with open_gradebook(dirs or course_dirs()) as gb:
        query = (
            gb.db.query(
                Assignment.name,
                SubmittedAssignment.student_id,
                Notebook.name,
                BaseCell.name,
                Grade.score,
                Grade.max_score,
                Grade.auto_score,
                Grade.manual_score,
                Grade.needs_manual_grade,
            )
            .select_from(Grade)
            .join(BaseCell, Grade.cell_id == BaseCell.id)
            .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
            .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
            .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
            .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
        )
        long = pd.DataFrame([tuple(r) for r in query.all()], columns=cols)
        hand = _graded_by_hand(gb)
    long["manual"] = [k in hand for k in zip(long["assignment"], long["notebook"], long["grade_id"], strict=True)]
    return long


def _graded_by_hand(gb: Any) -> set[tuple[str, str, str]]:
    """(assignment, notebook, grade id) of the cells a person grades: graded answer cells and tasks."""
    from nbgrader.api import Assignment, BaseCell, Notebook

    query = (
        gb.db.query(Assignment.name, Notebook.name, BaseCell.name, BaseCell.type)
        .select_from(BaseCell)
        .join(Notebook, BaseCell.notebook_id == Notebook.id)
        .join(Assignment, Notebook.assignment_id == Assignment.id)
    )
    cells = [tuple(r) for r in query.all()]
    answers = {(a, n, c) for a, n, c, t in cells if t == "SolutionCell"}
    return {(a, n, c) for a, n, c, t in cells if t == "TaskCell" or (t == "GradeCell" and (a, n, c) in answers)}


def question_key(long: Any, dirs: CourseDirs | None = None) -> Any:
    """One row per question column (see :data:`KEY_COLUMNS`), in the order of the cells in ``source/``."""
    import pandas as pd

    dirs = dirs or course_dirs()
    key = long.drop_duplicates(["assignment", "notebook", "grade_id"]).copy()
    key["column"] = key["notebook"] + ":" + key["grade_id"]
    key["graded_by"] = key["manual"].map({True: "manual", False: "auto"})
    order = {(a, n): _cell_order(dirs, a, n) for a, n in set(zip(key["assignment"], key["notebook"], strict=True))}
    key["_pos"] = [
        order[(a, n)].get(g, 10**6) for a, n, g in zip(key["assignment"], key["notebook"], key["grade_id"], strict=True)
    ]
    key = key.sort_values(["assignment", "notebook", "_pos", "grade_id"])
    return pd.DataFrame(key[KEY_COLUMNS].to_numpy(), columns=KEY_COLUMNS)


def with_questions(export: Any, dirs: CourseDirs | None = None) -> tuple[Any, Any]:
    """nbgrader's export with a column per question and ``needs_manual_grade`` added, and the key of those columns.

    Rows and existing columns are kept as they are; a question column is empty where its assignment
    is not the row's, or where the student submitted nothing.
    """
    long = question_scores(dirs)
    key = question_key(long, dirs)
    if long.empty:
        return export.assign(needs_manual_grade=0), key
    long = long.assign(column=long["notebook"] + ":" + long["grade_id"])
    wide = long.pivot_table(index=["assignment", "student_id"], columns="column", values="score", aggfunc="first")
    wide = wide.reindex(columns=list(dict.fromkeys(key["column"])))
    pending = long.groupby(["assignment", "student_id"])["needs_manual_grade"].sum().astype(int)
    wide.insert(0, "needs_manual_grade", pending)
    wide.columns.name = None
    merged = export.merge(wide.reset_index(), on=["assignment", "student_id"], how="left")
    merged["needs_manual_grade"] = merged["needs_manual_grade"].fillna(0).astype(int)
    return merged, key


def _cell_order(dirs: CourseDirs, assignment: str, notebook: str) -> dict[str, int]:
    """grade id -> position of the cell in ``source/<assignment>/<notebook>.ipynb`` ({} when unreadable)."""
    path = dirs.root / "source" / assignment / f"{notebook}.ipynb"
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return {}
    ids = [((c.get("metadata") or {}).get("nbgrader") or {}).get("grade_id") for c in cells if isinstance(c, dict)]
    return {g: i for i, g in enumerate(ids) if isinstance(g, str)}
