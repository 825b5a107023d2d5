"""Advisory records: range matching, the offline snapshot, malformed files, the OSV API."""

import datetime as dt
import json

import pytest

from helpers.errors import AdvisoryError
from helpers.supplychain.advisories import AdvisoryDB, load_snapshot, parse_record


def _rec(eco="PyPI", name="idna", events=({"introduced": "0"}, {"fixed": "3.7"}), **kw):
    return parse_record(
        {
            "id": "TEST-1",
            "affected": [
                {"package": {"ecosystem": eco, "name": name}, "ranges": [{"type": "ECOSYSTEM", "events": list(events)}]}
            ],
            **kw,
        }
    )


def test_range_match_with_fixed_version():
    """Is 3.6 affected and 3.7 not, with 3.7 reported as the fix?"""
    adv = _rec()
    assert adv.match("PyPI", "idna", "3.6") == (True, "3.7")
    assert adv.match("PyPI", "idna", "3.7")[0] is False
    assert adv.match("PyPI", "IDNA", "3.6")[0] is True  # PyPI names are case-insensitive


def test_introduced_and_last_affected():
    """Are versions before 'introduced' and after 'last_affected' left alone?"""
    adv = _rec(events=({"introduced": "1.2"}, {"last_affected": "1.4"}))
    assert [adv.match("PyPI", "idna", v)[0] for v in ("1.1", "1.2", "1.4", "1.5")] == [False, True, True, False]


def test_debian_release_must_match():
    """Does a Debian:11 record stay silent for a Debian:12 image, and use dpkg ordering for Debian:12?"""
    adv = _rec("Debian:11", "pam", ({"introduced": "0"}, {"fixed": "1.5.2-6+deb12u3"}))
    assert adv.match("Debian:12", "pam", "1.5.2-6+deb12u2")[0] is False
    adv12 = _rec("Debian:12", "pam", ({"introduced": "0"}, {"fixed": "1.5.2-6+deb12u3"}))
    assert adv12.match("Debian:12", "pam", "1.5.2-6+deb12u2") == (True, "1.5.2-6+deb12u3")
    assert adv12.match("Debian:12", "pam", "1.5.2-6+deb12u10")[0] is False


def test_malformed_records_raise_one_clear_error():
    """Is a record without id or affected rejected with a message naming the file?"""
    with pytest.raises(AdvisoryError, match="bad.json"):
        parse_record({"affected": []}, "bad.json")
    with pytest.raises(AdvisoryError, match="affected"):
        parse_record({"id": "X-1", "affected": "nope"}, "x.json")


def test_malformed_snapshot_file(tmp_path):
    """Does a broken JSON file in a snapshot folder fail with its name and what to do?"""
    (tmp_path / "SNAPSHOT.json").write_text(json.dumps({"taken": "2026-01-02"}))
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(AdvisoryError, match="broken.json") as e:
        load_snapshot(tmp_path)
    assert "->" in str(e.value)


def test_missing_snapshot(tmp_path):
    """Is a folder without SNAPSHOT.json refused?"""
    with pytest.raises(AdvisoryError, match="SNAPSHOT.json"):
        load_snapshot(tmp_path)


def test_shipped_snapshot_is_real_and_dated():
    """Does every shipped record carry its source id, and does the snapshot know its date and age?"""
    db = load_snapshot()
    assert db.taken is not None and db.age_days(db.taken + dt.timedelta(days=3)) == 3
    ids = {a.id for a in db.advisories}
    assert {"PYSEC-2024-60", "PYSEC-2024-38", "DEBIAN-CVE-2024-22365"} <= ids
    assert all(a.source for a in db.advisories)
    assert all(a.id.startswith(("PYSEC-", "DEBIAN-")) for a in db.advisories)


def test_shipped_snapshot_finds_idna_36():
    """Does the snapshot flag idna 3.6 as HIGH with 3.7 as the fix, and not idna 3.20?"""
    db = load_snapshot()
    hits = db.lookup("PyPI", "idna", "3.6")
    assert [(a.id, a.severity, fixed) for a, fixed in hits] == [("PYSEC-2024-60", "HIGH", "3.7")]
    assert db.lookup("PyPI", "idna", "3.20") == []


def test_empty_db_age_is_none():
    """Has live data (no snapshot date) no age?"""
    assert AdvisoryDB([], None).age_days() is None


class _Resp:
    def __init__(self, data, status=200):
        self._data, self.status_code = data, status

    def json(self):
        return self._data

    def raise_for_status(self):
        if self.status_code >= 400:
            import requests

            raise requests.HTTPError(f"HTTP {self.status_code}")


def test_osv_api_query_with_a_fake_service(monkeypatch):
    """Does the OSV API path send one batch query and fetch each full record it names?"""
    import requests

    from helpers.supplychain.advisories import osv_api_query

    sent = {}

    def post(url, json=None, timeout=None):
        sent["queries"] = json["queries"]
        return _Resp({"results": [{"vulns": [{"id": "PYSEC-2024-60"}]}, {}]})

    def get(url, timeout=None):
        assert url.endswith("/PYSEC-2024-60")
        return _Resp(
            {
                "id": "PYSEC-2024-60",
                "affected": [
                    {
                        "package": {"ecosystem": "PyPI", "name": "idna"},
                        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.7"}]}],
                    }
                ],
            }
        )

    monkeypatch.setattr(requests, "post", post)
    monkeypatch.setattr(requests, "get", get)
    db = osv_api_query([("PyPI", "idna", "3.6"), ("Debian:12", "pam", "1.5.2-6+deb12u2")])
    assert sent["queries"][0] == {"package": {"ecosystem": "PyPI", "name": "idna"}, "version": "3.6"}
    assert [a.id for a, _ in db.lookup("PyPI", "idna", "3.6")] == ["PYSEC-2024-60"]
    assert db.taken is None and "live" in db.description


def test_osv_api_unreachable(monkeypatch):
    """Is an unreachable OSV API one AdvisoryError that points to the offline snapshot?"""
    import requests

    from helpers.supplychain.advisories import osv_api_query, osv_api_reachable

    def boom(*a, **k):
        raise requests.ConnectionError("no route")

    monkeypatch.setattr(requests, "post", boom)
    assert osv_api_reachable(timeout=0.1) is False
    with pytest.raises(AdvisoryError, match="OSV API") as e:
        osv_api_query([("PyPI", "idna", "3.6")])
    assert "snapshot" in e.value.hint
