"""Trusted queries without an engine: keys, JSON round trips, request parsing, replay in the sandbox."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from kitroot import ROOT

from helpers.errors import CourseError, HealthTimeout
from helpers.grading import queries
from helpers.grading.facts import load_spec
from helpers.grading.labs.common import ImageReport
from helpers.grading.queries import GradingPending, GradingRefused, parse_requests, query_key
from helpers.grading.session import TrustedSession
from helpers.images.inspect import ImageFacts, Layer


def test_key_is_canonical_and_depends_on_every_argument():
    """Is the answer key stable for equal arguments and different for any changed one?"""
    assert query_key("lab1_report", ["FROM x"]) == query_key("lab1_report", ["FROM x"])
    assert query_key("lab1_report", ["FROM x"]) != query_key("lab1_report", ["FROM y"])
    assert query_key("lab1_report", ["a"]) != query_key("lab2_report", ["a"])
    assert query_key("q", [["a", "b"]]) != query_key("q", [["b", "a"]])


def test_results_survive_json_with_their_types():
    """Does a report with nested dataclasses, tuples and properties come back equal from JSON?"""
    rep = ImageReport(
        "t", True, facts=ImageFacts("r", "i", 3, [Layer("RUN x", 1)], cmd=["python"]), exec_results={"uid": (0, "1000")}
    )
    back = queries.decode(json.loads(json.dumps(queries.encode(rep))))
    assert back == rep
    assert back.exec_results["uid"] == (0, "1000") and back.facts.exec_form
    assert queries.decode(queries.encode({1: "a", "__x": 2})) == {1: "a", "__x": 2}


def test_decode_rebuilds_only_kit_dataclasses():
    """Is an answer naming a class outside helpers refused instead of imported?"""
    with pytest.raises(CourseError, match="not a kit module"):
        queries.decode({"__dataclass__": "os:system", "fields": {}})


def test_encode_refuses_objects_that_are_not_data():
    """Does a query returning a live object (not data) fail loudly on the grader?"""
    with pytest.raises(TypeError):
        queries.encode(object())


def test_requests_are_parsed_as_data_with_limits():
    """Are unknown names, non-JSON lines, long strings, objects and duplicates refused or dropped?"""
    lines = [
        {"name": "lab1_report", "args": ["FROM x"]},
        {"name": "lab1_report", "args": ["FROM x"]},
        {"name": "os.system", "args": ["rm -rf /"]},
        {"name": "lab1_report", "args": ["x" * 70000]},
        {"name": "lab1_report", "args": [{"__dataclass__": "os:system"}]},
        {"name": 3, "args": []},
    ]
    raw = "\n".join(json.dumps(x) for x in lines) + "\nnot json\n"
    accepted, refused = parse_requests(raw.encode())
    assert accepted == [("lab1_report", ["FROM x"])]
    text = " ".join(refused)
    assert len(refused) == 5 and "'os.system' is not a trusted query" in text and "70000 characters" in text
    assert "dict, not data" in text
    assert parse_requests(b"x" * (queries.MAX_REQUEST_BYTES + 1))[1][0].startswith("the requests file is")
    many = "\n".join(json.dumps({"name": "lab1_report", "args": [str(i)]}) for i in range(40)).encode()
    accepted, refused = parse_requests(many)
    assert len(accepted) == queries.MAX_REQUESTS and "beyond the first" in refused[0]


@queries.trusted_query("test_double", arity=1)
def _double(x: int) -> int:
    if x < 0:
        raise HealthTimeout("negative", hint="use a positive number")
    return 2 * x


@dataclass
class _Calls:
    n: int = 0


def test_query_runs_directly_outside_the_sandbox(monkeypatch):
    """Does a trusted query just run when no facts are set (a student with an engine)?"""
    monkeypatch.delenv("GRADING_FACTS", raising=False)
    assert _double(4) == 8


def test_replay_asks_then_answers_then_reraises(tmp_path, monkeypatch):
    """In the sandbox: is a missing answer requested and pending, a given one returned, an error re-raised?"""
    facts, requests = tmp_path / "facts.json", tmp_path / "requests.jsonl"
    facts.write_text(json.dumps({"queries": {}}))
    monkeypatch.setenv("GRADING_FACTS", str(facts))
    monkeypatch.setenv("GRADING_REQUESTS", str(requests))
    monkeypatch.delenv("GRADING_FINAL_ROUND", raising=False)
    with pytest.raises(GradingPending, match="next round"):
        _double(4)
    with pytest.raises(GradingRefused, match="takes 1 to 1 arguments"):
        _double(4, 5)
    accepted, _ = parse_requests(requests.read_bytes())
    session = TrustedSession(("test_double",))
    accepted.append(("test_double", [-1]))
    assert session.run(accepted) == 2 and session.run(accepted) == 0  # answered once
    facts.write_text(json.dumps({"queries": session.answers}))
    assert _double(4) == 8
    with pytest.raises(HealthTimeout, match="negative"):
        _double(-1)
    monkeypatch.setenv("GRADING_FINAL_ROUND", "1")
    with pytest.raises(GradingPending, match="did not answer"):
        _double(5)


def test_session_refuses_queries_the_lab_does_not_list_and_foreign_images():
    """Is a registered query the lab does not allow answered with GradingRefused, and another image refused?"""
    session = TrustedSession(("lab1_report",))
    session.run([("test_double", [2])])
    (answer,) = session.answers.values()
    assert answer["ok"] is False and answer["error"]["type"] == "GradingRefused"
    assert "not a check of this lab" in answer["error"]["message"]
    assert session.tag("lab1-sample-api:graded").startswith("lab1-sample-api:graded-g")
    assert session.owns("lab1-sample-api:graded") == session.tag("lab1-sample-api:graded")
    with pytest.raises(GradingRefused, match="not built for this submission"):
        session.owns("lab2-sample-api:graded")


def test_session_cleanups_run_once(monkeypatch):
    """Do the cleanups registered by queries run when the session closes, each once, even if one fails?"""
    calls = _Calls()
    session = TrustedSession(())
    session.on_close(lambda: setattr(calls, "n", calls.n + 1))
    session.on_close(lambda: 1 / 0)
    session.close()
    session.close()
    assert calls.n == 1


def test_every_lab_grading_yml_lists_registered_queries():
    """Does each lab's grading.yml load (its queries registered, prefetch among them)?"""
    from helpers.grading import facts as grading
    from helpers.paths import course_root

    for lab in (
        "lab1-build-basics",
        "lab2-improve-dockerfile",
        "lab3-security-scan",
        "lab4-publish",
        "lab5-automate-builds",
    ):
        spec = grading.load_spec(lab, root=course_root())
        if not spec.queries:  # graded by the grader's verdicts from the submitted files (no trusted queries)
            assert spec.verdicts and not spec.prefetch, lab
            continue
        assert set(spec.prefetch) <= set(spec.queries) and 2 <= spec.rounds <= 3


def test_a_submission_that_keeps_asking_runs_out_of_budget():
    """Once a submission has used its query budget, are its further queries refused, not run?"""
    session = TrustedSession(("test_double",), max_queries=3)
    session.run([("test_double", [i]) for i in range(5)])
    oks = [a["ok"] for a in session.answers.values()]
    assert oks == [True, True, True, False, False]
    assert "budget" in list(session.answers.values())[-1]["error"]["message"]


def test_each_lab_asks_only_for_queries_of_its_own_module():
    """Is every query in a lab's grading.yml registered, and defined in its module (helpers.grading.labs.labN)?"""
    found = queries.registered()
    for n, lab in enumerate(sorted(p.name for p in (ROOT / "source").glob("lab*") if p.is_dir()), start=1):
        spec = load_spec(lab, root=ROOT)
        assert spec.queries or spec.verdicts, lab
        for name in spec.queries:
            assert name in found, (lab, name)
            assert found[name].__module__ == f"helpers.grading.labs.lab{n}", (lab, name, found[name].__module__)
