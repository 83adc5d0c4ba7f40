"""``pipguard explain``: turn failure text into findings (cause and fix).

Input is whatever a user pastes: pip or uv output, a Python traceback, a warning
printed by torch, ``collect_env`` output, a Docker build log. Each rule keys on
the *decisive signal* of one failure class (the sentence pip, uv, torch or numpy
prints for it, not a memorised example), parses what that sentence names
(requirements, versions, capabilities, library paths) with :mod:`packaging`, and
asks the knowledge tables the caller passes in the context to sharpen the diagnosis.
Text no rule recognises gives what it still shows (``torch.cuda.is_available()`` False: a
warning, :data:`pipguard.explain_cpubuild.LAST_RESORT`), the probable cause its failing line
names, or the category its words lean to (an ``info`` finding, :mod:`pipguard.explain_hints`, where
nothing in it succeeded; the word model comes in through the context, like the tables), else
``()``. No I/O happens here.

This module is the framework (rule order, a second reading of wrapped pastes, merging);
a paste is read as the tool printed it by :mod:`pipguard.explain_paste`; the rules live in
:mod:`pipguard.explain_resources` (memory and disk), :mod:`pipguard.explain_confusion`
(a package from the wrong project or index), :mod:`pipguard.explain_install` (downloading,
resolving), :mod:`pipguard.explain_nomatch` (no matching
distribution), :mod:`pipguard.explain_target` (a build for another interpreter or machine,
and a project's Python range),
:mod:`pipguard.explain_gpu` (the build against the GPU and driver),
:mod:`pipguard.explain_cpubuild` (a CPU-only build where a GPU build was meant),
:mod:`pipguard.explain_gpufeatures` (a GPU too old for a feature the code asks for),
:mod:`pipguard.explain_runtime` (compiled code failing to load),
:mod:`pipguard.explain_companions` (a companion that does not fit the installed torch),
:mod:`pipguard.explain_api` (code written for another release of torch's API) and
:mod:`pipguard.explain_pydeps` (NumPy's ABI, typing_extensions); the wording of fixes for uv
and Poetry in :mod:`pipguard.explain_wording`, a probable cause where no rule fires in
:mod:`pipguard.explain_hints`, the context
(:class:`pipguard.explain_doc.Context`, with the tables as
:class:`pipguard.explain_doc.ExplainFacts`) and shared helpers in
:mod:`pipguard.explain_doc`.
"""

from __future__ import annotations

from dataclasses import replace

from pipguard import (
    explain_api,
    explain_companions,
    explain_confusion,
    explain_cpubuild,
    explain_gpu,
    explain_gpufeatures,
    explain_hints,
    explain_install,
    explain_nomatch,
    explain_pydeps,
    explain_resources,
    explain_runtime,
    explain_target,
)
from pipguard.explain_doc import Context, Doc, Rule
from pipguard.explain_paste import clean, rereadings, trimmed
from pipguard.explain_wording import word_for
from pipguard.findings import SEVERITIES, Finding

__all__ = ["RULES", "clean", "explain"]


# The order is how decisive a signal is when several appear: causes before their symptoms
# (the install rules all come first).
RULES: tuple[Rule, ...] = (
    *explain_resources.RULES, *explain_confusion.RULES, *explain_install.BEFORE_NO_MATCH,
    *explain_target.RULES, explain_nomatch.no_matching_distribution,
    explain_target.built_from_source,
    *explain_install.AFTER_NO_MATCH,
    *explain_gpu.RULES, *explain_cpubuild.RULES, *explain_gpufeatures.RULES,
    *explain_runtime.LIBRARIES,
    *explain_companions.RULES, *explain_api.RULES,
    *explain_runtime.DAMAGE, *explain_pydeps.RULES,
)


def explain(text: str, context: Context) -> tuple[Finding, ...]:
    """Diagnose failure ``text``: findings, most decisive first, deduplicated.

    ``context`` carries the knowledge tables (``Context(facts=knowledge)``) and what is
    known about the machine; the caller loads them, this does no I/O.
    """
    doc = Doc(trimmed(clean(text)), context)
    found = _read(doc)
    again = [] if _decided(found) else [Doc(t, context) for t in rereadings(doc.text)]
    for other in again:  # wrapped: a sentence spans rows (its error before a row's warning)
        if _decided(reread := _read(other)) or not found:
            found = reread
        if _decided(found):
            break
    if not _decided(found):  # what the failure still shows
        for other in (doc, *again):  # (after any rule's warning)
            if last := _read(other, explain_cpubuild.LAST_RESORT):
                found += [(level, len(RULES) + rank, f) for level, rank, f in last]
                break
    if not found:  # ... or names, or its words lean to: a probable cause
        found = _read(doc, explain_hints.RULES)
    out: dict[tuple[str, str], Finding] = {}
    tool = doc.installer() if context.wording == "auto" else "pip"
    for _, _, f in sorted(found, key=lambda t: (t[0], t[1])):
        out.setdefault((f.category, f.message), replace(f, fix=word_for(tool, f.fix)))
    return tuple(out.values())


def _decided(found: list[tuple[int, int, Finding]]) -> bool:
    """Some rule found an error: the reading stands."""
    return any(f.severity == "error" for _, _, f in found)


def _read(doc: Doc, rules: tuple[Rule, ...] = RULES) -> list[tuple[int, int, Finding]]:
    return [(SEVERITIES.index(f.severity), rank, f)
            for rank, rule in enumerate(rules) for f in rule(doc)]
