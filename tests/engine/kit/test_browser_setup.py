"""`make test` installs the browser the browser test drives: Debian's chromium, or a Chromium/Chrome already there."""

from __future__ import annotations

from helpers.engine import env


def test_find_chromium_prefers_course_chromium_then_path(monkeypatch, tmp_path):
    """COURSE_CHROMIUM wins; else the first known browser name on PATH; else None."""
    monkeypatch.delenv("COURSE_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert env.find_chromium() is None
    chrome = tmp_path / "google-chrome"
    chrome.write_text("#!/bin/sh\n")
    chrome.chmod(0o755)
    assert env.find_chromium() == str(chrome)
    monkeypatch.setenv("COURSE_CHROMIUM", "/opt/other/chrome")
    assert env.find_chromium() == "/opt/other/chrome"


def test_install_browser_uses_apt_on_debian_only(monkeypatch):
    """As root on Debian with no browser: apt-get install chromium; on Ubuntu (a snap, no deb) it only says so."""
    calls, lines = [], []
    monkeypatch.setattr(env, "find_chromium", lambda: None)
    monkeypatch.setattr(env, "is_root", lambda: True)
    monkeypatch.setattr(env, "apt_install", lambda pkgs, log: calls.append(pkgs))
    monkeypatch.setattr(env, "_is_debian", lambda: True)
    env._install_browser(lines.append)
    assert calls == [["chromium"]] and not lines
    monkeypatch.setattr(env, "_is_debian", lambda: False)
    env._install_browser(lines.append)
    assert calls == [["chromium"]] and "COURSE_CHROMIUM" in lines[0]
    monkeypatch.setattr(env, "find_chromium", lambda: "/usr/bin/chromium")
    env._install_browser(lines.append)
    assert calls == [["chromium"]] and len(lines) == 1
