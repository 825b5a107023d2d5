"""What a container shares and owns, parsed without an engine."""

from __future__ import annotations

from helpers.lessons import isolation

NS_LISTING = """total 0
lrwxrwxrwx 1 root root 0 Nov 28 21:20 cgroup -> cgroup:[4026531835]
lrwxrwxrwx 1 root root 0 Nov 28 21:20 pid -> pid:[4026532183]
lrwxrwxrwx 1 root root 0 Nov 28 21:20 pid_for_children -> pid:[4026532183]
lrwxrwxrwx 1 root root 0 Nov 28 21:20 uts -> uts:[4026532181]
"""


def test_parse_namespaces_skips_for_children():
    """Are namespace inodes read, and the *_for_children duplicates left out?"""
    assert isolation.parse_namespaces(NS_LISTING) == {"cgroup": 4026531835, "pid": 4026532183, "uts": 4026532181}


def test_sections_split_probe_output():
    """Is the probe's output split into its named sections?"""
    out = isolation._sections("== uname\n6.1.0\n== pids\n4\n")
    assert out == {"uname": "6.1.0", "pids": "4"}


def test_namespace_table_marks_shared():
    """Does the namespace table say which namespaces the container shares with the notebook?"""
    r = isolation.KernelReport("k", "k", "k", container_ns={"pid": 2, "user": 7}, host_ns={"pid": 1, "user": 7})
    t = isolation.namespace_table(r)
    assert dict(zip(t.namespace, t.shared)) == {"pid": False, "user": True}
    assert r.same_kernel
