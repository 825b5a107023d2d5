"""Tracing the SDK's API calls, without an engine."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.lessons import tracing


@pytest.mark.parametrize(
    "url,path",
    [
        ("http+docker://localhost/v1.41/containers/create?name=x", "/containers/create"),
        ("http+docker://localhost/v1.41/containers/" + "a" * 64 + "/start", "/containers/aaaaaaaaaaaa/start"),
        ("http://127.0.0.1:2375/_ping", "/_ping"),
    ],
)
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
