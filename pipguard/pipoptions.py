"""pip's own option names (pip 23.0 … 26.x), for telling pip's options from pipguard's.

pipguard hands pip's options to pip untouched; it needs their names only to know
which take a value (:mod:`pipguard.pipargs`) and to be sure that a close
misspelling of one of pipguard's options is never one of pip's real options.
The flags were read from pip 23.0.1, 23.2.1 and 24.2 (every command's parser);
the value options include the newer pips' (``--group``, ``--uploaded-prior-to``).
"""

from __future__ import annotations

# pip's general options that take a value.
GLOBAL_VALUE_OPTS = frozenset(
    {
        "--python", "--log", "--log-file", "--local-log", "--keyring-provider", "--proxy",
        "--retries", "--timeout", "--default-timeout", "--exists-action", "--trusted-host",
        "--cert", "--client-cert", "--cache-dir", "--use-feature", "--use-deprecated",
        "--resume-retries",
    }
)  # fmt: skip

# pip's general options without a value (accepted before or after any command).
GLOBAL_FLAGS = frozenset(
    {
        "-h", "--help", "--debug", "--isolated", "--require-virtualenv", "--require-venv",
        "-v", "--verbose", "-V", "--version", "-q", "--quiet", "--no-input", "--no-cache-dir",
        "--disable-pip-version-check", "--no-color", "--no-python-version-warning",
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
        "--destination-dir", "--destination-directory", "-a", "--algorithm", "--index",
        "--pypi-url", "--source", "--source-dir", "--source-directory",
    }
)  # fmt: skip

# Options of pip's commands without a value.
COMMAND_FLAGS = frozenset(
    {
        "--all", "--bash", "--break-system-packages", "--check-build-dependencies",
        "--compile", "--dry-run", "--exclude-editable", "--files", "--fish",
        "--force-reinstall", "--global", "--ignore-installed", "--ignore-requires-python",
        "--include-editable", "--local", "--no-build-isolation", "--no-clean",
        "--no-compile", "--no-dependencies", "--no-deps", "--no-index", "--no-use-pep517",
        "--no-user", "--no-verify", "--no-warn-conflicts", "--no-warn-script-location",
        "--not-required", "--outdated", "--powershell", "--pre", "--prefer-binary",
        "--require-hashes", "--site", "--upgrade", "--uptodate", "--use-pep517", "--user",
        "--yes", "--zsh", "--json", "-I", "-U", "-b", "-l", "-p", "-u", "-y", "-z",
    }
)  # fmt: skip

GENERAL = GLOBAL_VALUE_OPTS | GLOBAL_FLAGS
KNOWN = GENERAL | COMMAND_VALUE_OPTS | COMMAND_FLAGS


def is_pips(name: str) -> bool:
    """Whether ``name`` is one of pip's options or, as pip's parser allows, a prefix of one."""
    return name in KNOWN or (name.startswith("--") and len(name) > 3
                             and any(o.startswith(name) for o in KNOWN))
