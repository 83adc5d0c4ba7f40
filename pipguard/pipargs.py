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
from pipguard.ownoptions import (
    BY_NAME,
    COMMAND_EXTRAS,
    EVERYWHERE,
    FLAGS,
    FLEET_VALUE_OPTIONS,
    OWN_COMMANDS,
    PIPGUARD_COMMANDS,
    VALUE_OPTIONS,
    for_command,
)
from pipguard.pipoptions import COMMAND_VALUE_OPTS, GENERAL, GLOBAL_VALUE_OPTS, KNOWN, is_pips

SHORT_VALUE_OPTS = frozenset(
    o for o in GLOBAL_VALUE_OPTS | COMMAND_VALUE_OPTS if len(o) == 2
)
# How close a misspelling of one of pipguard's options must be (difflib's ratio) to be
# called one: no real pip option comes within 0.85 of any of them (the nearest pair,
# --extra-index-url and --torch-index-url, is 0.82; a test keeps it so).
MISSPELLING = 0.85


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

    def verbosity(self) -> int:
        """pip's ``-v`` count less its ``-q`` count (``-qq`` is two), as pip reckons them."""
        n = 0
        for o in (*self.pip_globals, *self.rest):
            if not isinstance(o, Option) or o.value is not None:
                continue
            if o.name in ("--verbose", "--quiet"):
                n += 1 if o.name == "--verbose" else -1
            elif o.name in ("-v", "-q"):
                n += (1 if o.name == "-v" else -1) * o.tokens[0].count(o.name[1])
        return n


def _takes_value(name: str, *, own_command: bool) -> bool:
    if name in VALUE_OPTIONS or name in FLEET_VALUE_OPTIONS:
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
            if opt.name in VALUE_OPTIONS:
                own[opt.name] = opt.value or ""
            elif (opt.name in FLAGS and BY_NAME[opt.name].applies_to(command)
                  and (command is None or command in PIPGUARD_COMMANDS)):
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
    cl = CommandLine(
        tuple(pip_globals),
        command,
        tuple(rest),
        own,
        frozenset(own_flags),
        python,
        tuple(pip_argv),
    )
    check(cl)
    return cl


def check(cl: CommandLine) -> None:
    """Usage errors: a close misspelling of one of pipguard's options (anywhere), and an
    option pipguard's own commands do not take. pip's options are never judged here."""
    written = [*cl.pip_globals, *(o for o in cl.rest if isinstance(o, Option))]
    for opt in written:
        near = misspelt(opt.name)
        if near is not None:
            raise UsageError(f"unknown option {opt.name}", hint=f"did you mean {near}?")
    if cl.command not in OWN_COMMANDS:
        return
    # `plan` takes what `pip install` takes; the others only pip's general options.
    for opt in written:
        if opt.name in GENERAL or (cl.command == "plan" and is_pips(opt.name)) \
                or opt.name in COMMAND_EXTRAS.get(cl.command, ()):
            continue
        hint = f"pipguard help {cl.command} lists its options"
        if opt.name in BY_NAME:
            hint = f"{opt.name} is an option of pipguard {' and '.join(BY_NAME[opt.name].commands)}"
        else:
            import difflib

            choices = [o.name for o in for_command(cl.command)] + sorted(
                GENERAL | (KNOWN if cl.command == "plan" else frozenset()))
            close = difflib.get_close_matches(opt.name, choices, n=1, cutoff=0.8)
            hint = f"did you mean {close[0]}?" if close else hint
        raise UsageError(f"pipguard {cl.command} has no option {opt.name}", hint=hint)


def misspelt(name: str) -> str | None:
    """The option of pipguard's that ``name`` is a close misspelling of, if any."""
    if not name.startswith("--") or name in BY_NAME or is_pips(name):
        return None
    import difflib

    near = difflib.get_close_matches(name, EVERYWHERE, n=1, cutoff=MISSPELLING)
    return near[0] if near else None
