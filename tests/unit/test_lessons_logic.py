"""Pure logic of the lesson helpers (no engine): parsers, tables and summaries."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import basecompare, caching, hygiene, isolation, lessons, tracing

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


@pytest.mark.parametrize("url,path", [
    ("http+docker://localhost/v1.41/containers/create?name=x", "/containers/create"),
    ("http+docker://localhost/v1.41/containers/" + "a" * 64 + "/start", "/containers/aaaaaaaaaaaa/start"),
    ("http://127.0.0.1:2375/_ping", "/_ping"),
])
def test_trace_path(url, path):
    """Are traced URLs shortened to the API path (no host, version, query or long ids)?"""
    assert tracing._path(url) == path


def test_trace_hook_records_calls():
    """Does trace_api record requests made while the block runs, and stop afterwards?"""
    class Req:
        method, url = "GET", "http+docker://localhost/v1.41/info"

    class Resp:
        request, status_code = Req(), 200
        elapsed = pd.Timedelta(milliseconds=3).to_pytimedelta()

    class Api:
        hooks: dict = {"response": []}

    class Client:
        api = Api()

    c = Client()
    with tracing.trace_api(c) as calls:
        for hook in c.api.hooks["response"]:
            hook(Resp())
    assert [str(x) for x in calls] == ["GET /info"]
    assert c.api.hooks["response"] == []
    assert tracing.calls_frame(calls).loc[0, "ms"] == pytest.approx(3.0)


@pytest.mark.parametrize("created,instr", [
    ("", "(base filesystem, imported)"),
    ("/bin/sh -c #(nop)  CMD [\"python3\"]", 'CMD ["python3"]'),
    ("RUN /bin/sh -c pip install -r requirements.txt # buildkit", "RUN pip install -r requirements.txt"),
    ("|1 BASE_IMAGE=x /bin/sh -c make", "RUN make"),
    ("COPY app.py . # buildkit", "COPY app.py ."),
])
def test_history_instruction(created, instr):
    """Is a history entry's CreatedBy turned back into its Dockerfile instruction?"""
    assert caching._instruction(created) == instr


def test_dockerfiles_differ_only_in_order():
    """Do the two caching Dockerfiles copy the code at different points?"""
    good, bad = caching.DOCKERFILES["deps-first"], caching.DOCKERFILES["code-first"]
    assert good.index("COPY requirements.txt") < good.index("RUN pip install") < good.index("COPY app.py")
    assert bad.index("COPY . .") < bad.index("RUN pip install")


@pytest.mark.parametrize("log,line", [
    ("x\n  Error: pg_config executable not found.\n\nerror: subprocess-exited-with-error\n", "pg_config executable not found."),
    ("psycopg/psycopgmodule.c:28:10: fatal error: Python.h: No such file or directory\nERROR: x",
     "Python.h: No such file or directory"),
    ("nothing known here\nlast line", "last line"),
])
def test_telling_line(log, line):
    """Is the line that explains a failed compiled build picked out of its log?"""
    assert line in basecompare._telling_line(log)


def test_context_bytes():
    """Is the build context size read from BuildKit's log (largest transfer wins)?"""
    log = "#1 transferring context: 2B done\n#5 transferring context: 20.97MB 0.3s done\n"
    assert basecompare._context_bytes(log) == pytest.approx(20.97e6)
    assert basecompare._context_bytes("") == 0.0


def test_pinned_requirements(tmp_path):
    """Are unpinned and range-pinned requirements reported as not pinned?"""
    req = tmp_path / "requirements.txt"
    req.write_text("# comment\nfastapi==0.1.0\nuvicorn>=0.2\nrequests\n-r other.txt\npydantic[email]==2.0  # note\n")
    df = basecompare.pinned_requirements(req)
    assert dict(zip(df.requirement, df.pinned)) == {"fastapi==0.1.0": True, "uvicorn>=0.2": False,
                                                    "requests": False, "pydantic[email]==2.0": True}


class FakeDfClient:
    def df(self):
        return {
            "LayersSize": 1000,
            "Images": [{"Size": 600, "SharedSize": 100, "Containers": 1}, {"Size": 400, "SharedSize": 0, "Containers": 0}],
            "Containers": [{"State": "running", "SizeRw": 5}, {"State": "exited", "SizeRw": 7}],
            "Volumes": [{"UsageData": {"Size": 50, "RefCount": 1}}, {"UsageData": {"Size": 20, "RefCount": 0}}],
            "BuildCache": [{"Size": 30, "InUse": True, "Shared": False}, {"Size": 40, "InUse": False, "Shared": False},
                           {"Size": 99, "InUse": False, "Shared": True}],
        }


def test_system_df_arithmetic(monkeypatch):
    """Does system_df apply the CLI's arithmetic (active, size, reclaimable) to /system/df?"""
    df = hygiene.system_df(FakeDfClient()).set_index("type")
    assert df.loc["Images", "total"] == 2 and df.loc["Images", "active"] == 1
    assert df.loc["Images", "reclaimable_mb"] == round(500 / 1e6, 1)
    assert df.loc["Containers", "active"] == 1
    assert df.loc["Local Volumes", "active"] == 1
    assert df.loc["Build Cache", "active"] == 1


def test_prune_summary_counts_foreign_resources():
    """Does the summary count what each cleanup would remove that the kit did not create?"""
    preview = pd.DataFrame([
        {"kind": "image", "name": "course-base/python", "kit": False, "prune": False, "prune -a --volumes": True,
         "kit cleanup": False},
        {"kind": "container", "name": "job", "kit": True, "prune": True, "prune -a --volumes": True, "kit cleanup": True},
    ])
    s = hygiene.prune_summary(preview).set_index("cleanup")
    assert s.loc["prune -a --volumes", "would remove"] == 2
    assert s.loc["prune -a --volumes", "of which not the kit's"] == 1
    assert s.loc["kit cleanup", "of which not the kit's"] == 0


def test_status_line_without_engine(monkeypatch):
    """Does a lesson say in one line that no engine answers, instead of failing?"""
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    line = lessons.engine_status_line()
    assert line.startswith("No Docker Engine answers") and "\n" not in line
