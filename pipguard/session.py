"""A session: what every planning command works with, gathered once.

The settings (:mod:`pipguard.options`), the target interpreter, the hardware
(detected, then overridden), the knowledge tables; the index client is made on
first use (it touches no network until a page is asked for).
:func:`pipguard.commands.planning.open_session` gathers one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from pipguard.cache import cache_dir
from pipguard.errors import UsageError
from pipguard.hardware import Hardware
from pipguard.index import IndexClient
from pipguard.interpreter import (
    choose_python,
    inspect_interpreter,
    pip_command,
    running_pip_version,
)
from pipguard.knowledge import Knowledge
from pipguard.knowledge_tables import load_knowledge
from pipguard.options import Settings, parse_python_version
from pipguard.pipargs import CommandLine
from pipguard.pipconfig import constraint_files, network_settings, start_pip_config
from pipguard.reqfiles import Wanted, read_wanted
from pipguard.target import Interpreter, cross_target


def find_target(s: Settings, cl: CommandLine | None = None) -> Interpreter:
    """The target interpreter, made a cross target by pip's ``--platform`` and the like."""
    interp = inspect_interpreter(choose_python(s.python, (s.virtual_env, s.conda_prefix)))
    if cl is None:
        return interp
    platforms = cl.options("--platform")
    pyver = cl.options("--python-version")
    abis = cl.options("--abi")
    if platforms or pyver or abis:
        interp = cross_target(interp, platforms=platforms, abis=abis,
                              python_version=parse_python_version(pyver[-1]) if pyver else None)
    return interp


def load_tables(s: Settings) -> Knowledge:
    """The knowledge tables, with the user's file merged in when one is named."""
    return load_knowledge(s.knowledge_file)


@dataclass
class Session:
    """The parsed command line and everything a planning command needs."""

    cl: CommandLine
    settings: Settings
    interp: Interpreter
    hw: Hardware
    kn: Knowledge
    _client: IndexClient | None = field(default=None, repr=False)
    _pip_config: dict[str, tuple[str, str]] | None = field(default=None, repr=False)
    _pip_config_answer: Callable[[], dict[str, tuple[str, str]]] | None = field(
        default=None, repr=False)
    _wanted: Wanted | None = field(default=None, repr=False)

    def ask_pip_config(self) -> None:
        """Start asking pip for its configuration now (it answers in the background)."""
        if self._pip_config is None and self._pip_config_answer is None:
            s, interp = self.settings, self.interp
            if s.pip_config_inert:  # nothing to ask: no key, no cache folder to look up
                self._pip_config_answer = dict
                return
            key = {"pip": list(self.pip), "prefix": interp.prefix, "pip_version":
                   running_pip_version(interp), "env": [list(kv) for kv in s.pip_config_env]}
            self._pip_config_answer = start_pip_config(
                self.pip, self.cl, False, key=key,
                cache_root=s.cache_dir if s.cache_dir is not None else cache_dir())

    @property
    def pip_config(self) -> dict[str, tuple[str, str]]:
        """pip's merged configuration (files and ``PIP_*``), asked of pip once (none when
        pip's configuration is inert)."""
        if self._pip_config is None:
            self.ask_pip_config()
            assert self._pip_config_answer is not None
            self._pip_config = self._pip_config_answer()
        return self._pip_config

    @property
    def wanted(self) -> Wanted:
        """What the command line names, with every constraint file pip reads (bad
        requirements are usage errors here); read once per command."""
        if self._wanted is None:
            cl = self.cl
            self._wanted = read_wanted(
                [p for p in cl.positionals() if p != "--"],
                cl.options("-r", "--requirement"),
                [*self.constraint_files, *cl.options("-c", "--constraint")],
                cl.options("-e", "--editable"),
                pre=cl.has("--pre"),
            )
        return self._wanted

    @property
    def constraint_files(self) -> tuple[str, ...]:
        """Every constraint file pip reads besides the command line's ``-c``."""
        return tuple(dict.fromkeys((*constraint_files(self.pip_config),
                                    *self.settings.constraint_files)))

    @property
    def client(self) -> IndexClient:
        """The torch index client (made on first use; no request until a page is read)."""
        if self._client is None:
            s = self.settings
            remote = s.torch_index_url.lower().startswith(("https:", "http:"))
            # pip's network settings (asks pip) only when pipguard will use the network.
            net = network_settings(
                self.cl, self.pip, env=s.network_env, inert=s.pip_config_inert,
                pip_version=self.interp.pip_version, python=self.interp.version,
                conf=self.pip_config,
            ) if remote and not s.offline else None
            if net is not None and net.cert and not os.path.exists(net.cert):
                # As pip would, and before any request: with a fresh page cache there may
                # be none at all, and pip itself would still fail on it.
                raise UsageError(f"cannot read the CA bundle {net.cert}: no such file",
                                 hint="point --cert (or PIP_CERT) at a PEM file of CA "
                                      "certificates")
            # Files without one of the target's tags are dropped by name before they are
            # parsed (when nothing fits, planning asks again with every file in view).
            self._client = IndexClient(s.torch_index_url, s.channel, offline=s.offline,
                                       cache_dir=s.cache_dir, network=net,
                                       fresh_for=s.fresh_for, refresh=s.refresh,
                                       tags=self.interp.tags)
        return self._client

    @property
    def family(self) -> frozenset[str]:
        return self.kn.family()

    @property
    def pip(self) -> list[str]:
        """How pip is run for the target."""
        return pip_command(self.interp)
