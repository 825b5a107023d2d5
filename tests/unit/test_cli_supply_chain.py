"""The sbom and scan commands."""

import json

from helpers.cli import build_parser, main


def test_commands_have_help():
    """Do `sbom` and `scan` exist with help text?"""
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in ("sbom", "scan"):
        assert name in sub.choices and sub.choices[name].format_help()


def test_sbom_and_scan_on_an_archive(tmp_path, capsys):
    """Does `sbom` print CycloneDX and `scan --json` a list with the contract's fields, from an archive?"""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "_sbom_fixtures", Path(__file__).parent / "supplychain" / "test_sbom.py"
    )
    fixtures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fixtures)  # the archive builder of test_sbom.py, whatever pytest's import mode
    STATUS_1, make_archive = fixtures.STATUS_1, fixtures.make_archive

    arc = make_archive(
        tmp_path / "a.tar",
        [
            {
                "etc/os-release": "ID=debian\nVERSION_ID=12\n",
                "var/lib/dpkg/status": STATUS_1,
                "usr/lib/python3/dist-packages/idna-3.6.dist-info/METADATA": "Name: idna\nVersion: 3.6\n",
            }
        ],
        ["ADD x /"],
    )
    assert main(["sbom", str(arc)]) == 0
    assert json.loads(capsys.readouterr().out)["bomFormat"] == "CycloneDX"
    assert main(["scan", str(arc), "--json", "--source", "snapshot"]) == 0
    out = capsys.readouterr()
    findings = json.loads(out.out)
    assert "snapshot taken" in out.err
    idna = [f for f in findings if f["package"] == "idna"]
    assert idna and {"id", "package", "installed_version", "fixed_version", "severity"} <= set(idna[0])
    assert main(["scan", str(arc), "--source", "snapshot", "--fail-on", "HIGH"]) == 1


def test_bad_input_exit_code(tmp_path, capsys):
    """Does a file that is not an archive end with exit code 2 and one message?"""
    f = tmp_path / "x.tar"
    f.write_text("no")
    assert main(["scan", str(f), "--source", "snapshot"]) == 2
    assert "not an image archive" in capsys.readouterr().err
