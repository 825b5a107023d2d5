"""The JupyterHub single-user image (hub/Dockerfile) builds here and is what the instructor's guide says it is.

Built once for the module from a fresh students' copy (``helpers.kit.hubimage.build_hub_image``, on the slim
course base), labelled and removed afterwards. Checked inside: a non-root user, the notebooks in place, the kit
importable, nbgrader's Assignments panel on and its formgrader and Create Assignment off (as the listing
commands show them, and in a running server), nbgitpuller loaded, the hub's nbgrader settings, and the docker CLI
reaching the engine at the DOCKER_HOST it is given. Build time here (2 cores, 2026-12-01): about 2 minutes
without BuildKit's cache (116 s measured: the package step 84 s beside Debian's docker CLI package 27 s), seconds
with it.
"""

from __future__ import annotations

import os
import re
import time
import uuid

import pytest

from helpers.engine.client import kit_labels
from helpers.kit.hubimage import build_hub_image

pytestmark = [pytest.mark.engine, pytest.mark.slow]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def hub_image(engine):
    tag = f"course-hub-test:{uuid.uuid4().hex[:10]}"
    started = time.monotonic()
    build_hub_image(tag, labels=kit_labels("test"), client=engine)
    print(f"hub image built in {time.monotonic() - started:.0f} s")
    yield tag
    for c in engine.containers.list(all=True, filters={"ancestor": tag}):
        c.remove(force=True)
    engine.images.remove(tag, force=True)


def _run(engine, image: str, script: str, **kwargs) -> str:
    out = engine.containers.run(image, ["sh", "-c", script], remove=True, stderr=True, **kwargs)
    return _ANSI.sub("", out.decode())


def test_the_user_the_notebooks_and_the_kit(engine, hub_image):
    out = _run(
        engine,
        hub_image,
        "id -u; echo role=$COURSE_ROLE; ls /home/jovyan/course/notebooks/00-index.ipynb /home/jovyan/course/release; "
        "python -c 'import helpers, helpers.grading.exchange; print(helpers.__file__)'; "
        "test -w /home/jovyan/course/notebooks && echo home-writable; "
        "test -e /opt/course/source || echo no-source; cat /etc/jupyter/nbgrader_config.py",
    )
    lines = out.splitlines()
    assert lines[0] != "0" and int(lines[0]) == 1000, out  # not root: uid 1000, as on Zero to JupyterHub
    assert "role=student" in out and "/home/jovyan/course/notebooks/00-index.ipynb" in out
    assert "lab1-build-basics" in out and "/opt/course/helpers/__init__.py" in out
    assert "home-writable" in out and "no-source" in out  # the students' copy: no solutions folder
    assert "PersonalInboundSubmit" in out and "/srv/nbgrader/exchange" in out


def test_extension_listings_show_the_student_role(engine, hub_image):
    """Do `jupyter server extension list` and `jupyter labextension list` show assignment list on, the rest off?"""
    out = _run(engine, hub_image, "jupyter server extension list; echo ===; jupyter labextension list")
    server, lab = out.split("===")
    assert re.search(r"nbgrader\.server_extensions\.assignment_list\s+enabled", server), server
    assert re.search(r"nbgrader\.server_extensions\.formgrader\s+disabled", server), server
    assert not re.search(r"nbgrader\.server_extensions\.formgrader\s+enabled", server), server
    assert re.search(r"nbgitpuller\s+enabled", server), server
    assert re.search(r"@jupyter/nbgrader v\S+ enabled", lab), lab
    disabled = lab.split("Disabled extensions:", 1)[1]
    assert "@jupyter/nbgrader:formgrader" in disabled and "@jupyter/nbgrader:create-assignment" in disabled
    assert "assignment-list" not in disabled


def test_a_running_server_has_assignments_and_no_formgrader(engine, hub_image):
    """In a running server: the assignment list and nbgitpuller answer, the formgrader is not there (404)."""
    c = engine.containers.run(
        hub_image,
        ["jupyter", "lab", "--ip=127.0.0.1", "--port=8888", "--ServerApp.token=t", "--no-browser"],
        detach=True,
        labels=kit_labels("test"),
    )
    try:
        probe = (
            "import time, urllib.request, urllib.error\n"
            "for _ in range(60):\n"
            "    try:\n"
            "        urllib.request.urlopen('http://127.0.0.1:8888/api/status?token=t'); break\n"
            "    except Exception: time.sleep(1)\n"
            "for p in ('/formgrader', '/assignments', '/git-pull'):\n"
            "    try: print(p, urllib.request.urlopen('http://127.0.0.1:8888' + p + '?token=t').status)\n"
            "    except urllib.error.HTTPError as e: print(p, e.code)\n"
        )
        code, out = c.exec_run(["python", "-c", probe])
        codes = dict(line.split() for line in out.decode().splitlines())
        assert code == 0 and codes["/formgrader"] == "404", out
        assert codes["/assignments"] != "404" and codes["/git-pull"] != "404", out
    finally:
        c.remove(force=True)


def test_the_docker_cli_uses_the_hosts_engine_given_by_docker_host(engine, hub_image):
    """No engine inside: does the docker CLI reach the engine at the DOCKER_HOST the hub would set?"""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    assert host.startswith("unix://"), f"this test mounts the engine's socket; DOCKER_HOST={host}"
    sock = host.removeprefix("unix://")
    out = _run(
        engine,
        hub_image,
        "docker version --format '{{.Server.Version}}'",
        environment={"DOCKER_HOST": "unix:///run/hub/docker.sock"},
        volumes={sock: {"bind": "/run/hub/docker.sock", "mode": "rw"}},
        group_add=[str(os.stat(sock).st_gid)],
    )
    assert out.strip() == engine.version()["Version"], out
