"""`python -m helpers course STEP`: the instructor's workflow, one command per step."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from helpers.grading import course, deadlines, gradebook, nbgrader_run, repos, roster, shards
from helpers.grading.plots import plot_score_distribution
from helpers.kit.prebuilt import export_images

HELP = {
    "roster": "add or update the students of a roster CSV (id, first_name, last_name, email) in the gradebook",
    "due": "set an assignment's due date (late penalties: nbgrader_config.py), or list the due dates",
    "release": "generate every lab from source/ and release it to the exchange",
    "collect": "collect submissions (resubmissions replace older ones) and check each",
    "import-repos": "import the labs of students' own repositories (Classroom clones) into submitted/",
    "autograde": "autograde every collected submission in the grading sandbox, in parallel",
    "feedback": "generate feedback (hidden tests stay hidden) and release it to students",
    "grades": "export grades to CSV and plot the score distribution per lab",
    "prebuilt": "export the course images as archives into prebuilt/ (students without Docker)",
}

#: where the work is done (shown by ``python -m helpers --help``)
LIBRARY = "helpers.grading: course.py runs nbgrader's steps; labs/labN.py hold each lab's checks"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "course",
        help="instructor workflow: release, collect, autograde, feedback, grades",
        description="The instructor's workflow over nbgrader (see docs/INSTRUCTOR.md).",
    )
    sub = p.add_subparsers(dest="step", metavar="STEP", required=True)
    for step, text in HELP.items():
        s = sub.add_parser(step, help=text, description=text)
        if step in ("release", "collect", "autograde", "feedback"):
            s.add_argument("assignment", nargs="*", help="assignments (default: every folder in source/)")
        if step == "autograde":
            s.add_argument("--student", action="append", help="only this student (repeatable)")
            s.add_argument("--workers", type=int, help="students graded at once (default: CPU cores)")
            s.add_argument(
                "--shard",
                metavar="i/N",
                help="only the students of shard i of N (a hash of the id; run 1/N..N/N on N machines "
                "sharing one PostgreSQL gradebook, COURSE_GRADEBOOK_URL; overlaps and reruns are safe)",
            )
        if step == "collect":
            s.add_argument(
                "--check-owner",
                action=argparse.BooleanOptionalAction,
                default=None,
                help="check that each submission belongs to the OS account of its student "
                "(default: wherever such an account exists)",
            )
        if step == "roster":
            s.add_argument(
                "file", help="CSV with a header row: id, and optionally first_name, last_name, email, lms_user_id"
            )
            s.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")
        if step == "import-repos":
            s.add_argument("folder", help="a folder holding one git clone per student (gh classroom clone ...)")
            s.add_argument("assignment", nargs="*", help="labs (default: every folder in source/)")
            s.add_argument("--prefix", default="", help="strip this from each clone's folder name to get the id")
        if step == "due":
            s.add_argument("assignment", nargs="?", help="assignment (a folder of source/); none: list every due date")
            s.add_argument(
                "date", nargs="?", help='"2026-12-15 23:59 Europe/Berlin" (a zone is required); none clears it'
            )
        if step == "grades":
            s.add_argument("--csv", default=None, help="CSV path (default: grades.csv at the course root)")
            s.add_argument("--plot", default=None, help="PNG path (default: grades.png next to the CSV)")
        if step == "prebuilt":
            s.add_argument(
                "images",
                nargs="*",
                help="catalog names (helpers.kit.prebuilt.CATALOG) or image references "
                "(default: the whole catalog and every image labelled org.dockercourse.prebuilt=true)",
            )
            s.add_argument("--dest", default=None, help="folder (default: prebuilt/ at the course root)")
    p.set_defaults(func=run)


def _show(df: Any) -> bool:
    print(df.to_string(index=False) if len(df) else "(nothing to do)")
    return bool(len(df) == 0 or df["ok"].all())


def _classops(args: argparse.Namespace, dirs: nbgrader_run.CourseDirs) -> int:
    """The roster and due-date steps (they write the gradebook directly, no nbgrader app)."""
    if args.step == "roster":
        df = roster.import_roster(args.file, dirs, dry_run=args.dry_run)
        print(df.fillna("").to_string(index=False) if len(df) else "(no students in the file)")
        if df.attrs.get("ignored"):
            print("ignored columns:", ", ".join(df.attrs["ignored"]))
        counts = ", ".join(f"{n} {a}" for a, n in df["action"].value_counts().items()) or "nothing to do"
        print(counts + (" (dry run: nothing written)" if args.dry_run else ""))
        return 0
    if args.assignment:
        if args.date is None:
            print('usage: make due A=<lab> DATE="2026-12-15 23:59 Europe/Berlin"   (DATE=none clears)', file=sys.stderr)
            return 2
        due = deadlines.set_due(args.assignment, args.date, dirs)
        print(f"{args.assignment}: due {due:%Y-%m-%d %H:%M} UTC" if due else f"{args.assignment}: no due date")
    print(deadlines.due_dates(dirs).to_string(index=False))
    return 0


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    if args.step == "prebuilt":
        manifest = export_images(
            args.images or None, dest=args.dest, on_image=lambda n: print("exporting", n, flush=True)
        )
        for item in manifest.images:
            print(f"{item.ref:55} {item.bytes / 1e6:8.1f} MB  {item.archive}")
        print(f"manifest: {manifest.path}")
        return 0
    dirs = nbgrader_run.course_dirs()
    if args.step in ("roster", "due"):
        return _classops(args, dirs)
    if args.step == "import-repos":
        ok = _show(repos.import_repos(args.folder, args.assignment or None, args.prefix, dirs))
        return 0 if ok else 1
    if args.step == "grades":
        import matplotlib

        matplotlib.use("Agg")

        df = course.grades(args.csv, dirs)
        csv = Path(args.csv or dirs.root / "grades.csv")
        png = Path(args.plot or csv.with_suffix(".png"))
        ax = plot_score_distribution(df)
        ax.figure.savefig(png, dpi=110, bbox_inches="tight")
        print(df.groupby("assignment")["score"].describe().to_string())
        print(f"grades: {csv}\nper question: {course.questions_csv(csv)}\nplot:   {png}")
        return 0
    names = args.assignment or nbgrader_run.assignments(dirs)
    if args.step == "autograde" and args.shard:
        shard = shards.parse_shard(args.shard)  # a bad SHARD stops here, before any grading
        print(f"shard {shard}: gradebook {gradebook.masked_url(gradebook.gradebook_url(dirs))}", flush=True)
    ok = True
    if args.step == "release":
        ok = _show(course.release(names, dirs))
    for name in names if args.step != "release" else []:
        if args.step == "collect":
            ok &= _show(course.collect(name, dirs, check_owner=args.check_owner))
        elif args.step == "autograde":
            ok &= _show(course.autograde(name, args.student, dirs, workers=args.workers, shard=args.shard))
        elif args.step == "feedback":
            ok &= _show(course.feedback(name, dirs))
    if not ok:
        print("Some steps failed (see the message column); the others completed.", file=sys.stderr)
    return 0 if ok else 1
