"""The exercise judges of lessons 04 and 05, fed ``docker inspect``-shaped dicts (no engine)."""

from __future__ import annotations

import pytest

from helpers.errors import CourseError
from helpers.lessons import exercise_rules as rules
from helpers.lessons.exercises import ExerciseCheck, check_exercise, exercise_cleanup, exercise_names

KIT = {"org.dockercourse.kit": "true"}


def _event(action, nano, signal=None):
    return {"Action": action, "timeNano": nano, "Actor": {"Attributes": {"signal": signal} if signal else {}}}


def test_stop_seconds_from_sigterm_to_die():
    """Is the stop measured from the last SIGTERM to the die after it, and a SIGKILL-only stop not measured?"""
    events = [_event("start", 0), _event("kill", 1_000_000_000, "15"), _event("die", 1_050_000_000)]
    assert rules.stop_seconds(events) == pytest.approx(0.05)
    killed = [_event("start", 0), _event("kill", 5, "9"), _event("die", 6)]
    assert rules.stop_seconds(killed) is None
    slow = [_event("kill", 0, "15"), _event("kill", 10_000_000_000, "9"), _event("die", 10_010_000_000)]
    assert rules.stop_seconds(slow) == pytest.approx(10.01)
    restarted = [_event("kill", 0, "15"), _event("die", 1), _event("start", 2)]
    assert rules.stop_seconds(restarted) == pytest.approx(1e-9)


def _ctr(running=False, code=0, init=True, labels=KIT, **host):
    return {
        "State": {"Running": running, "ExitCode": code},
        "HostConfig": {"Init": init, **host},
        "Config": {"Labels": labels},
    }


def test_judge_init():
    """Does --init plus a quick stop pass, and each wrong way name what is missing?"""
    assert rules.judge_init("c", _ctr(code=143), 0.05).missing == []
    assert rules.judge_init("c", _ctr(code=143), None).missing == []  # events forgotten: the exit code says SIGTERM
    assert "a container named c" in rules.judge_init("c", None, None).missing[0]
    no_init = rules.judge_init("c", _ctr(code=137, init=False), 10.1)
    assert any("--init" in m for m in no_init.missing) and any("137" in m for m in no_init.missing)
    assert any("docker stop c" in m for m in rules.judge_init("c", _ctr(running=True), None).missing)
    assert any("by itself" in m for m in rules.judge_init("c", _ctr(code=0), None).missing)
    assert any("label" in m for m in rules.judge_init("c", _ctr(code=143, labels={}), 0.1).missing)


def _api(networks=("n",), ports=(("127.0.0.1", "32768"),), running=True):
    return {
        "State": {"Running": running},
        "NetworkSettings": {
            "Networks": {n: {} for n in networks},
            "Ports": {"8000/tcp": [{"HostIp": ip, "HostPort": port} for ip, port in ports] or None},
        },
        "Config": {"Labels": KIT},
    }


def test_judge_network():
    """Does the right set-up pass, and the default bridge, 0.0.0.0 and no answer each show up as missing?"""
    net = {"Driver": "bridge", "Labels": KIT}
    ok = rules.judge_network("n", net, "a", _api(), "HTTP 200")
    assert ok.missing == [] and "HTTP 200" in ok.saw
    wrong = rules.judge_network("n", net, "a", _api(networks=("bridge",), ports=(("0.0.0.0", "1"), ("::", "1"))), None)
    text = " ".join(wrong.missing)
    assert "--network n" in text and "127.0.0.1 only" in text
    silent = rules.judge_network("n", net, "a", _api(), None)
    assert any("http://a:8000/" in m for m in silent.missing)
    assert any("published" in m for m in rules.judge_network("n", net, "a", _api(ports=()), "HTTP 200").missing)
    assert any("network named n" in m for m in rules.judge_network("n", None, "a", None, None).missing)


def test_judge_logs():
    """Are both rotation options and both streams required, and a driver `docker logs` cannot read refused?"""
    attrs = {"HostConfig": {"LogConfig": {"Type": "json-file", "Config": {"max-size": "1m", "max-file": "3"}}}}
    attrs["Config"] = {"Labels": KIT}
    assert rules.judge_logs("l", attrs, 1, 1).missing == []
    bare = {"HostConfig": {"LogConfig": {"Type": "none", "Config": {}}}, "Config": {"Labels": KIT}}
    text = " ".join(rules.judge_logs("l", bare, 1, 0).missing)
    assert "max-size" in text and "max-file" in text and "stderr" in text and "not none" in text


@pytest.mark.parametrize(
    "history,ran",
    [
        (["/bin/sh -c python3 -m unittest -v test_app"], True),  # legacy builder
        (["RUN /bin/sh -c pytest -q # buildkit"], True),  # BuildKit
        (["COPY pytest.ini . # buildkit", '/bin/sh -c #(nop)  CMD ["pytest"]'], False),  # nothing ran
        (['CMD ["python3", "-m", "unittest"]'], False),
    ],
)
def test_ran_tests(history, ran):
    """Does only a RUN step that runs pytest or unittest count as tests run during the build?"""
    assert rules._ran_tests(history) is ran


def test_judge_test_stage():
    """Does the right pair pass, and a release built FROM test in shell form as root name all three mistakes?"""
    test = ({"Config": {"Labels": KIT}}, ["/bin/sh -c python3 -m unittest"])
    release = ({"Config": {"Labels": KIT, "Cmd": ["python3", "app.py"], "User": "10001"}}, ["COPY app.py ."])
    assert rules.judge_test_stage("t", test, "r", release).missing == []
    bad = ({"Config": {"Labels": KIT, "Cmd": ["/bin/sh", "-c", "python3 app.py"], "User": ""}}, test[1])
    text = " ".join(rules.judge_test_stage("t", None, "r", bad).missing)
    for phrase in ("built as t", "FROM base", "exec-form", "non-root USER"):
        assert phrase in text


def test_judge_locked():
    """Does the locked-down container pass, and seccomp=unconfined or a stopped service fail?"""
    host = {"CapDrop": ["all"], "SecurityOpt": ["no-new-privileges:true"], "ReadonlyRootfs": True}
    locked = _ctr(running=True, **host)
    locked["Config"]["User"] = "10001:10001"
    assert rules.judge_locked("x", locked, "CapEff: 0").missing == []
    locked["HostConfig"]["SecurityOpt"] = ["no-new-privileges", "seccomp=unconfined"]
    assert any("seccomp" in m for m in rules.judge_locked("x", locked, None).missing)
    stopped = _ctr(running=False, code=1)
    text = " ".join(rules.judge_locked("x", stopped, None).missing)
    for phrase in ("--cap-drop ALL", "no-new-privileges", "--read-only", "--user", "still running"):
        assert phrase in text


def test_check_line_and_names():
    """Is a result one line, and are the names fixed unless a test gives a prefix?"""
    assert str(ExerciseCheck("ex04-init", "PASS", "saw it")) == "PASS ex04-init: saw it"
    line = str(ExerciseCheck("ex04-init", "NOT YET", "x", ["a", "b"]))
    assert line == "NOT YET ex04-init: saw x; missing: a; b" and "\n" not in line
    assert exercise_names("ex04-net") == {"containers": ["ex04-api"], "networks": ["ex04-net"], "images": []}
    assert exercise_names("ex05-test-stage", "t1-ex05")["images"] == ["t1-ex05-app:test", "t1-ex05-app:latest"]
    with pytest.raises(CourseError):
        exercise_names("ex09-nothing")


def test_without_engine_one_line(monkeypatch):
    """With no engine, do the check and the clean-up say "needs an engine" instead of raising?"""
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent-course-engine.sock")
    r = check_exercise("ex04-init")
    assert r.status == "needs an engine" and "needs an engine" in str(r)
    assert exercise_cleanup("05") == ["needs an engine: nothing to clean up here"]
