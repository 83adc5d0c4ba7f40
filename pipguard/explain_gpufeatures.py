"""``explain`` rule for a GPU too old for a feature the code asks for (gpu-arch-unsupported).

bfloat16, fp8, FlashAttention, a cuBLAS routine, a DeepSpeed op: each needs a compute
capability that no torch build gives an older GPU, so the fix is a feature the GPU has (or
a newer GPU), never a reinstall; a build without the GPU's kernels is
:mod:`pipguard.explain_gpu`'s. The framework (:mod:`pipguard.explain`) runs it after that
module's rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipguard.explain_doc import Doc, Rule, cuda_false
from pipguard.findings import Finding
from pipguard.variants import cc_of

# A feature the code asks for that no torch build adds to an older GPU, as the library says it:
# (its words, the feature, what to use instead, the compute capability it needs where the
# words do not say it).
_FEATURES = (
    (r"GPUs with compute capability below (?P<need>\d+\.\d+) are not supported", "this vLLM",
     "a GPU it supports, or an older vLLM", None),
    (r"Bfloat16 is only supported on GPUs with compute capability of at least (?P<need>\d+\.\d+)"
     r"\. Your (?P<gpu>[^\n]{1,60}?) GPU has compute capability (?P<cc>\d+\.\d+)", "bfloat16",
     "float16 (vLLM: --dtype half)", None),
    (r"type fp8e4nv not supported in this architecture|fp8e4nv data type is not supported on "
     r"CUDA arch < 89", "fp8", "a float16 or bfloat16 model (no fp8 quantization)", "8.9"),
    (r"an absent device architectural feature is required", "the cuBLAS routine asked for "
     "(half precision, GemmEx)", "float32", None),
    (r"no compute capabilities remaining after filtering", "this DeepSpeed op (its builder keeps "
     "only newer capabilities)", "a GPU the op supports", None),
    (r"FlashAttention only supports (?:Ampere|Turing|Hopper)", "FlashAttention", "another "
     "attention implementation (PyTorch's sdpa, or eager)", None),
    # (text-generation-inference's flash-attention models; vLLM's quantization kernels;
    # SageAttention's kernels, as launchers pass its words on)
    (r"GPU with CUDA (?:is )?capability (?P<cc>\d{1,2} \d) is not supported", "this server's "
     "flash-attention kernels", "its non-flash models (slower)", None),
    (r"quantization method \w+ is not supported for the current GPU\. Minimum capability: "
     r"(?P<need>\d{2,3})\. Current capability: (?P<cc>\d{2,3})", "that quantization method's "
     "kernels", "another quantization (or none)", None),
    (r"Unsupported CUDA architecture: sm_?(?P<cc>\d{2,3})\b", "SageAttention's kernels",
     "another attention mode (PyTorch's sdpa)", None),
    # (transformers' TrainingArguments checking the GPU before training)
    (r"Your setup doesn't support bf16/gpu", "bfloat16 training", "fp16 or fp32 (--bf16 "
     "False; --fp16 True)", "8.0"),
    (r"--tf32 requires Ampere or a newer GPU arch", "TF32", "fp32 without TF32 (--tf32 False)",
     "8.0"),
    # (fp8 matrix multiplies: torch's _scaled_mm, Transformer Engine, launchers' own checks)
    (r"_scaled_mm is only supported on (?:CUDA )?devices with compute capability >= ?(?P<need>"
     r"\d+\.\d+)|(?:Device compute capability |FP8 models require a GPU with Compute Capability )"
     r"(?P<need2>\d+\.\d+) or higher(?: is)? required|FP8 models require a GPU with Compute "
     r"Capability \d+\.\d+ or higher", "fp8", "a float16 or bfloat16 model (no fp8)", "8.9"),
    # (CTranslate2, under faster-whisper and whisperX: its float16 kernels need Volta or newer)
    (r"Requested float16 compute type, but the target device or backend do not support "
     r"efficient float16 computation", "CTranslate2's float16", 'compute_type="float32" (or '
     '"int8")', "7.0"),
)


def _xformers_too_old(doc: Doc) -> re.Match[str] | None:
    """xFormers found no attention operator, each one refused for the GPU's age (FlashAttention
    and bf16 need 8.0): not a build of xFormers without its kernels (the companion's matter)."""
    heads = list(re.finditer(r"`[\w.@+-]{1,60}` is not supported because:", doc.text))
    ends = [h.start() for h in heads[1:]] + [len(doc.text)]
    if not heads or doc.find(r"wasn't buil[dt]|was built for|can't load C\+\+/CUDA|operator "
                             r"wasn't") or not all(
            re.search(r"\(too old\)|only supported on A100", doc.text[h.end():end][:600])
            for h, end in zip(heads, ends, strict=True)):
        return None
    return doc.find(r"requires device with capability \S{0,3} ?\((?P<need>\d+, ?\d+)\) but your "
                    r"GPU has capability \((?P<cc>\d+, ?\d+)\) \(too old\)|bf16 is only "
                    r"supported on A100")


# No CUDA GPU in use at all (a CPU build, CUDA not available, a Mac): a library's "this GPU
# cannot" check then speaks of no GPU (transformers says the same for bf16 either way).
_NO_CUDA = (r"\d\+cpu\b|not compiled with CUDA|\bmps\b|\bmacOS\b|darwin|\bdevice ?= ?[\"']cpu"
            r"[\"']|--device[= ]cpu\b")


def _feature_needs_newer_gpu(doc: Doc) -> Iterator[Finding]:
    hw = doc.ctx.hardware
    if doc.platform() == "darwin" or doc.find(_NO_CUDA) or cuda_false(doc) or (
            doc.installed("torch") or "").endswith("+cpu") or (
            hw is not None and (hw.accelerator != "nvidia" or not hw.gpus)):
        return
    found = [(m, what, instead, need) for rx, what, instead, need in _FEATURES
             if (m := doc.find(rx)) and not re.search(r"warn", doc.line(m), re.I)]  # (gone past)
    if xf := _xformers_too_old(doc):
        found.append((xf, "xFormers' attention operators", "float16 inputs (or PyTorch's "
                      "scaled_dot_product_attention)", "8.0"))
    if not found:
        return
    m, what, instead, need = found[0]
    said = {k: f"{c[0]}.{c[1]}" for k in ("need", "cc")
            if (c := cc_of(m.groupdict().get(k) or ""))}  # ("7, 5", "75", "12 0" as 7.5 ...)
    need, cc = said.get("need") or need, said.get("cc")
    said_cc = f" (compute capability {cc})" if cc else ""
    if float(cc or 0) >= 10 or (not cc and doc.find(r"\bsm_?1[0-2]\d\b|RTX 50\d0|Blackwell")):
        yield Finding("gpu-arch-unsupported", "error", f"this GPU{said_cc} is newer than the "
                      f"kernels of {what} in this build: install a release built for it (or "
                      "build it for this GPU)", doc.line(m),
                      f"use a build of it for this GPU, or {instead}")
        return
    yield Finding("gpu-arch-unsupported", "error",
                  f"{m.groupdict().get('gpu') or 'this GPU'}{said_cc} is too old for {what}" + (
                      f", which needs compute capability {need} or newer" if need else "")
                  + ": no torch build adds it; use what the GPU "
                  "supports, or a newer GPU", doc.line(m),
                  f"use {instead}, or a " + (f"GPU of compute capability {need}+" if need
                                              else "newer GPU"))


RULES: tuple[Rule, ...] = (_feature_needs_newer_gpu,)
