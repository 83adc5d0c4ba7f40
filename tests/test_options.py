"""One module reads pipguard's options and variables, by one rule (flag > variable > default)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipguard.errors import UsageError
from pipguard.options import DEFAULT_INDEX_URL, settings
from pipguard.pipargs import parse


def test_defaults() -> None:
    s = settings(parse(["plan", "torch"]), {})
    assert (s.torch_index_url, s.channel, s.offline, s.knowledge_file) == (
        DEFAULT_INDEX_URL, "stable", False, None)
    assert s.cache_dir is None and s.sysroot == "/" and not s.overrides.any()


@pytest.mark.parametrize("value", ["false", "0", "no", "off", "", "False"])
def test_offline_false_means_online(value: str) -> None:
    # The bug: PIPGUARD_OFFLINE=false planned offline.
    assert settings(parse(["plan"]), {"PIPGUARD_OFFLINE": value}).offline is False


@pytest.mark.parametrize("value", ["1", "true", "yes", "on", "TRUE"])
def test_offline_true(value: str) -> None:
    assert settings(parse(["plan"]), {"PIPGUARD_OFFLINE": value}).offline is True


def test_offline_flag_and_a_bad_boolean() -> None:
    assert settings(parse(["plan", "--offline"]), {}).offline is True
    with pytest.raises(UsageError, match="PIPGUARD_OFFLINE"):
        settings(parse(["plan"]), {"PIPGUARD_OFFLINE": "maybe"})


def test_flag_beats_variable(tmp_path: Path) -> None:
    env = {"PIPGUARD_TORCH_INDEX_URL": "https://env.example/whl",
           "PIPGUARD_KNOWLEDGE_FILE": str(tmp_path / "env.json"),
           "PIPGUARD_CUDA_DRIVER": "550.54.14", "PIPGUARD_CACHE_DIR": str(tmp_path / "c")}
    s = settings(parse(["plan", "--torch-index-url", "https://flag.example/whl/",
                        "--knowledge-file", str(tmp_path / "flag.json"),
                        "--cuda-driver", "580.95.05"]), env)
    assert s.torch_index_url == "https://flag.example/whl"
    assert s.knowledge_file == tmp_path / "flag.json"
    assert s.overrides.cuda_driver == "580.95.05"
    assert s.overrides.origin["PIPGUARD_CUDA_DRIVER"] == "--cuda-driver"
    assert s.cache_dir == tmp_path / "c"
    only_env = settings(parse(["plan"]), env)
    assert only_env.torch_index_url == "https://env.example/whl"
    assert only_env.knowledge_file == tmp_path / "env.json"
    assert only_env.overrides.origin["PIPGUARD_CUDA_DRIVER"] == "PIPGUARD_CUDA_DRIVER"


@pytest.mark.parametrize(("argv", "env"), [
    (["plan", "--torch-channel", "beta"], {}),
    (["plan"], {"PIPGUARD_TORCH_CHANNEL": "weekly"}),
    (["plan", "--torch-index-url", "ftp://mirror/whl"], {}),
    (["plan", "--torch-backend", "cuda"], {}),
    (["plan"], {"PIPGUARD_GPU_ARCH": "banana"}),
])
def test_bad_values_are_usage_errors(argv: list[str], env: dict[str, str]) -> None:
    with pytest.raises(UsageError):
        settings(parse(argv), env)


@pytest.mark.parametrize(("argv", "env", "base", "backend", "channel"), [
    (["install", "torch", "--index-url", "https://mirror.corp/pt/whl/cu126"], {},
     "https://mirror.corp/pt/whl", "cu126", "stable"),
    (["install", "torch", "--extra-index-url", "https://download.pytorch.org/whl/nightly/cu130/"],
     {}, "https://download.pytorch.org/whl", "cu130", "nightly"),
    (["install", "torch==1.8.0+cu111", "-f", "https://download.pytorch.org/whl/torch_stable.html"],
     {}, "https://download.pytorch.org/whl", None, "stable"),
    (["install", "torch"], {"PIP_INDEX_URL": "https://m.example/whl/rocm6.4"},
     "https://m.example/whl", "rocm6.4", "stable"),
    (["install", "torch", "-i", "https://pypi.org/simple"], {}, DEFAULT_INDEX_URL, None, "stable"),
])
def test_pytorch_orgs_index_url_names_the_variant_and_its_base(
        argv: list[str], env: dict[str, str], base: str, backend: str | None,
        channel: str) -> None:
    s = settings(parse(argv), env)
    assert (s.torch_index_url, s.overrides.torch_backend, s.channel) == (base, backend, channel)


def test_an_explicit_torch_index_or_backend_wins_over_pips_index() -> None:
    argv = ["install", "torch", "--index-url", "https://mirror.corp/whl/cu126"]
    s = settings(parse([*argv, "--torch-backend", "cpu",
                        "--torch-index-url", "https://other/whl"]), {})
    assert (s.torch_index_url, s.overrides.torch_backend) == ("https://other/whl", "cpu")


def test_pip_constraint_files_are_read() -> None:
    assert settings(parse(["install"]), {"PIP_CONSTRAINT": "a.txt b.txt"}).constraint_files == (
        "a.txt", "b.txt")


def test_explain_reads_the_knowledge_file_it_is_given(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The bug: `explain --knowledge-file X` ignored X. A broken X is now a usage error."""
    import io

    from pipguard.cli import main

    bad = tmp_path / "kb.json"
    bad.write_text("{not json")
    monkeypatch.setattr("sys.stdin", io.StringIO("ERROR: No matching distribution found for x\n"))
    assert main(["explain", "--knowledge-file", str(bad)]) == 2
