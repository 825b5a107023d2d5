"""Unit tests of the HTTP API, on SQLite in a temporary directory."""

import pytest
from app.config import Settings
from app.main import create_app
from fastapi.testclient import TestClient


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path))) as c:
        yield c


def test_health_reports_ok_and_backend(client):
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert r.json()["backend"] == "sqlite"


def test_items_round_trip(client):
    r = client.post("/items", json={"name": "widget", "price": 2.5, "quantity": 4})
    assert r.status_code == 201
    item = r.json()
    assert client.get(f"/items/{item['id']}").json() == item
    assert client.get("/items").json() == [item]
    assert client.delete(f"/items/{item['id']}").status_code == 204
    assert client.get(f"/items/{item['id']}").status_code == 404


def test_invalid_item_is_rejected(client):
    assert client.post("/items", json={"name": "", "price": -1}).status_code == 422


def test_stats_are_computed_from_items(client):
    for name, price, qty in [("a", 1.0, 2), ("b", 3.0, 1), ("c", 5.0, 0)]:
        client.post("/items", json={"name": name, "price": price, "quantity": qty})
    assert client.get("/stats").json() == {
        "count": 3,
        "units": 3,
        "stock_value": 5.0,
        "mean_price": 3.0,
        "median_price": 3.0,
    }


def test_data_survives_a_restart(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path))) as c:
        c.post("/items", json={"name": "kept", "price": 1, "quantity": 1})
    with TestClient(create_app(Settings(data_dir=tmp_path))) as c:
        assert [i["name"] for i in c.get("/items").json()] == ["kept"]


def test_greeting_comes_from_settings(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path, greeting="hi"))) as c:
        assert c.get("/").json()["message"] == "hi"
