"""The sign and verify commands: help text, image references, and the exit codes a CI gate relies on."""

import pytest

import helpers.commands.sign as cmd
from helpers.cli import build_parser, main
from helpers.errors import SignatureError
from helpers.supplychain.sign import Verification


def test_commands_have_help():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in ("sign", "verify"):
        assert name in sub.choices and "--key" in sub.choices[name].format_help()
    assert "--legacy" in sub.choices["sign"].format_help()


@pytest.mark.parametrize(
    "image, parts",
    [
        ("127.0.0.1:5000/course/app:1.0.0", ("127.0.0.1:5000", "course/app", "1.0.0")),
        ("127.0.0.1:5000/app@sha256:" + "a" * 64, ("127.0.0.1:5000", "app", "sha256:" + "a" * 64)),
        ("ghcr.io/org/app:v2", ("ghcr.io", "org/app", "v2")),
    ],
)
def test_split_image(image, parts):
    assert cmd.split_image(image) == parts


@pytest.mark.parametrize("image", ["127.0.0.1:5000/app", "app:1.0", "127.0.0.1:5000"])
def test_split_image_refuses_what_names_no_version(image, capsys):
    assert main(["verify", image, "--key", "k.pub"]) == 2
    assert "REGISTRY/REPOSITORY:TAG" in capsys.readouterr().err


def test_sign_passes_legacy_and_verify_exit_codes(monkeypatch, capsys):
    """Does --legacy reach the signer, and does verify exit 0 when verified and 1 when rejected?"""
    calls = []
    monkeypatch.setattr(cmd, "_credentials", lambda address: (None, None))
    monkeypatch.setattr(cmd, "sign_image", lambda *a, **kw: calls.append(kw) or "sha256:" + "b" * 64)
    assert main(["sign", "reg:5000/app:1", "--key", "k.key", "--legacy"]) == 0
    assert calls == [{"legacy": True}] and ".sig tag" in capsys.readouterr().out
    assert main(["sign", "reg:5000/app:1", "--key", "k.key"]) == 0
    assert calls[-1] == {"legacy": False} and "referrer" in capsys.readouterr().out
    monkeypatch.setattr(cmd, "verify_image", lambda *a: Verification("sha256:1", "reg:5000/app", 1, "sig tag"))
    assert main(["verify", "reg:5000/app:1", "--key", "k.pub"]) == 0
    assert "VERIFIED" in capsys.readouterr().out

    def reject(*a):
        raise SignatureError("No valid signature", "Do not deploy it.")

    monkeypatch.setattr(cmd, "verify_image", reject)
    assert main(["verify", "reg:5000/app:1", "--key", "k.pub"]) == 1
    assert "REJECTED" in capsys.readouterr().err
