"""Severity: CVSS v3 base scores and the ratings taken from OSV records."""

import pytest

from helpers.supplychain.severity import SEVERITIES, cvss3_score, severity_of


@pytest.mark.parametrize(
    "vector,score",
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:L/A:N", 3.3),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
    ],
)
def test_cvss3_scores_match_the_specification(vector, score):
    """Does the base score match FIRST's calculator for well-known vectors?"""
    assert cvss3_score(vector) == score


def test_severity_falls_back_to_database_specific_then_unknown():
    """Is a record without CVSS rated from database_specific, and UNKNOWN without either?"""
    assert severity_of({"database_specific": {"severity": "MODERATE"}}) == "MEDIUM"
    assert severity_of({}) == "UNKNOWN"


def test_cvss_vector_rates_the_record():
    """Does a CVSS v3 vector in an OSV record win over database_specific, and is a non-v3 vector refused?"""
    record = {
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "database_specific": {"severity": "LOW"},
    }
    assert severity_of(record) == "CRITICAL"
    assert SEVERITIES.index("CRITICAL") > SEVERITIES.index("UNKNOWN")
    with pytest.raises(ValueError):
        cvss3_score("CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P")
