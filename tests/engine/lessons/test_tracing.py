"""Does the tracing lesson record the SDK's API calls and push/pull through a real registry?"""

from __future__ import annotations

import pytest
from ci_rules import unavailable

from helpers.engine.client import engine_available
from helpers.lessons import tracing

pytestmark = pytest.mark.engine


def test_container_run_is_traced(engine):
    """Does one container's life show up as create, start, wait, logs and delete calls?"""
    out, calls = tracing.traced_container_run(command="echo traced", client=engine)
    assert out == "traced"
    seen = [str(c) for c in calls]
    assert seen[0] == "POST /containers/create"
    for verb in ("/start", "/wait", "/logs"):
        assert any(s.endswith(verb) for s in seen), verb
    assert seen[-1].startswith("DELETE /containers/")
    assert engine.api.hooks.get("response") == []


def test_push_and_pull(engine):
    """Does a push reach the local registry, a second push skip the layer, and a pull bring it back?"""
    from helpers.engine.registry import local_registry, registry_status

    status = registry_status()
    if not (status["running"] and status["login_ok"]):
        unavailable("The local registry does not answer; run `python -m helpers env up`.")
    reg = local_registry()
    rep = tracing.push_pull_demo(reg.address, reg.username, reg.password, client=engine)
    assert rep.digest.startswith("sha256:")
    assert rep.first_push_status.get("Pushed") == 1
    assert rep.repush_status.get("Layer already exists") == 1
    paths = [str(c) for c in rep.calls]
    assert any(p.startswith("POST /images/") and p.endswith("/push") for p in paths)
    assert "POST /images/create" in paths
    assert not engine.images.list(name=rep.reference.rsplit(":", 1)[0])
    assert rep.deleted, "the pushed manifest should be deleted from the registry afterwards"
    assert engine_available(engine)


def test_wrong_password_is_refused(engine):
    """Does a wrong password end in RegistryAuthError or RegistryError, not a raw docker exception?"""
    from helpers.engine.registry import local_registry, registry_status
    from helpers.errors import RegistryError

    if not registry_status()["running"]:
        unavailable("The local registry does not answer; run `python -m helpers env up`.")
    reg = local_registry()
    with pytest.raises(RegistryError):
        tracing.push_pull_demo(reg.address, reg.username, "wrong-password", client=engine)
