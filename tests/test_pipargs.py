from __future__ import annotations

import difflib

import pytest

from pipguard.errors import UsageError
from pipguard.ownoptions import EVERYWHERE
from pipguard.pipargs import MISSPELLING, misspelt, parse
from pipguard.pipoptions import KNOWN, is_pips


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


def test_verbosity_counts_pips_q_and_v_wherever_they_stand() -> None:
    assert parse(["-q", "install", "torch"]).verbosity() == -1
    assert parse(["install", "-qq", "torch", "--quiet"]).verbosity() == -3
    assert parse(["-v", "install", "-vv", "torch"]).verbosity() == 3
    assert parse(["install", "-qU", "-r", "req-q.txt", "torch"]).verbosity() == -1
    assert parse(["install", "torch"]).verbosity() == 0
    # pip still gets them, as written
    assert parse(["-q", "install", "-vv", "torch"]).pip_argv == ("-q", "install", "-vv", "torch")


@pytest.mark.parametrize(("argv", "near"), [
    (["install", "torch", "--cuda-drvier", "570.86.10"], "--cuda-driver"),
    (["download", "torch", "--cuda_driver=570.86.10"], "--cuda-driver"),
    (["list", "--torch-idx-url", "http://x/whl"], "--torch-index-url"),
    (["--gpu-archs", "sm_90", "install", "torch"], "--gpu-arch"),
    (["plan", "torch", "--offlne"], "--offline"),
    (["detect", "--torch-backends", "cpu"], "--torch-backend"),
])
def test_a_misspelt_pipguard_option_is_a_usage_error_anywhere(argv: list[str], near: str) -> None:
    with pytest.raises(UsageError) as err:
        parse(argv)
    assert err.value.hint == f"did you mean {near}?"


def test_no_pip_option_is_ever_taken_for_a_misspelling_of_ours() -> None:
    for name in KNOWN:
        assert misspelt(name) is None, name
    assert misspelt("--no-build-iso") is None  # pip takes an unambiguous prefix, so do we
    assert is_pips("--no-build-iso") and not is_pips("--cuda-driver")
    # the nearest pair stays below the bar, with room
    assert max(difflib.SequenceMatcher(None, pip, ours).ratio()
               for pip in KNOWN for ours in EVERYWHERE) < MISSPELLING


@pytest.mark.parametrize("argv", [
    ["install", "torch", "--no-build-isolation", "--extra-index-url", "http://x/simple",
     "--use-pep517", "--config-settings", "a=b", "--uploaded-prior-to", "2025-01-01"],
    ["download", "torch", "--destination-dir", "d", "--frobnicate"],  # pip judges --frobnicate
    ["list", "--outdated", "--not-required", "--all"],
    ["plan", "torch", "-U", "--pre", "--no-deps", "-i", "http://x/simple", "--json"],
    ["doctor", "--deep", "-q", "--isolated", "--python", "/usr/bin/python3"],
])
def test_pips_options_are_not_judged(argv: list[str]) -> None:
    parse(argv)


def test_download_destination_dir_takes_its_value() -> None:
    assert parse(["download", "torch", "--destination-dir", "d"]).positionals() == ["torch"]


@pytest.mark.parametrize(("argv", "hint"), [
    (["detect", "--frobnicate"], "pipguard help detect lists its options"),
    (["detect", "--jsn"], "did you mean --json?"),
    (["detect", "--deep"], "--deep is an option of pipguard doctor"),
    (["verify", "-x"], "pipguard help verify lists its options"),
    (["explain", "--index-url", "x"], "pipguard help explain lists its options"),
    (["plan", "torch", "--frobnicate"], "pipguard help plan lists its options"),
])
def test_an_option_our_own_commands_do_not_take_is_a_usage_error(argv: list[str],
                                                                 hint: str) -> None:
    with pytest.raises(UsageError) as err:
        parse(argv)
    assert err.value.message.startswith(f"pipguard {argv[0]} has no option ")
    assert err.value.hint == hint


def test_own_flags_only_where_they_apply() -> None:
    assert parse(["doctor", "--deep"]).own_flags == {"--deep"}
    # pip's own --all stays pip's
    assert parse(["freeze", "--all"]).pip_argv == ("freeze", "--all")
    assert parse(["install", "--all", "torch"]).pip_argv == ("install", "--all", "torch")
