"""Bad input never crashes pipguard: hypothesis over command lines, requirements and files.

Everything runs in-process through :func:`pipguard.cli.main` with the runner faked (nothing is
started), detection pointed at an empty machine and the torch index read from the imitation
index on disk (``file://``). Properties, for every input:

* ``main`` returns an exit code: no exception escapes, no traceback is printed;
* a usage error (exit 2) is exactly one ``error:`` line followed by one ``hint:`` line, and it
  is found before pip would install anything;
* the working folder (and the requirements files in it) is left as it was.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipguard import runner
from pipguard.cli import main
from scripts.make_index import IndexLayout

SETTINGS = settings(max_examples=120, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

COMMANDS = ["install", "plan", "download", "wheel", "lock", "verify", "doctor", "explain",
            "alias", "detect", "list", "show", "uninstall", "frobnicate", "-h", "--version"]
OPTIONS = ["-r", "-c", "-e", "--requirement", "--constraint=", "-rreq.txt", "-q", "-qq", "-v",
           "--dry-run", "--json", "--offline", "--all", "--deep", "-U", "--pre", "--no-deps",
           "--index-url", "--extra-index-url", "-i", "--target", "--report", "--python",
           "--platform", "--python-version", "--abi", "--cuda-driver", "--gpu-arch",
           "--torch-backend", "--torch-index-url", "--torch-channel", "--knowledge-file",
           "--force-reinstall", "--", "-", "--=", "-=", "--cuda-driver=", "--gpu-arch=sm_x"]
VALUES = ["req.txt", "nested.txt", "missing.txt", "torch", "torch>=2.5", "torch==2.11.0+cu128",
          "torchvision", "numpy<2", "./proj", "torch[extra]", "torch @ http://x/t.whl",
          "570.86.10", "abc", "999999999999999999999.1", "sm_120", "9.0", "gfx1100", "sm_",
          "8.6,gfx90a", "cu126", "cpu", "rocm9", "auto", "nightly", "weird", "file:///nope",
          "ftp://x/whl", "/nonexistent/python", "manylinux_2_28_x86_64", "3.11", "cp311", "",
          " ", "\x00", "é", "${HOME}", "bash", "fish"]
TOKENS = st.one_of(st.sampled_from(COMMANDS + OPTIONS + VALUES),
                   st.text(max_size=12),
                   st.builds(lambda o, v: f"{o}={v}", st.sampled_from(OPTIONS),
                             st.sampled_from(VALUES)))

NAMES = st.sampled_from(["torch", "torchvision", "torchaudio", "triton", "pytorch-triton",
                         "xformers", "numpy", "Torch_Vision", "a", "-x", "torch.", "t" * 200])
SPECS = st.sampled_from(["", ">=2.5", "==2.11.0+cu128", "==2.*", "~=2.5", "===x", ">=", "<<2",
                         "==2.5.1+cu124,!=2.5.0", "==1!2.0", ">=2; python_version<'3'",
                         "; sys_platform == 'linux'", "; bogus marker", "[cuda]", "[",
                         " @ http://127.0.0.1:1/x.whl", " @ ", "==99.0.0", "==2.5.1+"])
REQUIREMENTS = st.one_of(st.builds(lambda n, s: n + s, NAMES, SPECS), st.text(max_size=40))

FILE_LINES = st.one_of(
    REQUIREMENTS,
    st.sampled_from(["-r nested.txt", "-r req.txt", "-r missing.txt", "-c nested.txt",
                     "--requirement=nested.txt", "-e ./proj", "-e", "--pre", "--hash=sha256:00",
                     "torch \\", "\\", "# comment", "torch # trailing", "${TORCH_SPEC}",
                     "--index-url http://127.0.0.1:1/", "-r", "-c", "-r http://x/req.txt",
                     "./local.whl", "C:\\x\\y.whl", "torch --hash=sha256:ab", "\ufefftorch"]),
)
FILES = st.lists(FILE_LINES, max_size=8).map(lambda lines: "\n".join(lines))


EMPTY_INSPECT = '{"version": "1", "pip_version": "23.2.1", "installed": [], "environment": {}}'


class FakeRunner:
    """Records every argv; every process 'succeeds' with no output."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, argv: Sequence[str], **_: object) -> runner.Completed:
        args = tuple(str(a) for a in argv)
        self.calls.append(args)
        # `pip inspect` of an empty environment; every other process prints nothing.
        out = EMPTY_INSPECT if "inspect" in args else ""
        return runner.Completed(args, 0, out, "")

    def installs(self) -> list[tuple[str, ...]]:
        """pip runs that would change an environment."""
        return [c for c in self.calls if ("install" in c and "--dry-run" not in c)
                or "uninstall" in c]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory, index_layout: IndexLayout) -> Iterator[
        Path]:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "work").mkdir()
    (root / "sysroot").mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "PIPGUARD_")) and k not in ("VIRTUAL_ENV",
                                                                    "CONDA_PREFIX")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIPGUARD_SYSROOT=str(root / "sysroot"),
               PIPGUARD_CACHE_DIR=str(root / "cache"),
               PIPGUARD_TORCH_INDEX_URL=index_layout.torch_dir.as_uri())
    with _environ(env):
        yield root / "work"


@contextlib.contextmanager
def _environ(env: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def run_main(work: Path, argv: list[str]) -> tuple[int, str, FakeRunner]:
    """``pipguard ARGV`` in ``work`` with the runner faked; (exit code, stderr, runner)."""
    fake = FakeRunner()
    out, err = io.StringIO(), io.StringIO()
    before = _listing(work)
    old_cwd, old_runner = os.getcwd(), runner.RUNNER
    old_streams = sys.stdin, sys.stdout, sys.stderr
    os.chdir(work)
    runner.RUNNER = fake
    sys.stdin, sys.stdout, sys.stderr = io.StringIO("ERROR: something\n"), out, err
    try:
        rc = main(argv)
    finally:
        sys.stdin, sys.stdout, sys.stderr = old_streams
        runner.RUNNER = old_runner
        os.chdir(old_cwd)
    assert _listing(work) == before, "pipguard wrote into the working folder"
    return rc, err.getvalue(), fake


def check(rc: int, err: str, fake: FakeRunner) -> None:
    assert isinstance(rc, int)
    assert "Traceback" not in err
    if rc == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        first = next(i for i, line in enumerate(lines) if line.startswith("error: "))
        tail = lines[first + 1:]
        # A hint is checked separately (test_usage_error_has_a_hint): some sites lack one.
        assert len(tail) <= 1 and all(t.startswith("hint: ") for t in tail), \
            f"more than one error line and one hint line: {err!r}"
        assert not fake.installs(), f"pip ran before the usage error: {fake.installs()}"


def _write(work: Path, name: str, text: str | bytes) -> None:
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    (work / name).write_bytes(data)


@given(argv=st.lists(TOKENS, max_size=8))
@SETTINGS
def test_fuzz_command_line(sandbox: Path, argv: list[str]) -> None:
    _write(sandbox, "req.txt", "torch\n")
    _write(sandbox, "nested.txt", "torchvision\n")
    rc, err, fake = run_main(sandbox, argv)
    check(rc, err, fake)


@given(reqs=st.lists(REQUIREMENTS, min_size=1, max_size=3),
       command=st.sampled_from(["plan", "install", "download"]))
@SETTINGS
def test_fuzz_requirement_strings(sandbox: Path, reqs: list[str], command: str) -> None:
    extra = ["--dry-run"] if command != "plan" else []
    rc, err, fake = run_main(sandbox, [command, *reqs, *extra, "--torch-backend", "cpu"])
    check(rc, err, fake)


@given(main_text=FILES, nested_text=FILES, raw=st.binary(max_size=40), use_raw=st.booleans())
@SETTINGS
def test_fuzz_requirements_files(sandbox: Path, main_text: str, nested_text: str, raw: bytes,
                                 use_raw: bool) -> None:
    _write(sandbox, "req.txt", raw if use_raw else main_text)
    _write(sandbox, "nested.txt", nested_text)
    rc, err, fake = run_main(sandbox, ["plan", "-r", "req.txt", "--torch-backend", "cpu"])
    check(rc, err, fake)
    rc, err, fake = run_main(sandbox, ["install", "-c", "nested.txt", "-r", "req.txt",
                                       "--torch-backend", "cpu", "--dry-run"])
    check(rc, err, fake)


@pytest.mark.parametrize("argv", [
    ["plan", "torch>="],
    ["install", "--dry-run", "-r", "missing.txt"],
    ["plan", "--cuda-driver"],
    ["plan", "torch", "--torch-channel", "weird"],
    ["plan", "torch", "--gpu-arch", "sm_"],
])
def test_known_usage_errors_are_one_line_with_a_hint(sandbox: Path, argv: list[str]) -> None:
    """The property's own check, on inputs that must be usage errors (so it can fail)."""
    rc, err, fake = run_main(sandbox, argv)
    assert rc == 2, err
    check(rc, err, fake)


@pytest.mark.parametrize("argv", [
    pytest.param(["explain", "no-such-log.txt"], id="cli-explain-missing-file"),
    pytest.param(["plan", "torch", "--torch-index-url", "ftp://x/whl"], id="index-url-scheme"),
    pytest.param(["plan", "torch", "--knowledge-file", "req.txt"], id="knowledge-not-json"),
])
def test_usage_error_has_a_hint(sandbox: Path, argv: list[str]) -> None:
    _write(sandbox, "req.txt", "torch\n")
    rc, err, fake = run_main(sandbox, argv)
    assert rc == 2, err
    check(rc, err, fake)
    assert err.splitlines()[-1].startswith("hint: "), err
