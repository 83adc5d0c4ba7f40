"""Help: pipguard's commands and, from the one table (:mod:`pipguard.ownoptions`), its options.

For the pip commands pipguard wraps, the CLI prints pip's own help first and
:func:`options_section` after it.
"""

from __future__ import annotations

from pipguard.ownoptions import OWN_COMMANDS, SHARED, VARIABLES, WRAPPED_COMMANDS, for_command

_PIP_ARGS = "[REQUIREMENT ...] [-r FILE] [pip's options]"

# command -> (its arguments, what it does)
COMMANDS = {
    "detect": ("[--json]", "show the accelerators found, and how"),
    "plan": (f"{_PIP_ARGS} [--json]",
             "show which torch build `pipguard install ARGS` would take, and why "
             "(changes nothing; takes what pip install takes)"),
    "install": (_PIP_ARGS, "pip install, with the torch family pinned to the build that "
                "fits this machine, then verified"),
    "download": (_PIP_ARGS, "pip download, with the torch family's files from the torch index"),
    "wheel": (_PIP_ARGS, "pip wheel, with the torch family's files from the torch index"),
    "lock": (f"{_PIP_ARGS} [--for SPEC ... | --variant LIST] [-o DIR]",
             "pip lock, with the torch family's files from the torch index; with --for "
             "(\"driver=580,arch=9.0\", \"arch=7.0\", cpu) or --variant (cu130,cu126,cpu): "
             "one pylock.<class>.toml per class of machines"),
    "verify": ("[NAME ...] [--all] [--full] [--json]",
               "check installed files against their RECORD (default: the torch family; a "
               "file unchanged since an earlier check matched is not read again)"),
    "doctor": ("[--deep] [--full] [--json]", "find what is wrong with the torch environment"),
    "explain": ("[FILE] [--json]", "diagnose a failure text (standard input without FILE)"),
    "alias": ("bash|zsh|fish|powershell",
              "print the lines that make `pip` mean `pipguard` in that shell"),
    "sync": ("LOCKS ... [--force-reinstall] [--dry-run]",
             "install the lock (file or folder of pylock.*.toml) that fits this machine, "
             "hash-checked with nothing resolved again, then verify"),
    "mirror": ("LOCKS ... --to DIR",
               "copy the files the locks need into DIR as a torch index (whl/<variant>/) and "
               "a PEP 503 index (simple/), for any static web server"),
}

_WIDTH = 30  # where the descriptions start
_LINE = 100


def _row(left: str, right: str) -> str:
    """``left`` then ``right`` wrapped in the column at ``_WIDTH`` (as pip's own help looks)."""
    import textwrap

    lines = textwrap.wrap(right, _LINE - _WIDTH, break_on_hyphens=False) or [""]
    left = f"  {left}"
    head = f"{left}\n{' ' * _WIDTH}" if len(left) >= _WIDTH - 1 else left.ljust(_WIDTH)
    return head + f"\n{' ' * _WIDTH}".join(lines) + "\n"


def overview(version: str) -> str:
    """``pipguard --help``, after pip's own: the commands, then the options of every command."""
    out = [f"\npipguard {version} commands (besides every pip command, which passes through):\n"]
    out += [_row(name, COMMANDS[name][1]) for name in (*OWN_COMMANDS, *WRAPPED_COMMANDS)]
    out.append("\n" + options_section(None))
    out.append("\n`pipguard help COMMAND` (or `pipguard COMMAND --help`) shows one command.\n")
    return "".join(out)


def command_help(command: str) -> str:
    """The whole help of one of pipguard's own commands."""
    args, what = COMMANDS[command]
    return (f"usage: pipguard {command} {args}\n\n{what[0].upper()}{what[1:]}.\n\n"
            + options_section(command))


def options_section(command: str | None) -> str:
    """pipguard's options (for ``command``, or those of every command) and variables."""
    title = "pipguard options" + (f" (of {command})" if command else " (of every command)")
    out = [f"{title}:\n"]
    for o in for_command(command):
        if command is None and o.commands:
            continue
        var = f" [{o.variable}]" if o.variable else ""
        out.append(_row(f"{o.name} {o.metavar}".rstrip(), o.help + var))
    out += [_row(name, text) for name, text in SHARED]
    out.append("environment:\n")
    out += [_row(var, text) for var, text in VARIABLES]
    return "".join(out)
