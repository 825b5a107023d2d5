"""The grading engine's pure logic: where its processes point, its firewall rules, when it cannot run."""

from __future__ import annotations

import os
import subprocess

from helpers.grading import engine as ge
from helpers.grading import engine_env
from helpers.grading import engine_network as gn


def test_using_the_grading_engine_points_the_kit_there_and_restores_after(monkeypatch):
    """Inside the block, the engine, registry port and state dir are the grading engine's; after it, yours."""
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setenv("COURSE_STATE_DIR", "/tmp/mine")
    engine = engine_env.GradingEngine("unix:///run/course-grading-x/docker.sock", "/tmp/grading", 5055)
    monkeypatch.setenv(engine_env.GRADING_ENV, engine_env.grading_engine_env(engine)[engine_env.GRADING_ENV])
    from helpers.engine.registry import local_registry

    with engine_env.using_grading_engine() as used:
        assert used == engine
        assert os.environ["DOCKER_HOST"] == engine.docker_host
        assert local_registry().address == "127.0.0.1:5055"
    assert "DOCKER_HOST" not in os.environ and os.environ["COURSE_STATE_DIR"] == "/tmp/mine"
    monkeypatch.delenv(engine_env.GRADING_ENV)
    with engine_env.using_grading_engine() as used:
        assert used is None and "DOCKER_HOST" not in os.environ


def test_no_grading_engine_where_the_kit_does_not_run_the_lab_engine(monkeypatch):
    """With DOCKER_HOST set (Codespaces, Docker Desktop), grading says it shares the lab engine."""
    monkeypatch.setenv("DOCKER_HOST", "tcp://somewhere:2375")
    assert "DOCKER_HOST" in ge.unavailable_reason()
    lines = []
    assert ge.ensure_grading_engine(log=lines.append) is None
    assert "grading uses the lab engine" in lines[0]


def test_firewall_rules_go_on_top_in_order_and_are_removed_by_their_comment(monkeypatch):
    """Are the rules inserted so that the listed order is the order on top of the chain, each tagged?"""
    calls = []

    def fake_run(cmd, check=True):
        calls.append(cmd)
        failing = cmd[:2] == ["ip", "link"] and cmd[2] == "show"
        listing = ""
        if cmd[0] == "iptables" and cmd[-1] == "-S" and cmd[2] == "filter":
            listing = (
                "-A FORWARD -j DOCKER-USER\n"
                f"-A FORWARD -s 10.213.0.0/16 -m comment --comment {gn.RULE_COMMENT} -j ACCEPT\n"
            )
        return subprocess.CompletedProcess(cmd, 1 if failing else 0, listing, "")

    monkeypatch.setattr(gn, "_run", fake_run)
    monkeypatch.setattr(gn.Path, "write_text", lambda self, text: None)
    gn.network_up()
    inserts = [c for c in calls if c[0] == "iptables" and "-I" in c]
    assert len(inserts) == len(gn._RULES)
    assert all(c[-2:] == ["--comment", gn.RULE_COMMENT] for c in inserts)
    forward = [c[c.index("1") + 1 : -4] for c in inserts if "FORWARD" in c]
    # inserted at position 1 one after another: the last inserted ends up on top
    assert list(reversed(forward)) == [r for _, chain, r in gn._RULES if chain == "FORWARD"]
    top = [r for _, chain, r in gn._RULES if chain == "INPUT"]
    assert "RELATED,ESTABLISHED" in top[0] and top[-1][-2:] == ["-j", "DROP"]
    assert any(c[:3] == ["ip", "link", "add"] for c in calls)
    deleted = [c for c in calls if c[0] == "iptables" and "-D" in c]
    assert deleted == [
        [
            "iptables",
            "-t",
            "filter",
            "-D",
            "FORWARD",
            "-s",
            "10.213.0.0/16",
            "-m",
            "comment",
            "--comment",
            gn.RULE_COMMENT,
            "-j",
            "ACCEPT",
        ]
    ]  # an older rule of ours; DOCKER-USER kept


def test_another_checkouts_grading_engine_is_a_clear_error(tmp_path, monkeypatch):
    """Two checkouts cannot share the grading bridge and port: the second says which one to stop."""
    import pytest

    from helpers.errors import SetupError

    other_state = tmp_path / "other" / ".course" / "grading"
    other_state.mkdir(parents=True)
    (other_state / "dockerd.pid").write_text(str(os.getpid()))  # a live process
    run = tmp_path / "run"
    (run / "course-grading-other").mkdir(parents=True)
    (run / "course-grading-other" / "owner").write_text(f"{other_state}\n")
    monkeypatch.setattr(ge, "RUN_BASE", run)
    with pytest.raises(SetupError, match="Another checkout's grading engine"):
        ge._refuse_another_checkouts_engine()


def test_no_private_or_link_local_address_is_reachable_on_80_or_443():
    """Are private, CGNAT, link-local (cloud metadata) and loopback ranges dropped before HTTP/HTTPS is let out,
    while the grading networks still reach each other?"""
    forward = [r for _, chain, r in gn._RULES if chain == "FORWARD"]
    web = next(i for i, r in enumerate(forward) if "80,443" in r)
    within = forward.index(["-s", gn.GRADING_SUBNET, "-d", gn.GRADING_SUBNET, "-j", "ACCEPT"])
    for net in ("10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"):
        drop = forward.index(["-s", gn.GRADING_SUBNET, "-d", net, "-j", "DROP"])
        assert drop < web, net
        if net == "10.0.0.0/8":
            assert within < drop  # the grading subnet is inside 10/8: its own traffic is accepted first
