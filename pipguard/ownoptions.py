"""pipguard's own options and environment variables: the one table that parsing and help read.

:mod:`pipguard.pipargs` takes these options off the command line (pip never sees
them) and :mod:`pipguard.helptext` lists them; :mod:`pipguard.options` reads
their values. An option applies to every command (``commands`` empty) or only to
the commands named.
"""

from __future__ import annotations

from dataclasses import dataclass

# Commands pipguard handles; every other command is pip's, passed through unchanged.
WRAPPED_COMMANDS = ("install", "download", "wheel", "lock")  # pip's, planned and guarded
OWN_COMMANDS = ("detect", "plan", "verify", "doctor", "explain", "alias", "sync",
                "mirror")  # pipguard's only
PIPGUARD_COMMANDS = frozenset((*WRAPPED_COMMANDS, *OWN_COMMANDS))


@dataclass(frozen=True)
class OwnOption:
    """One option of pipguard's: its name, its value's name ("" for a flag), its variable."""

    name: str
    metavar: str
    variable: str
    help: str
    commands: tuple[str, ...] = ()  # empty: every command

    def applies_to(self, command: str | None) -> bool:
        return not self.commands or command is None or command in self.commands


_OUTPUT = ("detect", "plan", *WRAPPED_COMMANDS, "verify", "doctor", "explain")

OPTIONS = (
    OwnOption("--cuda-driver", "VERSION", "PIPGUARD_CUDA_DRIVER",
              "plan for this NVIDIA driver instead of the detected one"),
    OwnOption("--gpu-arch", "LIST", "PIPGUARD_GPU_ARCH",
              "plan for these GPUs: sm_86, 8.6 or gfx1100, comma-separated"),
    OwnOption("--torch-backend", "NAME|auto", "PIPGUARD_TORCH_BACKEND",
              "force a variant: cpu, cu126, rocm6.4, xpu"),
    OwnOption("--torch-index-url", "URL", "PIPGUARD_TORCH_INDEX_URL",
              "the torch index (default https://download.pytorch.org/whl; mirrors, file://)"),
    OwnOption("--torch-channel", "NAME", "PIPGUARD_TORCH_CHANNEL",
              "stable (default), test (release candidates) or nightly"),
    OwnOption("--offline", "", "PIPGUARD_OFFLINE", "plan from the cache only (variable: 1/0)"),
    OwnOption("--refresh", "", "", "ask the index again even for pages cached less than "
              "PIPGUARD_FRESH_FOR seconds ago", ("plan", *WRAPPED_COMMANDS)),
    OwnOption("--installer", "pip|uv|auto", "PIPGUARD_INSTALLER",
              "who installs once the guard has checked pip's resolution: pip (default), uv "
              "(`uv pip install`), auto (uv when it is found)", ("install",)),
    OwnOption("--knowledge-file", "FILE", "PIPGUARD_KNOWLEDGE_FILE",
              "a JSON file that overrides or extends the knowledge tables"),
    OwnOption("--json", "", "",
              "print the result as JSON (install, download, wheel, lock: with --dry-run)", _OUTPUT),
    OwnOption("--deep", "", "", "also import torch in the target (in a subprocess, with a "
              "timeout)", ("doctor",)),
    OwnOption("--all", "", "", "verify every installed distribution, not just the torch family",
              ("verify",)),
    OwnOption("--verify", "quick|full", "PIPGUARD_VERIFY",
              "after installing: quick (default) checks each file's presence and RECORD size "
              "(pip has just checked each archive's hash); full hashes every file",
              ("install", "sync")),
    OwnOption("--full", "", "", "hash every file, even one unchanged since an earlier check "
              "matched its hash", ("verify", "doctor")),
)

# Variables without an option.
VARIABLES = (
    ("PIPGUARD_CACHE_DIR", "where index pages are cached (default: the user cache folder)"),
    ("PIPGUARD_SYSROOT", "read detection's files under this root (default /)"),
    ("PIPGUARD_FRESH_FOR", "seconds an index page cached by an earlier plan is used without "
                           "asking the index again (default 600; --refresh asks anyway)"),
)

# pip's options that mean something to pipguard too (pip still gets them).
SHARED = (
    ("--python PATH", "the target interpreter or virtual environment (pip's own option)"),
    ("-q, --quiet", "quieter: pipguard says only warnings and errors (pip gets it too)"),
    ("-v, --verbose", "more detail, such as the full pip command line (pip gets it too)"),
)

# The fleet commands' options (`lock --variant/--for`, `mirror --to`, `sync`): they take a
# value wherever they stand and stay on the command line, where those commands read them
# (repeatable: `--for A --for B`); other options these commands accept besides pip's general.
FLEET_VALUE_OPTIONS = frozenset({"--variant", "--for", "--to"})
COMMAND_EXTRAS = {
    "sync": frozenset({"--force-reinstall", "--dry-run"}),
    "mirror": frozenset({"--to"}),
}

BY_NAME = {o.name: o for o in OPTIONS}
VALUE_OPTIONS = frozenset(o.name for o in OPTIONS if o.metavar)
FLAGS = frozenset(o.name for o in OPTIONS if not o.metavar)
# Options of every command: a close misspelling of one is an error anywhere.
EVERYWHERE = tuple(o.name for o in OPTIONS if not o.commands)


def for_command(command: str | None) -> tuple[OwnOption, ...]:
    """The options that apply to ``command``."""
    return tuple(o for o in OPTIONS if o.applies_to(command))
