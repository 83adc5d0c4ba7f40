from __future__ import annotations

import pytest

from pipguard.errors import UsageError
from pipguard.pipargs import parse


def test_global_options_before_the_command_do_not_confuse_it() -> None:
    cl = parse(["-q", "--isolated", "--python", "/venv/bin/python", "install", "torch"])
    assert cl.command == "install"
    assert cl.python == "/venv/bin/python"
    assert cl.positionals() == ["torch"]
    assert cl.pip_argv == ("-q", "--isolated", "install", "torch")


def test_value_options_in_both_spellings() -> None:
    cl = parse(["--timeout", "30", "install", "-r", "req.txt", "--index-url=http://x/simple",
                "-rother.txt", "-c", "c.txt"])
    assert cl.command == "install"
    assert cl.options("-r", "--requirement") == ["req.txt", "other.txt"]
    assert cl.options("-c", "--constraint") == ["c.txt"]
    assert cl.options("--index-url") == ["http://x/simple"]
    assert cl.positionals() == []


def test_own_options_are_removed_before_pip_sees_them() -> None:
    cl = parse(["install", "torch", "--cuda-driver", "570.86.10", "--gpu-arch=sm_120",
                "--torch-index-url", "http://mirror/whl", "-U"])
    assert cl.own == {"--cuda-driver": "570.86.10", "--gpu-arch": "sm_120",
                      "--torch-index-url": "http://mirror/whl"}
    assert cl.pip_argv == ("install", "torch", "-U")


def test_json_flag_is_ours_only_for_our_commands() -> None:
    assert "--json" in parse(["detect", "--json"]).own_flags
    # an unknown pip command keeps every token: pip must fail exactly as it fails
    assert parse(["frobnicate", "--json"]).pip_argv == ("frobnicate", "--json")


def test_stacked_short_flags_pass_unchanged() -> None:
    cl = parse(["-qq", "list", "--format=json"])
    assert [o.tokens for o in cl.pip_globals] == [("-qq",)]
    assert cl.pip_argv == ("-qq", "list", "--format=json")


def test_missing_value_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        parse(["install", "-r"])
    with pytest.raises(UsageError):
        parse(["install", "--cuda-driver"])


def test_double_dash_ends_options() -> None:
    cl = parse(["install", "--", "-weird-name"])
    assert cl.positionals() == ["--", "-weird-name"]
