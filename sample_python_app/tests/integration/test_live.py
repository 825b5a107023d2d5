"""The running service answers like the unit tests say it should (uses only the standard library)."""

import json
import urllib.request


def call(url, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        return e.code, None


def test_health(app_url):
    status, body = call(f"{app_url}/health")
    assert status == 200 and body["status"] == "ok"


def test_create_read_delete(app_url):
    status, item = call(f"{app_url}/items", "POST", {"name": "integration", "price": 1.5, "quantity": 2})
    assert status == 201
    assert call(f"{app_url}/items/{item['id']}")[1] == item
    assert call(f"{app_url}/items/{item['id']}", "DELETE")[0] == 204
    assert call(f"{app_url}/items/{item['id']}")[0] == 404


def test_stats(app_url):
    status, stats = call(f"{app_url}/stats")
    assert status == 200 and {"count", "units", "stock_value"} <= set(stats)
