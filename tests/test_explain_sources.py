"""explain on the wordings of ``fixtures/explain/templates.json`` read a second time: what
each new reading answers beyond its category (the fix, the Python it picks) and the near
misses that must not trigger it.

The texts are messages as uv, transformers, vLLM, xFormers, Triton and bitsandbytes print
them (the string is in the file the comment names); the template test checks their
categories, these check the rest.
"""

from __future__ import annotations

import pytest

from pipguard.explain import explain
from pipguard.explain_doc import Context
from pipguard.findings import Finding
from pipguard.knowledge_tables import load_knowledge

REAL = load_knowledge()


def first(text: str, platform: str | None = "linux") -> Finding | None:
    found = explain(text, Context(facts=REAL, platform=platform, wording="auto"))
    return found[0] if found else None


# uv's derivation when torch's Requires-Python leaves this interpreter (or a project's
# requires-python range) out: crates/uv-resolver's PubGrub report
_UV_PY = ("  × No solution found when resolving dependencies:\n  ╰─▶ Because the {who} Python "
          "version ({py}) does not satisfy Python{need} and {pkg} depends on Python{need}, we "
          "can conclude that {what} cannot be used.\n      And because you require {what}, we "
          "can conclude that your requirements are unsatisfiable.")


@pytest.mark.parametrize(("who", "py", "need", "pkg", "what", "fix"), [
    ("current", "3.8.18", ">=3.9.0", "torch==2.6.0", "torch==2.6.0",
     "uv pip install --python 3.9 torch==2.6.0"),
    ("current", "3.13.1", ">=3.8,<3.13", "all versions of torch", "torch",
     "uv pip install --python 3.12 torch"),  # (the nearest Python in range, not the lowest)
])
def test_uvs_python_derivation_is_no_build_for_this_python(
        who: str, py: str, need: str, pkg: str, what: str, fix: str) -> None:
    f = first(_UV_PY.format(who=who, py=py, need=need, pkg=pkg, what=what))
    assert f is not None and f.category == "no-matching-distribution"
    assert f"Python {need}" in f.message and f.fix == fix


def test_uvs_python_derivation_for_a_projects_range_is_a_conflict() -> None:
    # uv locks for the whole requires-python range: Poetry's "python property" case, a conflict
    f = first(_UV_PY.format(who="requested", py=">=3.8", need=">=3.9.0", pkg="torch==2.6.0",
                            what="torch==2.6.0"))
    assert f is not None and f.category == "resolver-conflict" and "requires-python" in f.message
    assert f.fix == "uv add \"torch==2.6.0; python_full_version >= '3.9.0'\""


def test_uvs_python_derivation_wrapped_and_through_a_dependency() -> None:
    f = first("  × No solution found when resolving dependencies:\n  ╰─▶ Because the current "
              "Python version (3.8.18) does not satisfy\n      Python>=3.9 and networkx==3.3 "
              "depends on Python>=3.9, we can conclude that networkx==3.3 cannot be used.\n"
              "      And because torch==2.4.0 depends on networkx==3.3 and you require "
              "torch==2.4.0, we can conclude that your requirements are unsatisfiable.")
    assert f is not None and f.category == "no-matching-distribution"
    assert "through networkx==3.3" in f.message  # (the fix installs what the user asked for)
    assert f.fix == "uv pip install --python 3.9 torch==2.4.0"


def test_uv_tool_install_gets_its_own_python_option() -> None:
    f = first("$ uv tool install cbdep\n" + _UV_PY.format(
        who="current", py="3.9.6", need=">=3.10", pkg="cbdep==1.2", what="cbdep==1.2"))
    assert f is not None and f.fix == "uv tool install --python 3.10 cbdep==1.2"


def test_uvs_conflict_between_two_packages_stays_a_conflict() -> None:
    f = first("  × No solution found when resolving dependencies:\n  ╰─▶ Because "
              "torchvision==0.18.0 depends on torch==2.3.0 and you require torch==2.1.0, we "
              "can conclude that you require torchvision!=0.18.0.\n      And because you require "
              "torchvision==0.18.0, we can conclude that your requirements are unsatisfiable.")
    assert f is not None and f.category == "resolver-conflict"


@pytest.mark.parametrize("text", [
    # vLLM's dtype check (vllm/platforms/cuda.py)
    "ValueError: Bfloat16 is only supported on GPUs with compute capability of at least 8.0. "
    "Your Tesla T4 GPU has compute capability 7.5. You can use float16 instead by explicitly "
    "setting the`dtype` flag in CLI, for example: --dtype=half.",
    # xFormers' operator dispatch (xformers/ops/fmha/common.py)
    "NotImplementedError: No operator found for `memory_efficient_attention_forward` with "
    "inputs:\n     query       : shape=(1, 4096, 8, 64) (torch.float16)\n`fa2F@2.5.7-pt` is not "
    "supported because:\n    requires device with capability >= (8, 0) but your GPU has "
    "capability (7, 5) (too old)",
    # Triton's fp8 type on a GPU before sm_89
    "triton.compiler.errors.CompilationError: at 1:0:\ndef fused_moe_kernel(\n^\nValueError("
    "\"type fp8e4nv not supported in this architecture. The supported fp8 dtypes are "
    "('fp8e4b15', 'fp8e5')\")",
])
def test_a_feature_the_gpu_is_too_old_for(text: str) -> None:
    f = first(text)
    assert f is not None and f.category == "gpu-arch-unsupported"
    assert "too old for" in f.message and "compute capability" in f.fix
    assert "install" not in f.fix  # (no build adds the feature: reinstalling is no fix)


def test_an_xformers_build_without_its_kernels_is_the_companion_not_the_gpu() -> None:
    f = first("NotImplementedError: No operator found for `memory_efficient_attention_forward` "
              "with inputs:\n`fa2F@2.5.7-pt` is not supported because:\n    requires device "
              "with capability >= (8, 0) but your GPU has capability (7, 5) (too old)\n"
              "`cutlassF` is not supported because:\n    xFormers wasn't build with CUDA support")
    assert f is not None and f.category == "companion-mismatch"


@pytest.mark.parametrize(("text", "need"), [
    # transformers/utils/import_utils.py
    ("Disabling PyTorch because PyTorch >= 2.4 is required but found 2.1.2+cu118", "2.4"),
    ("ValueError: Due to a serious vulnerability issue in `torch.load`, even with "
     "`weights_only=True`, we now require users to upgrade torch to at least v2.6 in order to "
     "use the function. This version restriction does not apply when loading files with "
     "safetensors.", "2.6"),
])
def test_transformers_needing_a_newer_torch(text: str, need: str) -> None:
    f = first(text)
    assert f is not None and f.category == "companion-mismatch"
    assert f.fix == f'pipguard install --upgrade "torch>={need}"'


def test_transformers_needing_a_newer_torch_upgrades_the_companions_it_shows() -> None:
    f = first("torch                    2.5.1+cu118\ntorchvision              0.20.1+cu118\n"
              "ValueError: Due to a serious vulnerability issue in `torch.load`, even with "
              "`weights_only=True`, we now require users to upgrade torch to at least v2.6 in "
              "order to use the function.")
    assert f is not None and f.fix == 'pipguard install --upgrade "torch>=2.6" torchvision'


def test_bitsandbytes_banner_without_its_name_is_bitsandbytes() -> None:
    # bitsandbytes/cextension.py: no binary of its wheel for torch's CUDA
    f = first("RuntimeError: \n🚨 CUDA VERSION MISMATCH 🚨\nRequested CUDA version:          "
              "13.0\nDetected PyTorch CUDA version:   13.0\nAvailable pre-compiled versions: \n"
              "  - 11.8\n  - 12.1")
    assert f is not None and f.category == "companion-mismatch"
    assert f.fix == "pipguard install --upgrade bitsandbytes"


def test_zipfiles_eoferror_reading_a_users_archive_is_not_an_install() -> None:
    f = first("Traceback (most recent call last):\n  File \"train.py\", line 9, in <module>\n"
              "    data = load('images.zip')\n  File \"/usr/lib/python3.11/zipfile.py\", line "
              "1058, in _read2\n    raise EOFError\nEOFError")
    assert f is None or f.category != "download-integrity"


def test_a_pip_frame_is_what_makes_zipfiles_eoferror_an_install() -> None:
    # ("pipeline" and a dataset's "Downloading" are not pip downloading a wheel)
    f = first("Downloading data: 100%|##########| 1.2G/1.2G\n  File \"/home/u/proj/pipeline.py\","
              " line 3, in <module>\n    np.load('features.npz')\n  File \"/usr/lib/python3.11/"
              "zipfile.py\", line 1058, in _read2\n    raise EOFError\nEOFError")
    assert f is None or f.category != "download-integrity"


def test_xformers_refusing_one_operator_for_the_gpus_age_is_not_the_gpus_fault() -> None:
    # fa3 needs 9.0 on an RTX 3090, but cutlass is refused for another reason: not the age
    f = first("NotImplementedError: No operator found for `memory_efficient_attention_forward` "
              "with inputs:\n`fa3F@0.0.0` is not supported because:\n    requires device with "
              "capability > (9, 0) but your GPU has capability (8, 6) (too old)\n`cutlassF-pt` "
              "is not supported because:\n    attn_bias.stride(-2) % 4 != 0")
    assert f is None or f.category != "gpu-arch-unsupported"


def test_an_xformers_warning_does_not_hide_vllms_bfloat16_refusal() -> None:
    found = explain("WARNING[XFORMERS]: xFormers can't load C++/CUDA extensions. xFormers was "
                    "built for:\n    PyTorch 2.1.0+cu121 with CUDA 1201 (you have 2.2.0+cu121)\n"
                    "ValueError: Bfloat16 is only supported on GPUs with compute capability of "
                    "at least 8.0. Your Tesla T4 GPU has compute capability 7.5.",
                    Context(facts=REAL, wording="auto"))
    assert any(f.category == "gpu-arch-unsupported" and "Tesla T4" in f.message for f in found)


def test_a_gpu_vllm_does_not_support_at_all_is_not_offered_float16() -> None:
    f = first("ValueError: Bfloat16 is only supported on GPUs with compute capability of at "
              "least 8.0. Your Tesla P100-PCIE-16GB GPU has compute capability 6.0.\n"
              "RuntimeError: GPUs with compute capability below 7.0 are not supported.")
    assert f is not None and f.category == "gpu-arch-unsupported" and "float16" not in f.fix


def test_deepspeeds_pascal_warning_is_not_a_finding() -> None:
    # printed by every ds_report on an older GPU: a warning, not the failure
    f = first(" [WARNING]  NVIDIA Inference is only supported on Pascal and newer architectures"
              "\nImportError: /x/site-packages/deepspeed/ops/adam/fused_adam_op.so: undefined "
              "symbol: _ZN3c104cuda20CUDACachingAllocator9allocatorE")
    assert f is not None and f.category == "companion-mismatch"


def test_torchs_own_source_line_in_a_notebook_traceback_is_not_the_error() -> None:
    found = explain("File /opt/conda/lib/python3.10/site-packages/torch/cuda/__init__.py:306, "
                    "in _lazy_init()\n    305 if not hasattr(torch._C, '_cuda_getDeviceCount'):"
                    "\n--> 306     raise AssertionError(\"libcudart functions unavailable. It "
                    "looks like you have a broken build?\")\nRuntimeError: Found no NVIDIA "
                    "driver on your system.", Context(facts=REAL, wording="auto"))
    assert [f.category for f in found] == ["gpu-build-without-gpu"]


def test_bitsandbytes_forced_to_another_cuda_by_its_variable() -> None:
    f = first("RuntimeError: \n🚨 CUDA VERSION MISMATCH 🚨\nRequested CUDA version:          "
              "12.2\nDetected PyTorch CUDA version:   12.4\nAvailable pre-compiled versions: \n"
              "  - 11.8\n  - 12.4")
    assert f is not None and f.category == "companion-mismatch"
    assert f.fix == "unset BNB_CUDA_VERSION"
