from __future__ import annotations

from pathlib import Path

import pytest

from pipguard.errors import UsageError
from pipguard.reqfiles import read_wanted


def test_nested_files_constraints_and_opaque(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "inner.txt").write_text("torch>=2.5 --hash=sha256:00\n")
    (tmp_path / "c.txt").write_text("torch<2.12\n")
    (tmp_path / "req.txt").write_text(
        "# comment\n-r sub/inner.txt\n-c c.txt\ntorchvision==0.20.1  # pinned\n"
        "numpy<2 ; python_version >= '3.9'\n-e ./proj\n--extra-index-url http://x\n"
        "long-\\\nname>=1\n"
    )
    w = read_wanted(["./local", "six"], [str(tmp_path / "req.txt")], [], [])
    names = [str(r) for r, _ in w.requirements]
    assert names == ["six", "torch>=2.5", "torchvision==0.20.1",
                     'numpy<2; python_version >= "3.9"', "long-name>=1"]
    assert [str(r) for r, _ in w.constraints] == ["torch<2.12"]
    assert w.opaque == ("./local", "./proj")
    origin = dict((str(r), o) for r, o in w.requirements)
    assert origin["torchvision==0.20.1"].endswith("req.txt:4")


def test_include_loop_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("-r b.txt\ntorch\n")
    (tmp_path / "b.txt").write_text("-r a.txt\ntorchvision\n")
    w = read_wanted([], [str(tmp_path / "a.txt")], [], [])
    assert sorted(str(r) for r, _ in w.requirements) == ["torch", "torchvision"]


def test_bad_requirement_is_a_usage_error_naming_the_line(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text("torch==\n")
    with pytest.raises(UsageError, match=r"r.txt:1"):
        read_wanted([], [str(tmp_path / "r.txt")], [], [])


def test_missing_file_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="not found"):
        read_wanted([], ["/nonexistent/req.txt"], [], [])


def test_url_requirements_stay_opaque() -> None:
    w = read_wanted(["torch @ https://example.org/torch-2.5.1-cp311-cp311-linux_x86_64.whl"],
                    [], [], [])
    assert w.opaque and w.requirements[0][0].url
