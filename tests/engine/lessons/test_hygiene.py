"""Does the disk-hygiene lesson agree with `docker system df` and remove only what the kit made?"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from ci_rules import unavailable

from helpers.engine.client import cleanup
from helpers.lessons import hygiene

pytestmark = pytest.mark.engine


def test_system_df_matches_the_cli(engine):
    """Do the totals and active counts match what `docker system df` prints?"""
    if not shutil.which("docker"):
        unavailable("the docker CLI is not installed")
    ours = hygiene.system_df(engine).set_index("type")
    out = subprocess.run(
        ["docker", "system", "df", "--format", "{{json .}}"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    cli = {row["Type"]: row for row in map(json.loads, out.splitlines())}
    for kind in ("Images", "Local Volumes"):
        # counts can move if another job creates something between the two calls; allow a little slack
        assert abs(int(cli[kind]["TotalCount"]) - int(ours.loc[kind, "total"])) <= 2, kind
    assert abs(int(cli["Images"]["Active"]) - int(ours.loc["Images", "active"])) <= 2


def test_preview_and_kit_cleanup(engine):
    """Does the preview mark our leftovers for the kit cleanup, and does that cleanup remove exactly them?"""
    left = hygiene.make_leftovers(client=engine)
    try:
        preview = hygiene.prune_preview(engine, session=left.session)
        mine = preview[preview.name.isin([left.container, left.volume, left.network])]
        assert len(mine) == 3 and mine["kit cleanup"].all() and mine.kit.all()
        assert preview["kit cleanup"].sum() == 3  # nothing of other sessions
        row = mine.set_index("name")
        assert row.loc[left.container, "prune"] and not row.loc[left.volume, "prune"]
        assert row.loc[left.volume, "prune -a --volumes"]
        base = preview[preview.name.str.startswith("course-base/")]
        assert (~base.kit).all() and not base["kit cleanup"].any()
        report = cleanup(engine, session=left.session)
        assert sorted(report.containers + report.volumes + report.networks) == sorted(
            [left.container, left.volume, left.network]
        )
    finally:
        cleanup(engine, session=left.session)
    after = hygiene.prune_preview(engine, session=left.session)
    assert not after.name.isin([left.container, left.volume, left.network]).any()
