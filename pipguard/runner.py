"""The one module that starts processes.

Every subprocess pipguard runs goes through :func:`run`: an argv list, never a
shell. Tests replace the module-level :data:`RUNNER` (the one faked seam).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Protocol


@dataclass(frozen=True)
class Completed:
    """What a finished process left: its exit code and captured output."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False


class Runner(Protocol):
    def __call__(
        self,
        argv: Sequence[str],
        *,
        capture: bool = True,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        stdin_text: str | None = None,
        tee: bool = False,
    ) -> Completed: ...


def _real_run(
    argv: Sequence[str],
    *,
    capture: bool = True,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
    stdin_text: str | None = None,
    tee: bool = False,
) -> Completed:
    args = tuple(str(a) for a in argv)
    full_env = None if env is None else {**os.environ, **env}
    if tee:
        return _tee_run(args, timeout=timeout, env=full_env)
    pipe = subprocess.PIPE if capture else None
    try:
        proc = subprocess.Popen(args, stdout=pipe, stderr=pipe,
                                stdin=subprocess.PIPE if stdin_text is not None else None,
                                text=True, errors="replace", env=full_env)
    except OSError as exc:
        # Not found, not executable: report like a shell would, never raise.
        return Completed(args, 127, "", str(exc))
    try:
        out, err = proc.communicate(stdin_text, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return Completed(args, 124, out or "", err or "", timed_out=True)
    except BaseException:
        _stop(proc)  # Ctrl-C: the child ends within INTERRUPT_GRACE_S, as in _tee_run
        raise
    return Completed(args, proc.returncode, out or "", err or "")


# How long an interrupted child may take to clean up before it is killed.
INTERRUPT_GRACE_S = 1.0


def _stop(proc: subprocess.Popen[str]) -> None:
    """End an interrupted child: SIGINT (if the signal reached only us), then SIGKILL."""
    import signal

    if proc.poll() is None and sys.platform != "win32":
        with contextlib.suppress(OSError):
            proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=INTERRUPT_GRACE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _pump(stream: IO[str], sink: IO[str], lines: list[str]) -> None:
    for line in stream:
        lines.append(line)
        sink.write(line)
        sink.flush()


def _tee_run(
    args: tuple[str, ...], *, timeout: float | None, env: Mapping[str, str] | None
) -> Completed:
    """Stream the child's output to ours as it comes, and keep a copy."""
    try:
        proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            env=env,
        )
    except OSError as exc:
        return Completed(args, 127, "", str(exc))
    out: list[str] = []
    err: list[str] = []
    assert proc.stdout is not None and proc.stderr is not None
    threads = [
        threading.Thread(target=_pump, args=(proc.stdout, sys.stdout, out), daemon=True),
        threading.Thread(target=_pump, args=(proc.stderr, sys.stderr, err), daemon=True),
    ]
    for t in threads:
        t.start()
    timed_out = False
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
        timed_out = True
    except BaseException:
        # Ctrl-C: pip got the terminal's SIGINT too (same process group); give it a moment
        # to clean up, then make sure it is gone, so pipguard ends within INTERRUPT_GRACE_S.
        _stop(proc)
        raise
    for t in threads:
        t.join()
    return Completed(args, 124 if timed_out else code, "".join(out), "".join(err), timed_out)


RUNNER: Runner = _real_run


def run(
    argv: Sequence[str],
    *,
    capture: bool = True,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
    stdin_text: str | None = None,
    tee: bool = False,
) -> Completed:
    """Run ``argv`` (no shell).

    ``capture=False`` lets output stream to ours; ``tee=True`` streams it and
    keeps a copy (for diagnosing a failed pip run).
    """
    return RUNNER(
        argv, capture=capture, timeout=timeout, env=env, stdin_text=stdin_text, tee=tee
    )


class Pending:
    """A process started by :func:`start`, running while the caller does other work."""

    def __init__(self, argv: Sequence[str], timeout: float | None,
                 env: Mapping[str, str] | None = None) -> None:
        self._done: Completed | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, args=(argv, timeout, env),
                                        daemon=True, name="pipguard-pending")
        self._thread.start()

    def _work(self, argv: Sequence[str], timeout: float | None,
              env: Mapping[str, str] | None) -> None:
        try:
            self._done = run(argv, capture=True, timeout=timeout, env=env)
        except BaseException as exc:  # handed to whoever asks for the result
            self._error = exc

    def result(self) -> Completed:
        """Wait for the process; what :func:`run` would have returned (or raised)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._done is not None
        return self._done


def start(argv: Sequence[str], *, timeout: float | None = None,
          env: Mapping[str, str] | None = None) -> Pending:
    """Start ``argv`` (captured, no shell) in the background: :meth:`Pending.result` waits.

    It goes through :data:`RUNNER` like every other process (tests see it as a call).
    """
    return Pending(argv, timeout, env)
