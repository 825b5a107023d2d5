"""The commands shown next to each pipeline stage name files that exist, relative to the repository root."""

from pathlib import Path

from helpers.ci.pipelinecli import stage_commands
from helpers.ci.pipelinereport import PipelineReport, Stage
from helpers.paths import DATA_DIR


def test_test_image_path_is_relative_to_the_root_not_the_working_folder(monkeypatch):
    root = DATA_DIR.parent.parent  # the repository root (helpers/data -> repo)
    monkeypatch.chdir(root / "release" / "lab5-automate-builds")  # a notebook runs in its lab folder, in the root
    report = PipelineReport([Stage("build test image", True, 1.0)], run_id="abc")
    cmd = stage_commands(report, root / "Dockerfile", root / "sample_python_app", root=root)["build test image"]
    assert cmd.startswith("docker build -f helpers/data/sample_app/test.Dockerfile "), cmd
    shown = cmd.split()[3]
    assert (root / shown).is_file(), f"{shown} does not exist under the repository root"
    assert not Path(shown).is_absolute()
