"""Split a pip command line into pip's own parts and pipguard's options.

pipguard must not confuse pip: global options may stand before the command
(``pipguard -q install ...``, ``--isolated``, ``--python PATH``), options may
be written ``--opt value`` or ``--opt=value``, short flags may be stacked
(``-qq``). We only need to know which options take a value; everything else is
handed to pip untouched and in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pipguard.errors import UsageError

# pip's general options that take a value (pip 23.0 ... 26.3).
GLOBAL_VALUE_OPTS = frozenset(
    {
        "--python", "--log", "--log-file", "--local-log", "--keyring-provider", "--proxy",
        "--retries", "--timeout", "--exists-action", "--trusted-host", "--cert",
        "--client-cert", "--cache-dir", "--use-feature", "--use-deprecated",
        "--resume-retries",
    }
)  # fmt: skip

# Options of install/download/wheel/lock (and pip's other commands) that take a value.
COMMAND_VALUE_OPTS = frozenset(
    {
        "-r", "--requirement", "-c", "--constraint", "--build-constraint",
        "--requirements-from-script", "-e", "--editable", "-t", "--target", "--platform",
        "--python-version", "--implementation", "--abi", "--root", "--prefix", "--src",
        "--upgrade-strategy", "-C", "--config-settings", "--progress-bar",
        "--root-user-action", "--report", "--group", "--all-releases", "--only-final",
        "--no-binary", "--only-binary", "-i", "--index-url", "--extra-index-url",
        "--refresh-package", "-f", "--find-links", "--uploaded-prior-to", "-d", "--dest",
        "-w", "--wheel-dir", "-o", "--output", "--global-option", "--build-option",
        "--install-option", "--format", "--path", "--exclude", "--editor",
    }
)  # fmt: skip

SHORT_VALUE_OPTS = frozenset(
    o for o in GLOBAL_VALUE_OPTS | COMMAND_VALUE_OPTS if len(o) == 2
)

# pipguard's own options: accepted by every command, removed before pip runs.
OWN_VALUE_OPTS = frozenset(
    {"--cuda-driver", "--gpu-arch", "--torch-backend", "--torch-index-url", "--torch-channel",
     "--knowledge-file"}
)  # fmt: skip
OWN_FLAGS = frozenset({"--json", "--deep", "--all", "--offline", "--refresh"})

PIPGUARD_COMMANDS = frozenset(
    {"detect", "plan", "install", "download", "wheel", "lock", "verify", "doctor", "explain",
     "alias"}
)  # fmt: skip
# pipguard-only commands: their flags are pipguard's, pip never sees them.
OWN_COMMANDS = frozenset({"detect", "plan", "verify", "doctor", "explain", "alias"})


@dataclass(frozen=True)
class Option:
    """One option as written: its name, value (or None), and the original tokens."""

    name: str
    value: str | None
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class CommandLine:
    """A parsed command line.

    ``pip_globals`` are pip's general options in order (tokens as written),
    ``command`` the pip/pipguard command (or None), ``rest`` every other token
    in order, with options kept whole, ``own`` pipguard's own options.
    """

    pip_globals: tuple[Option, ...] = ()
    command: str | None = None
    rest: tuple[Option | str, ...] = ()
    own: dict[str, str] = field(default_factory=dict)
    own_flags: frozenset[str] = frozenset()
    python: str | None = None
    # The command line as written, less pipguard's own options and --python:
    # what a pass-through hands to pip, in the user's order.
    pip_argv: tuple[str, ...] = ()

    def global_tokens(self, *, drop_python: bool = True) -> list[str]:
        out: list[str] = []
        for opt in self.pip_globals:
            if drop_python and opt.name == "--python":
                continue
            out.extend(opt.tokens)
        return out

    def rest_tokens(self) -> list[str]:
        out: list[str] = []
        for item in self.rest:
            out.extend(item.tokens if isinstance(item, Option) else (item,))
        return out

    def options(self, *names: str) -> list[str]:
        """Values of the given command options, in order."""
        wanted = set(names)
        return [
            o.value
            for o in self.rest
            if isinstance(o, Option) and o.name in wanted and o.value is not None
        ]

    def has(self, *names: str) -> bool:
        wanted = set(names)
        return any(isinstance(o, Option) and o.name in wanted for o in self.rest) or any(
            o.name in wanted for o in self.pip_globals
        )

    def positionals(self) -> list[str]:
        return [o for o in self.rest if isinstance(o, str)]


def _takes_value(name: str, *, own_command: bool) -> bool:
    if name in OWN_VALUE_OPTS:
        return True
    if own_command:
        return name in GLOBAL_VALUE_OPTS or name in {"--python"}
    return name in GLOBAL_VALUE_OPTS or name in COMMAND_VALUE_OPTS


def _read_option(
    argv: Sequence[str], i: int, *, own_command: bool
) -> tuple[Option | None, int]:
    """Read the option at ``argv[i]``; return it and the index after it."""
    tok = argv[i]
    if tok.startswith("--"):
        name, eq, value = tok.partition("=")
        if eq:
            return Option(name, value, (tok,)), i + 1
        if _takes_value(name, own_command=own_command):
            if i + 1 >= len(argv):
                raise UsageError(f"option {name} requires a value", hint=f"e.g. {name} VALUE")
            return Option(name, argv[i + 1], (tok, argv[i + 1])), i + 2
        return Option(name, None, (tok,)), i + 1
    # short option: -q, -qq, -rfile, -r file
    name = tok[:2]
    if (name in SHORT_VALUE_OPTS and not own_command) or name in {"-r", "-c", "-e"}:
        if len(tok) > 2:
            return Option(name, tok[2:], (tok,)), i + 1
        if i + 1 >= len(argv):
            raise UsageError(f"option {name} requires a value", hint=f"e.g. {name} VALUE")
        return Option(name, argv[i + 1], (tok, argv[i + 1])), i + 2
    return Option(name, None, (tok,)), i + 1


def parse(argv: Sequence[str]) -> CommandLine:
    """Parse ``argv`` (without the program name)."""
    pip_globals: list[Option] = []
    rest: list[Option | str] = []
    own: dict[str, str] = {}
    own_flags: set[str] = set()
    command: str | None = None
    python: str | None = None
    pip_argv: list[str] = []
    i = 0
    only_positionals = False
    while i < len(argv):
        tok = argv[i]
        if only_positionals:
            rest.append(tok)
            pip_argv.append(tok)
            i += 1
            continue
        if tok == "--":
            only_positionals = True
            rest.append(tok)
            pip_argv.append(tok)
            i += 1
            continue
        if tok.startswith("-") and tok != "-":
            # `plan` takes everything `pip install` takes, value options included.
            own_command = command in OWN_COMMANDS and command != "plan"
            opt, i = _read_option(argv, i, own_command=own_command)
            assert opt is not None
            if opt.name in OWN_VALUE_OPTS:
                own[opt.name] = opt.value or ""
            elif opt.name in OWN_FLAGS and (command is None or command in PIPGUARD_COMMANDS):
                own_flags.add(opt.name)
            elif opt.name == "--python":
                python = opt.value
                pip_globals.append(opt)
            elif command is None:
                pip_globals.append(opt)
                pip_argv.extend(opt.tokens)
            else:
                rest.append(opt)
                pip_argv.extend(opt.tokens)
            continue
        if command is None:
            command = tok
        else:
            rest.append(tok)
        pip_argv.append(tok)
        i += 1
    return CommandLine(
        tuple(pip_globals),
        command,
        tuple(rest),
        own,
        frozenset(own_flags),
        python,
        tuple(pip_argv),
    )
