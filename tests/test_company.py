"""A drop-in for pip in a company: pytorch.org's command lines, pip's constraints, companions
that move with torch (issue 11). Real pip, fresh venvs, the imitation indexes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.serve_index import IndexServer
from tests.test_reliability import (
    GPU,
    Box,
    make_box,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def box(template_venv: Path, tmp_path: Path) -> Box:
    return make_box(template_venv, tmp_path)


def _versions(box: Box) -> dict[str, tuple[str, str]]:
    return {n: (i["metadata"]["version"], (i.get("direct_url") or {}).get("url", ""))
            for n, i in box.installed().items()}


def test_pytorch_orgs_index_url_installs_that_variant_from_that_mirror(
        box: Box, index_server: IndexServer) -> None:
    mirror = f"{index_server.torch_url}/cu126"
    # No GPU on this machine: the variant is the user's word (with a warning), not ours.
    done = box.pipguard("install", "torch", "--index-url", mirror)
    assert done.returncode == 0, done.stderr
    version, url = _versions(box)["torch"]
    assert version.endswith("+cu126") and url.startswith(mirror + "/")
    plan = box.pipguard("plan", "torch", "--index-url", mirror, "--json")
    notes = json.loads(plan.stdout)["notes"]
    assert any("--index-url" in n for n in notes), notes  # says where its variant came from


def test_pip_constraint_installs_the_newest_allowed_build(
        box: Box, index_server: IndexServer) -> None:
    constraints = box.tmp / "constraints.txt"
    constraints.write_text("torch<=2.13.0\n")
    box.env["PIP_CONSTRAINT"] = str(constraints)
    done = box.pipguard("install", "torch", *GPU, "--index-url", index_server.pypi_url,
                        "--torch-index-url", index_server.torch_url)
    assert done.returncode == 0, done.stderr
    assert _versions(box)["torch"][0] == "2.13.0+cu126"


def test_moving_torch_moves_its_installed_companions(
        box: Box, index_server: IndexServer) -> None:
    args = [*GPU, "--index-url", index_server.pypi_url, "--torch-index-url",
            index_server.torch_url]
    assert box.pipguard("install", "torch", "torchvision", *args).returncode == 0
    done = box.pipguard("install", "torch==2.13.0", *args)
    assert done.returncode == 0, done.stderr
    got = _versions(box)
    assert got["torch"][0] == "2.13.0+cu126"
    assert got["torchvision"][0] == "0.28.0+cu126", got["torchvision"]
    # (PYTHONPATH makes the repository's own pipguard metadata visible: only family lines count.)
    check = box.pip("check").stdout.splitlines()
    assert [line for line in check if line.startswith(("torch", "triton"))] == [], check


def test_a_constraint_in_pips_config_file_shapes_the_plan(
        box: Box, index_server: IndexServer) -> None:
    constraints = box.tmp / "constraints.txt"
    constraints.write_text("torch<=2.13.0\n")
    conf = box.tmp / "pip.conf"
    conf.write_text(f"[global]\nconstraint = {constraints}\n")
    box.env["PIP_CONFIG_FILE"] = str(conf)
    done = box.pipguard("install", "torch", *GPU, "--index-url", index_server.pypi_url,
                        "--torch-index-url", index_server.torch_url)
    assert done.returncode == 0, done.stderr
    assert _versions(box)["torch"][0] == "2.13.0+cu126"
