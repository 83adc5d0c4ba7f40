"""explain on the everyday forms of failures, each keyed on its decisive signal.

Short texts in the shapes real tools print (pip, uv, Poetry, the shell, Windows' loader);
each case names the signal it rests on, and a near miss that must not trigger it.
"""

from __future__ import annotations

import pytest

from pipguard.explain import explain
from pipguard.explain_doc import Context
from pipguard.findings import Finding
from pipguard.hardware import Gpu, Hardware
from pipguard.knowledge_tables import load_knowledge

REAL = load_knowledge()
NVIDIA = Hardware(accelerator="nvidia", driver_version="550.54", cuda_driver_api="12.4",
                  gpus=(Gpu("nvidia", "RTX 4090", "8.9"),))


def first(text: str, hardware: Hardware | None = None) -> Finding | None:
    found = explain(text, Context(facts=REAL, hardware=hardware, wording="auto"))
    return found[0] if found else None


def test_no_nvidia_driver_without_context_is_a_gpu_build_without_gpu() -> None:
    f = first("  File \"/x/torch/cuda/__init__.py\", line 229, in _lazy_init\n"
              "RuntimeError: Found no NVIDIA driver on your system. Please check that you "
              "have an NVIDIA GPU and installed a driver")
    assert f is not None and f.category == "gpu-build-without-gpu"
    assert f.fix.startswith("pipguard install --force-reinstall")


@pytest.mark.parametrize("text", [
    "RuntimeError: Found no NVIDIA driver on your system.",
    "    from torch._C import *\nImportError: libcuda.so.1: cannot open shared object file: No "
    "such file or directory",
])
@pytest.mark.parametrize("hardware", [None, NVIDIA])
def test_no_driver_at_all_is_not_an_old_driver(text: str, hardware: Hardware | None) -> None:
    """No driver visible (none loaded, a container without --gpus all) is a CUDA build with
    no usable GPU: updating a driver that is not there fixes nothing."""
    f = first(text, hardware)
    assert f is not None and f.category == "gpu-build-without-gpu"
    if hardware is None:  # the GPU may or may not be there: both remedies are named
        assert "--gpus all" in f.message and f.fix.startswith("pipguard install")
    else:  # the GPU is there: the driver or the container's view of it is missing
        assert "has an NVIDIA GPU" in f.message and f.fix == "pipguard detect"


def test_a_cpu_torch_stated_next_to_an_nvidia_gpu() -> None:
    f = first("- PyTorch: `2.11.0+cpu`\n- GPU: NVIDIA GeForce RTX 5080 (16 GB)\n"
              "- NVIDIA driver: `580.88`")
    assert f is not None and f.category == "cpu-build-on-gpu" and "2.11.0+cpu" in f.message
    assert first("- PyTorch: `2.11.0+cpu`\n- OS: Ubuntu 22.04") is None  # no GPU in sight


def test_uv_run_syncing_away_the_cuda_extra() -> None:
    text = ("> uv sync --locked --extra cuda\nResolved 288 packages in 1ms\n + torch==2.11.0+cu128"
            "\n> uv run python -m app\nUninstalled 2 packages in 771ms\nInstalled 2 packages")
    f = first(text)
    assert f is not None and f.category == "cpu-build-on-gpu"
    assert f.fix == "uv run --extra cuda python"
    assert first(text.replace("Uninstalled 2 packages", "Audited 2 packages")) is None


def test_torchao_skipping_its_extensions_for_another_torch() -> None:
    f = first("Skipping import of cpp extensions due to incompatible torch version 2.7.1+cu128 "
              "for torchao version 0.15.0 Please see https://github.com/pytorch/ao/issues/2919")
    assert f is not None and f.category == "companion-mismatch" and "torchao" in f.message


@pytest.mark.parametrize("text", [
    'Exception: You tried to install "pytorch". The package named for PyTorch is "torch"',
    "  raise Exception('You tried to install \"pytorch\". The package named for PyTorch is "
    "\"torch\"')",
])
def test_the_pytorch_placeholder_names_the_wrong_project(text: str) -> None:
    f = first(text)
    assert f is not None and f.category == "dependency-confusion"
    assert f.fix == "pipguard install torch"


@pytest.mark.parametrize("text", [
    "During the install process, due to the large size of torch you may hit:\n"
    "[Errno 28] No space left on device",
    "ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device",
])
def test_a_full_disk_while_installing(text: str) -> None:
    f = first(text)
    assert f is not None and f.category == "resource-exhausted" and "--no-cache-dir" in f.fix


def test_a_full_disk_in_a_users_program_is_not_an_install_problem() -> None:
    assert first("  File \"train.py\", line 3, in save\nOSError: [Errno 28] No space left on "
                 "device") is None


def test_killed_run_into_other_words_while_downloading() -> None:
    f = first("低内存机器安装时被Killed\nCollecting torch==1.11.0\n  Downloading torch-1.11.0-cp310"
              "-cp310-manylinux1_x86_64.whl (750.6 MB)\n     ━━━━━ 749.6/750.6 MB 41.3 MB/s")
    assert f is not None and f.category == "resource-exhausted"
    assert f.fix == "pipguard install --no-cache-dir torch==1.11.0"


def test_killed_in_prose_is_not_killed() -> None:
    f = first("Collecting torch\n  Downloading torch-2.3.0-cp311-cp311-linux_x86_64.whl (779 MB)"
              "\nthe job was killed by the scheduler")  # lower case: a person's word
    assert f is None or f.category != "resource-exhausted"


@pytest.mark.parametrize(("text", "installer_word"), [
    ("ConnectionError\nHTTPSConnectionPool(host='download.pytorch.org', port=443): Read timed "
     "out.", "pipguard"),
    (" × Failed to download `nvidia-cudnn-cu12==9.10.2.21`\n  ╰─▶ Failed to download "
     "distribution due to network timeout. Try increasing UV_HTTP_TIMEOUT", "uv"),
])
def test_a_download_that_timed_out(text: str, installer_word: str) -> None:
    f = first(text)
    assert f is not None and f.category == "download-integrity"
    words = [w for w in f.fix.split() if "=" not in w]  # after any VAR=value
    assert words[0] == installer_word


def test_a_timeout_of_a_model_download_is_not_an_install_problem() -> None:
    assert first("requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='huggingface.co', "
                 "port=443): Read timed out.") is None


@pytest.mark.parametrize("text", [
    "Downloading data: 100%|##########| 1.21G/1.21G [00:42<00:00, 28.6MB/s]\n"
    "zipfile.BadZipFile: File is not a zip file",
    "Downloading shards:  50%|#####     | 1/2 [01:10<01:10, 70.1s/it]\n"
    "requests.exceptions.ChunkedEncodingError: ('Connection broken: IncompleteRead(0 bytes "
    "read)', IncompleteRead(0 bytes read))",
])
def test_a_dataset_or_model_download_cut_off_is_not_an_install_problem(text: str) -> None:
    f = first(text)
    assert f is None or f.category != "download-integrity"


@pytest.mark.parametrize("text", [
    "Collecting torch\n  Downloading https://download.pytorch.org/whl/cu121/torch-2.3.0%2Bcu121-"
    "cp311-cp311-linux_x86_64.whl\nzipfile.BadZipFile: File is not a zip file",
    "Downloading torch (2.3GiB)\n  × Failed to download `torch==2.5.1`\n  ╰─▶ request or "
    "response body error",
])
def test_an_installers_download_cut_off_is_one(text: str) -> None:
    f = first(text)
    assert f is not None and f.category == "download-integrity"


def test_uv_conflicting_indexes_is_a_resolver_conflict_in_uv_words() -> None:
    f = first("Requirements contain conflicting indexes for package `torch`:\n"
              "  https://download.pytorch.org/whl/cu128\n  https://download.pytorch.org/whl/cu130")
    assert f is not None and f.category == "resolver-conflict" and f.fix.startswith("uv ")


def test_an_error_inside_typing_extensions() -> None:
    f = first('  File "/v/lib/python3.13/site-packages/torch/_utils.py", line 1011, in <module>\n'
              '    P = ParamSpec("P")\n'
              '  File "/v/lib/python3.13/site-packages/typing_extensions.py", line 1549, in '
              "__new__\n    _set_default(paramspec, default)\nAttributeError: attribute "
              "'__default__' of 'typing.ParamSpec' objects is not writable")
    assert f is not None and f.category == "typing-extensions"
    assert f.fix == "pipguard install --upgrade typing_extensions"


def test_libtorch_cuda_missing_under_a_cuda_extension_is_a_cpu_torch() -> None:
    f = first('  File "/usr/local/lib/python3.12/dist-packages/vllm/platforms/cuda.py", line 21\n'
              "    import vllm._C\nImportError: libtorch_cuda.so: cannot open shared object "
              "file: No such file or directory\n    torch:     2.10.0+cpu")
    assert f is not None and f.category == "cpu-build-on-gpu"


def test_a_torch_dll_that_cannot_find_its_dependencies() -> None:
    f = first("FileNotFoundError: Could not find module 'C:\\Users\\a\\envs\\x\\lib\\site-packages"
              "\\torch\\lib\\caffe2_nvrtc.dll' (or one of its dependencies). Try using the full "
              "path with constructor syntax.")
    assert f is not None and f.category == "cuda-libraries"


def test_undefined_symbol_in_an_old_torch_library_is_a_mixed_install() -> None:
    f = first('    from torch._C import *\nImportError: /opt/conda/lib/python3.5/site-packages/'
              "torch/lib/libTHC.so.1: undefined symbol: THLongStorage_inferSizeN")
    assert f is not None and f.category == "corrupt-install"


# -- round C3 (training records only): general forms of signals already known ------------


def test_pips_conflict_sentence_wrapped_over_lines_is_a_resolver_conflict() -> None:
    text = ("ERROR: Cannot install torch==2.0.0, torchvision==0.15.2 and torchvision==0.16.0 "
            "because these package versions have conflicting\n                         "
            "dependencies.\n")
    f = first(text)
    assert f is not None and f.category == "resolver-conflict"


@pytest.mark.parametrize("text", [
    # an older uv's wording of "no wheel for this interpreter"
    "  × No solution found when resolving dependencies:\n  ╰─▶ Because torch==2.3.1 has no "
    "wheels are available with a matching Python implementation and you require torch==2.3.1, "
    "we can conclude that the requirements are unsatisfiable.",
    # uv >= 0.8 names the platform and the ones the release has
    "You're on macOS (`macosx_15_0_arm64`), but `torch` (v2.8.0+cu128) only has wheels for "
    "the following platforms: `manylinux_2_28_x86_64`, `win_amd64`",
])
def test_uvs_no_wheel_for_this_target_is_no_matching_distribution(text: str) -> None:
    f = first(text)
    assert f is not None and f.category == "no-matching-distribution"
    assert f.fix.startswith("uv pip ")


def test_condas_partial_download_is_a_download_problem() -> None:
    text = ("  url: https://conda.anaconda.org/pytorch/linux-64/pytorch-2.0.1-py3.10_cuda11.8_"
            "cudnn8.7.0_0.tar.bz2\n  target_path: /opt/conda/pkgs/pytorch-2.0.1.tar.bz2\n"
            "  Content-Length: 1318400419\n  downloaded bytes: 607480247\n")
    f = first(text)
    assert f is not None and f.category == "download-integrity"


def test_a_bare_import_error_names_the_package_whose_import_failed() -> None:
    """No traceback frames: the `from X import` line that was running names the package
    that needs the missing CUDA runtime (not torch's own libraries)."""
    f = first("from vllm import cuda_utils\nImportError: libcudart.so.12: cannot open shared "
              "object file: No such file or directory")
    assert f is not None and f.category == "cuda-libraries" and f.message.startswith("vllm ")


def test_the_page_file_too_small_for_torchs_dlls() -> None:
    f = first("OSError: [WinError 1455] The paging file is too small for this operation to "
              'complete. Error loading "C:\\env\\lib\\site-packages\\torch\\lib\\'
              'cudnn_ops64_9.dll" or one of its dependencies.')
    assert f is not None and f.category == "resource-exhausted" and "page file" in f.message


def test_an_unsuffixed_pin_with_the_torch_stable_page_gets_pypis_cpu_wheel_on_windows() -> None:
    text = ("> python -m pip install torch===1.7.1 -f https://download.pytorch.org/whl/torch_stable"
            ".html\nCollecting torch===1.7.1\n  Downloading torch-1.7.1-cp38-cp38-win_amd64.whl "
            "(184.0 MB)\nSuccessfully installed torch-1.7.1")
    f = first(text)
    assert f is not None and f.category == "cpu-build-on-gpu"
    assert f.fix.startswith("pipguard install --force-reinstall torch==1.7.1")
    linux = text.replace("win_amd64", "manylinux1_x86_64")  # PyPI's Linux wheel is CUDA's
    assert all(f.category != "cpu-build-on-gpu" for f in explain(linux, Context(
        facts=REAL, platform="linux")))


def test_a_torch_symbol_missing_with_no_library_named() -> None:
    """Only the last line pasted: the symbol is torch's (c10::cuda::SetDevice), so an extension
    was built for another torch; which one, the text does not say."""
    f = first("undefined symbol: _ZN3c104cuda9SetDeviceEi")
    assert f is not None and f.category == "companion-mismatch" and f.fix == "pipguard doctor"


@pytest.mark.parametrize("text", [
    'Error loading "D:\\venv\\Lib\\site-packages\\torch\\lib\\fbgemm.dll',  # cut short
    'The specified module could not be found. Error loading "[...]fbgem.dll" or one of its '
    "dependencies.",
])
def test_torchs_own_dll_loading_message_without_the_winerror(text: str) -> None:
    f = first(text)
    assert f is not None and f.category == "cuda-libraries" and "VCRedist" in f.fix


@pytest.mark.parametrize("text", [
    "AttributeError: partially initialized module 'torch' has no attribute 'Tensor' (most likely "
    "due to a circular import)",
    "AttributeError: module 'torch' has no attribute 'cuda'",
    "NameError: name '_C' is not defined",
])
def test_a_torch_that_is_not_the_installed_package(text: str) -> None:
    f = first(text)
    assert f is not None and f.category == "corrupt-install" and "torch.__file__" in f.fix
    # a name newer releases added is the release, not a shadowed torch
    assert first("AttributeError: module 'torch' has no attribute 'float8_e4m3fn'") is None


def test_torchvisions_image_extension_failing_is_a_companion_mismatch() -> None:
    f = first("UserWarning: Failed to load image Python extension: 'libc10_cuda.so: cannot open "
              "shared object file: No such file or directory'")
    assert f is not None and f.category == "companion-mismatch" and "torchvision" in f.message


@pytest.mark.parametrize("text", [
    "hint: `requests` was found on https://download.pytorch.org/whl/cu126, but not at the\n"
    "requested version (requests>=2.32.4). A compatible version may be available on a\n"
    "subsequent index (e.g., https://pypi.org/simple).",
    "error: Distribution `jinja2==3.1.4 @ registry+https://download.pytorch.org/whl/cu128` can't "
    "be installed because it doesn't have a source distribution or wheel for the current "
    "platform",
])
def test_uv_taking_a_common_package_from_the_pytorch_index(text: str) -> None:
    f = first(text)
    assert f is not None and f.category == "dependency-confusion"
    assert f.fix.startswith("uv pip install --torch-backend cu12") and "torch" in f.fix


def test_a_torch_family_package_missing_on_the_pytorch_index_is_not_confusion() -> None:
    f = first("hint: `torchaudio` was found on https://download.pytorch.org/whl/cu126, but not "
              "at the requested version (torchaudio>=9.0).")
    assert f is None or f.category != "dependency-confusion"


def test_condas_older_solver_finding_no_package() -> None:
    f = first("Solving environment: failed\n\nResolvePackageNotFound:\n  - pytorch=1.8.0\n"
              "  - cudatoolkit=10.1")
    assert f is not None and f.category == "no-matching-distribution"


def test_mambas_cuda_virtual_package_below_what_cudatoolkit_needs() -> None:
    f = first("Encountered problems while solving:\n  - package pytorch-cuda-12.1-ha16c6d3_5 has "
              "constraint __cuda >=12.1 conflicting with __cuda-11.4-0")
    assert f is not None and f.category == "driver-too-old" and "up to 11.4" in f.message


@pytest.mark.parametrize("text", [
    "pytorch                   2.0.1               py3.10_cpu_0    pytorch",
    "    pytorch-mutex      pytorch/linux-64::pytorch-mutex-1.0-cpu",
    "The following NEW packages will be INSTALLED:\n"
    "  cpuonly            pytorch/noarch::cpuonly-2.0-0",
])
def test_conda_settling_on_the_cpu_variant(text: str) -> None:
    f = first(text)
    assert f is not None and f.category == "cpu-build-on-gpu" and f.fix.startswith("conda ")


def test_a_conda_cuda_build_is_not_the_cpu_variant() -> None:
    f = first("pytorch                   2.0.1      py3.10_cuda11.8_cudnn8.7.0_0    pytorch")
    assert f is None or f.category != "cpu-build-on-gpu"


@pytest.mark.parametrize("text", [
    "RuntimeError: nvrtc: error: invalid value for --gpu-architecture (-arch)",
    "nvrtc: error: invalid value for --gpu-architecture (-arch)\n\nnvrtc compilation failed:",
])
def test_nvrtc_not_knowing_the_gpus_architecture(text: str) -> None:
    f = first(text)
    assert f is not None and f.category == "gpu-arch-unsupported"


def test_cudnns_older_version_mismatch_sentence() -> None:
    f = first("RuntimeError: cuDNN version mismatch: PyTorch was compiled against 8005 but linked "
              "against 8101")
    assert f is not None and f.category == "cuda-libraries" and "LD_LIBRARY_PATH" in f.fix


def test_a_missing_library_of_the_wider_cuda_stack() -> None:
    f = first("ImportError: libcutensor.so.2: cannot open shared object file: No such file or "
              "directory")
    assert f is not None and f.category == "cuda-libraries"


def test_bitsandbytes_falling_back_to_its_cpu_library() -> None:
    f = first("/venv/lib/python3.10/site-packages/bitsandbytes/cextension.py:34: UserWarning: "
              "The installed version of bitsandbytes was compiled without GPU support. 8-bit "
              "optimizers, 8-bit multiplication, and GPU quantization are unavailable.")
    assert f is not None and f.category == "cuda-libraries" and "bitsandbytes" in f.fix


def test_a_companions_op_with_no_kernel_for_the_cuda_backend() -> None:
    f = first("NotImplementedError: Could not run 'torchvision::roi_align' with arguments from "
              "the 'CUDA' backend. 'torchvision::roi_align' is only available for these "
              "backends: [CPU, Meta, BackendSelect].")
    assert f is not None and f.category == "companion-mismatch" and "torchvision" in f.message


def test_pip_running_torchs_placeholder_setup_py() -> None:
    f = first("  ERROR: Command errored out with exit status 1:\n   command: 'C:\\Python39-32\\"
              "python.exe' -u -c 'import sys, setuptools; sys.argv[0] = '\"'\"'C:\\Users\\a\\"
              "AppData\\Local\\Temp\\pip-install-x1y2\\torch\\setup.py'\"'\"''\n"
              "  Complete output (3 lines):\n  running install")
    assert f is not None and f.category == "no-matching-distribution" and "torch" in f.message


def test_a_companion_collected_first_that_swapped_torch() -> None:
    text = ("Collecting xformers==0.0.27\n  Downloading xformers-0.0.27-cp311-cp311-manylinux2014"
            "_x86_64.whl (164.1 MB)\nCollecting torch==2.3.1 (from xformers==0.0.27)\n"
            "  Attempting uninstall: torch\n    Found existing installation: torch 2.4.0+cu124\n"
            "    Uninstalling torch-2.4.0+cu124:\n"
            "      Successfully uninstalled torch-2.4.0+cu124\n"
            "Successfully installed torch-2.3.1 xformers-0.0.27")
    f = first(text)
    assert f is not None and f.category == "companion-mismatch" and "xformers" in f.message


def test_xformers_built_without_cuda_for_this_torch() -> None:
    f = first("NotImplementedError: No operator found for `memory_efficient_attention_forward`\n"
              "`cutlassF-pt` is not supported because:\n    xFormers wasn't build with CUDA "
              "support")
    assert f is not None and f.category == "companion-mismatch" and "xformers" in f.message.lower()


def test_a_triton_without_what_torch_inductor_imports() -> None:
    f = first("  File \"/venv/lib/python3.12/site-packages/torch/_inductor/codecache.py\", line 9\n"
              "ImportError: cannot import name 'AttrsDescriptor' from 'triton.backends.compiler'")
    assert f is not None and f.category == "companion-mismatch" and "triton" in f.message


def test_dyld_refusing_torch_libraries_of_two_builds() -> None:
    f = first("ImportError: dlopen(/opt/py/torch/_C.cpython-311-darwin.so, 2): Library not "
              "loaded: @rpath/libc10.dylib\n  Reason: Incompatible library version: "
              "libtorch_cpu.dylib requires version 2.0.0 or later, but libc10.dylib provides "
              "version 1.0.0")
    assert f is not None and f.category == "corrupt-install"


@pytest.mark.parametrize("text", ["error loading c10.dll", "Error loading \"torch_cuda.dll\""])
def test_torchs_dlls_named_without_their_path(text: str) -> None:
    f = first(text)
    assert f is not None and f.category == "cuda-libraries" and "VCRedist" in f.fix


def test_pip_asked_for_the_pytorch_placeholder() -> None:
    f = first("ERROR: Could not find a version that satisfies the requirement pytorch==2.1.0 "
              "(from versions: 0.1.2, 1.0.2)\nERROR: No matching distribution found for "
              "pytorch==2.1.0")
    assert f is not None and f.category == "dependency-confusion" and f.fix.endswith("torch")
    f = first("ERROR: No matching distribution found for pytorch-lightning==9.9")
    assert f is None or f.category != "dependency-confusion"  # another project's name


def test_a_frame_of_torchs_own_setup_py_means_no_wheel_fits() -> None:
    f = first("    File \"C:\\Users\\a\\AppData\\Local\\Temp\\pip-install-ab12cd\\torch\\"
              "setup.py\", line 51, in run\n      from tools.nnwrap import generate_wrappers\n"
              "  ModuleNotFoundError: No module named 'tools.nnwrap'")
    assert f is not None and f.category == "no-matching-distribution"


def test_typing_extensions_missing_under_torch() -> None:
    f = first("  File \"/usr/lib/python3/site-packages/torch/_jit_internal.py\", line 40, in "
              "<module>\n    from typing_extensions import ParamSpec\n"
              "ModuleNotFoundError: No module named 'typing_extensions'")
    assert f is not None and f.category == "typing-extensions" and "typing_extensions" in f.fix


def test_an_extensions_compiled_ops_missing() -> None:
    f = first("  File \"/opt/conda/lib/python3.10/site-packages/mmcv/utils/ext_loader.py\", line "
              "13, in load_ext\n    ext = importlib.import_module('mmcv.' + name)\n"
              "ModuleNotFoundError: No module named 'mmcv._ext'")
    assert f is not None and f.category == "companion-mismatch" and "mmcv" in f.fix


@pytest.mark.parametrize(("text", "category"), [
    ("undefined symbol ncclCommRegister", "cuda-libraries"),  # retold without the colon
    ("ImportError: /x/libtorch_cuda.so: undefined symbol: ncclCommRegister", "cuda-libraries"),
])
def test_a_cuda_librarys_symbol_missing_is_a_cuda_library_mixup(text: str, category: str) -> None:
    f = first(text)
    assert f is not None and f.category == category


def test_undefined_symbol_in_prose_names_no_symbol() -> None:
    assert first("the build failed with an undefined symbol error, see above") is None


def test_collect_env_of_a_cpu_build_where_a_gpu_shows_says_could_not_collect() -> None:
    text = ("PyTorch version: 2.2.2\nIs debug build: False\nCUDA used to build PyTorch: Could not "
            "collect\nIs CUDA available: False\nCUDA runtime version: 12.4.99\nGPU models and "
            "configuration: GPU 0: NVIDIA GeForce RTX 4080 Laptop GPU\nNvidia driver version: "
            "551.86")
    f = first(text)
    assert f is not None and (f.category, f.severity) == ("cpu-build-on-gpu", "error")
    # a CUDA build that cannot see its GPU prints its CUDA version there: not this
    cuda = first(text.replace("Could not collect", "12.1"))
    assert cuda is None or cuda.category != "cpu-build-on-gpu"


def test_an_oserrors_own_words_report_a_failure() -> None:
    f = explain("[Errno 2] No such file or directory: '/opt/conda/pkgs/pytorch-base-2.1.2/lib/"
                "libnvJitLink.so'", Context(facts=REAL))
    assert [(x.category, x.severity) for x in f] == [("cuda-libraries", "info")]


@pytest.mark.parametrize("text", [
    "PyTorch does not currently provide packages for PyPI (see status at https://github.com/"
    "pytorch/pytorch/issues/566)",
    "Collecting torch\n  Downloading torch-0.1.2.post1.tar.gz\n    Complete output from command "
    "python setup.py egg_info:\n[...]\nCommand \"python setup.py egg_info\" failed with error "
    "code 1",
])
def test_pypis_torch_placeholder_means_no_real_wheel_fits(text: str) -> None:
    f = first(text)
    assert f is not None and (f.category, f.severity) == ("no-matching-distribution", "error")
    assert "placeholder" in f.message


def test_a_demangled_torch_symbol_missing_from_an_extension_is_a_companion_mismatch() -> None:
    f = first("undefined symbol:\nc10::cuda::c10_cuda_check_implementation(int, char const*, char "
              "const*, int, bool)")
    assert f is not None and f.category == "companion-mismatch"


def test_building_an_extension_where_torch_sees_no_gpu() -> None:
    f = first("No CUDA runtime is found, using CUDA_HOME='/usr/local/cuda'")
    assert f is not None and f.category == "gpu-build-without-gpu"


@pytest.mark.parametrize(("text", "category"), [
    # the last line of torch's warning for a GPU outside the build, pasted alone
    ("If you want to use the NVIDIA GeForce RTX 5090 GPU with PyTorch, please check the "
     "instructions at https://pytorch.org/get-started/locally/", "gpu-arch-unsupported"),
    ("    PyTorch no longer supports this GPU because it is too old.", "gpu-arch-unsupported"),
    ("The minimum cuda capability supported by this library is 3.7.", "gpu-arch-unsupported"),
    # xFormers' "built for" block, its own line or its tail alone
    ("    PyTorch 2.1.2+cu121 with CUDA 1201 (you have 2.1.2+cpu)", "cpu-build-on-gpu"),
    ("    PyTorch 2.0.0+cu118 with CUDA 1108 (you have 1.13.1+cu117)", "companion-mismatch"),
    ("  Memory-efficient attention, SwiGLU, sparse and more won't be available.",
     "companion-mismatch"),
    ("Please install the TorchAudio version that matches your PyTorch version.",
     "companion-mismatch"),
    ("This can happen if your PyTorch and torchvision versions are incompatible.",
     "companion-mismatch"),
    # cuDNN 8's lazy loader: a sub-library (libcudnn_cnn_infer ...) missing
    ("Invalid handle. Cannot load symbol cudnnCreateConvolutionDescriptor", "cuda-libraries"),
])  # fmt: skip
def test_a_producers_own_last_line_pasted_alone(text: str, category: str) -> None:
    f = first(text)
    assert f is not None and (f.category, f.severity) == (category, "error")


def test_xformers_tail_names_xformers() -> None:
    f = first("  Memory-efficient attention, SwiGLU, sparse and more won't be available.")
    assert f is not None and "xformers" in f.message and "xformers" in f.fix


@pytest.mark.parametrize(("text", "category"), [
    ("ImportError libcudnn.so.9 cannot open shared object file No such file or directory",
     "cuda-libraries"),
    ("Symbol not found _torch_library_impl", "companion-mismatch"),
    ("ResolvePackageNotFound\n  - pytorch-cpu", "no-matching-distribution"),
])
def test_a_sentence_retold_without_its_colon(text: str, category: str) -> None:
    f = first(text)
    assert f is not None and f.category == category


@pytest.mark.parametrize(("text", "category"), [
    ("Some module may need to rebuild instead e.g. with 'pybind11>=2.12'.\nIf you are a user of "
     "the module, the easiest solution will be to\ndowngrade to 'numpy<2' or try to upgrade the "
     "affected module.", "numpy-abi"),
    ("Alternatively, go to: https://pytorch.org to install\na PyTorch version that has been "
     "compiled with your version\nof the CUDA driver.", "driver-too-old"),
    ("  - torchvision=0.9.1 -> pytorch-gpu -> nccl\nUse \"conda info <package>\" to see the "
     "dependencies for each package.", "resolver-conflict"),
    ("        Expected sha256 7dc1686d7207eb3eb340b5bc7e6076d41acebd6013cf4f32d4afbab7c97aa579\n"
     "             Got        fb8cf5ad5e1c2d0fd3a1fb8ad3beec5f86c527d2e7cdb6842226ebf24178d1e0",
     "download-integrity"),
    ("    Computed:\n      sha256:633f35e8b1b1f640ef5f8a98dbd84f19b548222ce7ba8f017fe47ce6badc106a",
     "download-integrity"),
    ("  expected md5: 52fb22d2035ac4d8209af52741987076\n  actual md5: "
     "9c90cbee72e70083ff912b574c01759f", "download-integrity"),
    ("AttributeError: attribute '__default__' of 'typing.ParamSpec' objects is not writable",
     "typing-extensions"),
])  # fmt: skip
def test_the_tail_of_a_tools_message_pasted_alone(text: str, category: str) -> None:
    """Found by re-reading each training record's last three lines alone."""
    f = first(text)
    assert f is not None and f.category == category


def test_torchaos_newer_wording_names_neither_itself_nor_its_version() -> None:
    f = first("Skipping import of cpp extensions due to incompatible torch version. Please upgrade "
              "to torch >= 2.11.0 (found 2.10.0+cu128).")
    assert f is not None and f.category == "companion-mismatch" and "torchao" in f.message


@pytest.mark.parametrize("text", [
    "Collecting torch-tensorrt\n  Using cached torch_tensorrt-0.0.0.tar.gz (762 bytes)\n"
    "Successfully installed torch-tensorrt-0.0.0",
    "Successfully installed torch-tensorrt-0.0.0",
])
def test_a_family_projects_empty_placeholder(text: str) -> None:
    f = first(text)
    assert f is not None and f.category == "no-matching-distribution"
    assert f.fix == "pipguard install torch-tensorrt"


def test_an_unknown_projects_0_0_0_is_not_a_placeholder_finding() -> None:
    assert first("Successfully installed mypkg-0.0.0") is None


@pytest.mark.parametrize(("text", "wrong", "right"), [
    ("  File \"/x/site-packages/apex/__init__.py\", line 13, in <module>\n    from pyramid.session "
     "import UnencryptedCookieSessionFactoryConfig\nImportError: cannot import name "
     "'UnencryptedCookieSessionFactoryConfig' from 'pyramid.session' (unknown location)", "apex",
     "git+https://github.com/NVIDIA/apex.git"),
    ("AttributeError: module 'whisper' has no attribute 'load_model'", "whisper", "openai-whisper"),
    ("AttributeError: module 'clip' has no attribute 'load'", "clip",
     "git+https://github.com/openai/CLIP.git"),
])  # fmt: skip
def test_a_same_named_project_on_pypi_is_not_the_one_meant(text: str, wrong: str,
                                                            right: str) -> None:
    f = first(text)
    assert f is not None and f.category == "dependency-confusion"
    assert f.fix == f"pip uninstall -y {wrong} && pipguard install {right}"


def test_a_missing_attribute_of_another_module_is_not_a_lookalike() -> None:
    assert first("AttributeError: module 'clip' has no attribute 'foo'") is None


def test_condas_python_incompatibility_is_no_build_for_this_python() -> None:
    f = first("UnsatisfiableError: The following specifications were found\nto be incompatible "
              "with the existing python installation in your environment:\n\nSpecifications:\n\n"
              "  - pytorch=1.4.0 -> python[version='>=3.6,<3.7.0a0|>=3.7,<3.8.0a0']\n\n"
              "Your python: python=3.9")
    assert f is not None and f.category == "no-matching-distribution"
    assert "placeholder" not in f.message  # (conda's pytorch is torch, not PyPI's placeholder)


@pytest.mark.parametrize(("needs", "want"), [
    (["python >=3.10,<3.11.0a0", "python >=3.8,<3.9.0a0"], "no-matching-distribution"),
    (["python >=3.10,<3.11.0a0", "pytorch 1.13.*"], "resolver-conflict"),
])
def test_libmambas_tree_where_every_build_needs_another_python(needs: list[str],
                                                                want: str) -> None:
    lines = "".join(f"   ├─ torchvision 0.15.0 would require\n   │  └─ {n} , which conflicts "
                    "with any installable versions previously reported;\n" for n in needs)
    f = first("Could not solve for environment specs\nThe following packages are incompatible\n"
              "├─ pin-1 is installable and it requires\n│  └─ python 3.12.* , which can be "
              "installed;\n└─ torchvision 0.15.0  is not installable because there are no "
              "viable options\n" + lines)
    assert f is not None and f.category == want


def test_bitsandbytes_older_loader_finding_no_cuda_runtime() -> None:
    f = first("CUDA_SETUP: WARNING! libcudart.so not found in any environmental path. Searching "
              "/usr/local/cuda/lib64...\nWARNING: No libcudart.so found! Install CUDA or the "
              "cudatoolkit package (anaconda)!")
    assert f is not None and f.category == "cuda-libraries" and "bitsandbytes" in f.fix


@pytest.mark.parametrize(("text", "fix"), [
    ("  File \"/v/lib/python3.6/site-packages/thinc/util.py\", line 34, in <module>\n    "
     "has_torch_amp = not torch.cuda.amp.common.amp_definitely_not_available()\n"
     "AttributeError: module 'torch.cuda' has no attribute 'amp'",
     "pipguard install --upgrade torch"),
    ("  File \"/v/lib/python3.10/site-packages/oldlib/utils.py\", line 3, in <module>\n    "
     "from torch._six import inf\nAttributeError: module 'torch' has no attribute '_six'",
     "pipguard install --upgrade oldlib"),  # (removed in torch 2.0: the library is the old one)
])
def test_a_library_reaching_for_a_part_of_torch_this_one_lacks(text: str, fix: str) -> None:
    f = first(text)
    assert f is not None and f.category == "companion-mismatch" and f.fix == fix


def test_a_name_every_torch_has_missing_is_another_torch_imported() -> None:
    f = first("  File \"/v/lib/python3.10/site-packages/somelib/core.py\", line 3, in <module>\n"
              "    if torch.cuda.is_available():\nAttributeError: module 'torch' has no "
              "attribute 'cuda'")
    assert f is not None and f.category == "corrupt-install"


@pytest.mark.parametrize("text", [
    "GPU with CUDA is capability 7 0 is not supported",  # text-generation-inference
    "The quantization method awq is not supported for the current GPU. Minimum capability: 75. "
    "Current capability: 70.",  # vLLM
    "WanVideoSampler Unsupported CUDA architecture: sm75",  # SageAttention, via a launcher
    "FATAL: this function is for sm80, but was built for sm750",  # xFormers built elsewhere
])
def test_kernels_this_gpu_is_too_old_for_or_was_not_built_for(text: str) -> None:
    f = first(text)
    assert f is not None and f.category == "gpu-arch-unsupported"


@pytest.mark.parametrize("text", [
    "ValueError: Unsupported CUDA architecture: sm120",  # SageAttention older than Blackwell
    "NVIDIA GeForce RTX 5090\nRuntimeError: FlashAttention only supports Ampere GPUs or newer.",
])
def test_a_gpu_newer_than_a_librarys_kernels_is_not_called_old(text: str) -> None:
    f = first(text)
    assert f is not None and f.category == "gpu-arch-unsupported"
    assert "newer than the kernels" in f.message and "too old" not in f.message


def test_text_generation_inferences_warning_it_goes_past_is_no_finding() -> None:
    f = first("WARN text_generation_launcher: Could not import Flash Attention enabled models: "
              "GPU with CUDA capability 7 0 is not supported")
    assert f is None or f.category != "gpu-arch-unsupported"


def test_uvs_single_target_python_is_no_build_for_it_not_a_projects_range() -> None:
    f = first("$ uv pip compile requirements.in --python-version 3.8\n  × No solution found "
              "when resolving dependencies:\n  ╰─▶ Because the requested Python version (3.8) "
              "does not satisfy Python>=3.9 and torch==2.5.1 depends on Python>=3.9, we can "
              "conclude that torch==2.5.1 cannot be used.\n      And because you require "
              "torch==2.5.1, we can conclude that your requirements are unsatisfiable.")
    assert f is not None and f.category == "no-matching-distribution"


@pytest.mark.parametrize(("text", "want"), [
    ("  File \"/home/u/torch.py\", line 1, in <module>\n    import torchvision\n  File \"/v/lib/"
     "python3.10/site-packages/torchvision/__init__.py\", line 6, in <module>\nAttributeError: "
     "partially initialized module 'torch' has no attribute 'library' (most likely due to a "
     "circular import)", "corrupt-install"),
    ("  File \"/v/lib/python3.10/site-packages/vllm/utils.py\", line 9, in <module>\n"
     "AttributeError: module 'torch._C' has no attribute '_cuda_getDeviceCount'", None),
])
def test_a_missing_torch_attribute_that_is_not_a_librarys_newer_api(text: str,
                                                                     want: str | None) -> None:
    f = first(text)
    assert f is None or f.category != "companion-mismatch"
    assert want is None or (f is not None and f.category == want)


def test_xformers_built_for_another_gpu_reinstalls_xformers() -> None:
    f = first("FATAL: kernel `fmha_cutlassF_f16_aligned_64x64_rf_sm80` is for sm80-sm90, but was "
              "built for sm70")
    assert f is not None and f.category == "gpu-arch-unsupported"
    assert f.fix == "pipguard install --force-reinstall xformers"


@pytest.mark.parametrize("text", [
    # conda's channel-qualified spec; libmamba's "**" after a version
    "UnsatisfiableError: The following specifications were found\nto be incompatible with the "
    "existing python installation in your environment:\n\nSpecifications:\n\n  - conda-forge::"
    "rdkit=2018.09 -> python[version='>=3.6,<3.7.0a0']\n\nYour python: python=3.9",
    "The following packages are incompatible\n├─ pin-1 is installable and it requires\n│  └─ "
    "python 3.12.* , which can be installed;\n└─ pytorch 1.13.1**  is not installable because "
    "there are no viable options\n   ├─ pytorch 1.13.1 would require\n   │  └─ python >=3.10,"
    "<3.11.0a0 , which conflicts with any installable versions previously reported;",
])
def test_condas_python_trees_in_their_other_shapes(text: str) -> None:
    f = first(text)
    assert f is not None and f.category == "no-matching-distribution"
    assert "conda-forge" not in f.fix


def test_a_datasets_download_by_url_cut_off_is_not_an_install() -> None:
    f = first("Downloading https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte"
              ".gz\nurllib3.exceptions.ProtocolError: ('Connection broken: IncompleteRead(1 "
              "bytes read, 9 more expected)', IncompleteRead(1 bytes read, 9 more expected))")
    assert f is None or f.category != "download-integrity"


_LINKED = ": symbol {}, version {} not defined in file {} with link time reference"


@pytest.mark.parametrize(("text", "fix"), [
    # two releases' cuBLAS: the pair torch's wheel brings is one release
    ("OSError: /opt/conda/lib/python3.10/site-packages/torch/lib/../../nvidia/cublas/lib/"
     "libcublas.so.12" + _LINKED.format("cublasLtGetStatusString", "libcublasLt.so.12",
                                        "libcublasLt.so.12"),
     "pipguard install --force-reinstall torch"),
    # a package's extension (in its folder, or alone in site-packages) linked against another
    # CUDA runtime than the one loaded
    ("ImportError: /venv/lib/python3.11/site-packages/vllm/_C.abi3.so"
     + _LINKED.format("cudaGraphInstantiateWithFlags", "libcudart.so.12", "libcudart.so.12"),
     "pipguard install --force-reinstall --no-deps vllm"),
    ("ImportError: /venv/lib/python3.10/site-packages/flash_attn_2_cuda.cpython-310-x86_64-linux-"
     "gnu.so" + _LINKED.format("cudaGetDriverEntryPointByVersion", "libcudart.so.12",
                               "libcudart.so.12"),
     "pipguard install --force-reinstall --no-deps flash-attn"),
    # a system CUDA first on LD_LIBRARY_PATH: the wheel's copy first, not a reinstall
    ("$ echo $LD_LIBRARY_PATH\n/usr/local/cuda-12.0/lib64\nOSError: /venv/lib/python3.11/site-"
     "packages/nvidia/cublas/lib/libcublas.so.12" + _LINKED.format(
         "cublasLtGetStatusString", "libcublasLt.so.12", "libcublasLt.so.12"),
     "export LD_LIBRARY_PATH=\"$(python -c \"import site; print(site.getsitepackages()[0] + "
     "'/nvidia/cublas/lib')\"):$LD_LIBRARY_PATH\""),
])
def test_a_cuda_library_from_another_release_than_the_one_linked_against(text: str,
                                                                          fix: str) -> None:
    f = first(text)
    assert f is not None and (f.category, f.severity, f.fix) == ("cuda-libraries", "error", fix)
    assert "another release of that library" in f.message and "newer" not in f.message


def test_a_versioned_symbol_of_another_library_is_not_a_cuda_release_mix() -> None:
    f = first("ImportError: /usr/lib/libfoo.so.1" + _LINKED.format("bar", "libssl.so.3",
                                                                  "libssl.so.3"))
    assert f is None or "another release of that library" not in f.message


def test_xformers_banners_first_line_alone_is_a_companion_mismatch() -> None:
    f = first("WARNING[XFORMERS]: xFormers can't load C++/CUDA extensions")
    assert f is not None and f.category == "companion-mismatch" and "xformers" in f.fix


def test_condas_older_cpu_selector_in_a_listing() -> None:
    f = first("MisconfigurationException: You requested GPUs: [0]\n    But your machine only "
              "has: []\n$ conda list\npytorch                   1.1.0           py3.7_0\n"
              "_pytorch_select           0.1                       cpu_0")
    assert f is not None and f.category == "cpu-build-on-gpu"
    assert f.fix == "conda install pytorch cudatoolkit -c pytorch"  # (no cpuonly to remove)


@pytest.mark.parametrize("listing", [
    "  _pytorch_select   0.1-cpu_0 --> 0.2-gpu_0",  # a plan moving to the GPU build
    "  pytorch-mutex     1.0-cpu --> 1.0-cuda",
    "_pytorch_select           0.1                       cpu_0\npytorch                   1.4.0"
    "           py3.7_cuda10.1.243_cudnn7.6.3_0",  # a stale selector beside a CUDA build
])
def test_condas_cpu_selector_replaced_or_beside_a_cuda_build_is_no_finding(listing: str) -> None:
    f = first(f"The following packages will be UPDATED:\n\n{listing}\n\nRuntimeError: CUDA "
              "out of memory. Tried to allocate 20.00 MiB")
    assert f is None or f.category != "cpu-build-on-gpu"


def test_a_programs_cuda_is_unavailable_on_windows() -> None:
    f = explain("app.server: [startup-check] CUDA is unavailable; falling back to the CPU.",
                Context(facts=REAL, platform="win32"))
    assert f and f[0].category == "cpu-build-on-gpu"


@pytest.mark.parametrize(("text", "fix"), [
    # an import name that is another project's (or no project's) on PyPI: its distribution
    ("ImportError: /venv/lib/python3.10/site-packages/awq_ext.cpython-310-x86_64-linux-gnu.so: "
     "undefined symbol: _ZN3c104cuda9SetDeviceEi",
     "pipguard install --force-reinstall --no-deps autoawq-kernels"),
    ("ImportError: DLL load failed while importing awq_ext: The specified procedure could not be "
     "found.", "pipguard install --force-reinstall --no-deps autoawq-kernels"),
    ("ImportError: /venv/lib/python3.10/site-packages/autogptq_cuda_64.cpython-310-x86_64-linux-"
     "gnu.so: undefined symbol: _ZN3c104cuda9SetDeviceEi",
     "pipguard install --force-reinstall --no-deps auto-gptq"),
    ("ImportError: dlopen(/venv/lib/python3.11/site-packages/PIL/_imaging.cpython-311-darwin.so, "
     "0x0002): tried: '/venv/lib/python3.11/site-packages/PIL/_imaging.cpython-311-darwin.so' "
     "(mach-o file, but is an incompatible architecture (have 'x86_64', need 'arm64'))",
     "pipguard install --force-reinstall pillow"),
    # ... and none where no single distribution on PyPI installs it: NVIDIA apex is built from
    # source (PyPI's apex is another project); paddle has a CPU and a GPU distribution
    ("import amp_C\nImportError: /venv/lib/python3.10/site-packages/amp_C.cpython-310-x86_64-"
     "linux-gnu.so: undefined symbol: _ZN3c104cuda9SetDeviceEi", "pipguard doctor"),
    ("  File \"/venv/lib/python3.10/site-packages/paddle/base/core.py\", line 268, in "
     "<module>\n    from . import libpaddle\nImportError: libcudnn.so.8: cannot open shared "
     "object file: No such file or directory", "pipguard doctor"),
])
def test_a_fix_names_the_distribution_not_the_import_name(text: str, fix: str) -> None:
    f = first(text)
    assert f is not None and f.fix == fix


def test_of_a_projects_builds_the_fix_reinstalls_the_one_installed() -> None:
    text = ("  File \"/venv/lib/python3.10/site-packages/paddle/base/core.py\", line 268, in "
            "<module>\n    from . import libpaddle\nImportError: libcudnn.so.8: cannot open "
            "shared object file: No such file or directory")
    for installed, fix in (({"paddlepaddle-gpu": "2.6.1"}, "paddlepaddle-gpu"),
                           ({"paddlepaddle": "2.6.1"}, "paddlepaddle")):
        f = explain(text, Context(facts=REAL, installed=installed))
        assert f and f[0].fix == f"pipguard install --force-reinstall --no-deps {fix}"
    listed = first(text + "\n$ pip list | grep paddle\npaddlepaddle-gpu 2.6.1")
    assert listed is not None and listed.fix.endswith(" paddlepaddle-gpu")


_NGC = ("ERROR: This container was built for NVIDIA Driver Release 550.54 or later, but\n"
        "       version 470.223.02 was detected and compatibility mode is UNAVAILABLE.")


def test_an_ngc_containers_driver_banner_is_a_driver_too_old() -> None:
    f = first(_NGC)
    assert f is not None and (f.category, f.severity) == ("driver-too-old", "warning")
    assert "550.54 or later" in f.message


def test_an_ngc_banner_printed_at_start_yields_to_the_failures_own_error() -> None:
    f = first(_NGC + "\n\nA module that was compiled using NumPy 1.x cannot be run in\nNumPy "
              "2.1.2 as it may crash.")
    assert f is not None and f.category == "numpy-abi"


def test_wsl_without_a_gpu_adapter_is_a_gpu_build_without_gpu() -> None:
    f = first("docker: Error response from daemon: failed to create task for container: "
              "nvidia-container-cli: initialization error: WSL environment detected but no "
              "adapters were found: unknown.")
    assert f is not None and f.category == "gpu-build-without-gpu" and "WSL 2" in f.message


def test_uvs_url_dependency_for_another_platform_names_the_wheels_target() -> None:
    f = first("error: Failed to determine installation plan\n  Caused by: A URL dependency is "
              "incompatible with the current platform: https://example.org/whl/torch-2.8.0%2Bcu128-"
              "cp311-cp311-manylinux_2_28_x86_64.whl")
    assert f is not None and f.category == "no-matching-distribution"
    assert "is built for cp311-manylinux_2_28_x86_64, which" in f.message
    assert f.fix == "uv pip install torch==2.8.0"


def test_uvs_path_dependency_for_another_platform_is_read_the_same() -> None:
    f = first("error: Failed to determine installation plan\n  Caused by: A path dependency is "
              "incompatible with the current platform: ./torch-2.8.0-cp311-cp311-win_amd64.whl")
    assert f is not None and f.category == "no-matching-distribution"
    assert "is built for cp311-win_amd64, which" in f.message and f.fix.startswith("uv ")


def test_an_error_failing_to_determine_something_else_is_not_uvs() -> None:
    f = explain("error: Failed to determine the CUDA version\nERROR: Could not find a version "
                "that satisfies the requirement torch==1.13.1+cu117 (from versions: 2.0.0)\n"
                "ERROR: No matching distribution found for torch==1.13.1+cu117",
                Context(facts=REAL, wording="auto"))
    assert f and not f[0].fix.startswith("uv ")


@pytest.mark.parametrize(("text", "fix"), [
    ("ValueError: Your setup doesn't support bf16/gpu. You need torch>=1.10, using Ampere GPU "
     "with cuda>=11.0", "--bf16 False"),
    ("ValueError: --tf32 requires Ampere or a newer GPU arch, cuda>=11 and torch>=1.7",
     "--tf32 False"),
])
def test_transformers_precision_checks_are_a_gpu_too_old_for_the_feature(text: str,
                                                                         fix: str) -> None:
    f = first(text)
    assert f is not None and f.category == "gpu-arch-unsupported" and fix in f.fix


def test_no_kernel_image_without_is() -> None:
    f = first("RuntimeError: CUDA error: no kernel image available for execution on the device")
    assert f is not None and f.category == "gpu-arch-unsupported"
    dkms = first("update-initramfs: Generating /boot/initrd.img-6.8.0-45-generic\nW: no kernel "
                 "image available for 6.8.0-45-generic")
    assert dkms is None or dkms.category != "gpu-arch-unsupported"


@pytest.mark.parametrize("context", [
    "torch 2.3.1+cpu\n", "torch.cuda.is_available() = False\n", "UserWarning: ",
])
def test_a_precision_check_without_a_cuda_gpu_or_gone_past_is_no_old_gpu(context: str) -> None:
    f = first(context + "ValueError: Your setup doesn't support bf16/gpu. You need torch>=1.10, "
              "using Ampere GPU with cuda>=11.0")
    assert f is None or f.category != "gpu-arch-unsupported"


def test_an_ngc_banner_before_a_driver_failure_is_the_failures_error() -> None:
    f = first(_NGC + "\nRuntimeError: CUDA driver version is insufficient for CUDA runtime "
              "version")
    assert f is not None and (f.category, f.severity) == ("driver-too-old", "error")


def test_a_package_folder_keeps_its_name_an_extension_file_loses_its_suffix() -> None:
    folder = first("  File \"/venv/lib/python3.10/site-packages/emd_cuda/__init__.py\", line 3,"
                   " in <module>\nImportError: /venv/lib/python3.10/site-packages/emd_cuda/"
                   "emd.cpython-310-x86_64-linux-gnu.so: undefined symbol: _ZN3c104cuda9SetDev"
                   "iceEi")
    assert folder is not None and folder.fix.endswith(" emd-cuda")


def test_ctranslate2s_cuda_library_not_found_or_not_loaded() -> None:
    f = first("  File \"/venv/lib/python3.10/site-packages/faster_whisper/transcribe.py\", line "
              "1234, in encode\nRuntimeError: Library libcublas.so.12 is not found or cannot be "
              "loaded")
    assert f is not None and (f.category, f.severity) == ("cuda-libraries", "error")
    assert "CTranslate2" in f.message and f.fix == 'pipguard install "ctranslate2<4"'


def test_a_test_suite_skipping_its_gpu_tests_on_windows_is_no_cpu_build() -> None:
    f = explain("SKIPPED [3] tests/test_gpu.py:12: CUDA is unavailable\n===== 40 passed, 3 skipped "
                "in 2.10s =====", Context(facts=REAL, platform="win32"))
    assert not f or f[0].category != "cpu-build-on-gpu"


def test_a_library_built_for_one_torch_release_in_its_own_words() -> None:
    f = first("ERROR! Intel® Extension for PyTorch* needs to work with PyTorch 2.2.*, but "
              "PyTorch 2.1.0+cu121 is found. Please switch to the matching version and run again.")
    assert f is not None and f.category == "companion-mismatch"
    # its release for this torch, not another torch (beside a CUDA torch, maybe a leftover)
    assert f.fix == 'pipguard install "intel-extension-for-pytorch==2.1.*"'
    assert "leftover" in f.message
    for text in ("ERROR! Intel® Extension for PyTorch* needs to work with PyTorch       2.1.*, "
                 "but PyTorch 2.2.0+cpu is found.",  # (a continued string's blanks)
                 "RuntimeError: Intel® Extension for PyTorch* needs to work with PyTorch/libtorch"
                 " 2.1.*, but PyTorch/libtorch 2.2.0 is found."):  # (its C++ check)
        f = first(text)
        assert f is not None and f.fix == 'pipguard install "intel-extension-for-pytorch==2.2.*"'
    f = first("ERROR! Intel® Extension for PyTorch* needs to work with PyTorch 2.8.*, but "
              "PyTorch 2.9.1+xpu is found. Please switch to the matching version and run again.")
    assert f is not None and f.category == "companion-mismatch"  # it ended with 2.8 (issue
    assert f.fix == "pip uninstall -y intel-extension-for-pytorch"  # #867): no 2.9.* exists
    assert "last release is for torch 2.8" in f.message and "XPU" in f.message
    f = first("ERROR! Intel® Extension for PyTorch* needs to work with PyTorch 2.7.*, but "
              "PyTorch 2.8.0+xpu is found.")
    assert f is not None and f.fix == 'pipguard install "intel-extension-for-pytorch==2.8.*"'
    f = first("UserWarning: Intel Extension for PyTorch 2.1 needs to work with PyTorch 2.1.*, but "
              "PyTorch 2.2.0 is found. Please switch to the matching version")
    assert f is not None and f.severity == "warning"  # (transformers retelling it, going on)
    f = first("Installing flash_attn\nThere is currently no flash_attn built for PyTorch 2.9.0 "
              "on Windows...\npytorch version: 2.9.1+cu128\nxformers version: 0.0.33.post1")
    assert f is not None and f.category == "companion-mismatch"
    assert f.fix == 'pipguard install "torch<2.9" xformers'  # the companion shown moves too
    assert first("Note: there is no wheel built for PyTorch 2.5 yet, so pip builds it from "
                 "source.") is None  # (a noun, not a package)


def test_a_torch_class_typeinfo_missing_from_a_package_with_a_torch_folder() -> None:
    """horovod/torch/mpi_lib.so is horovod's (its package under site-packages), and a
    class's typeinfo (_ZTIN3c10...) is a torch symbol as a function's (_ZN3c10...) is."""
    f = first("ImportError: /opt/py/lib/python3.6/site-packages/horovod/torch/mpi_lib_v2.cpython-"
              "36m-x86_64-linux-gnu.so: undefined symbol: _ZTIN3c1021AutogradMetaInterfaceE")
    assert f is not None and f.category == "companion-mismatch" and "horovod" in f.fix
    f = first("ImportError: /venv/lib/python3.11/site-packages/torch/lib/libtorch_cuda.so: "
              "undefined symbol: _ZTIN3c1021AutogradMetaInterfaceE")
    assert f is None or f.category != "companion-mismatch"  # torch's own library
    f = first("ImportError: /opt/conda/lib/libtorch_cpu.so: undefined symbol: "
              "_ZN3c104impl8GPUTrace9haveStateE")  # (conda keeps torch's libraries in lib/)
    assert f is not None and f.category == "corrupt-install"
    f = first("ImportError: /home/u/src/horovod/build/lib/horovod/torch/mpi_lib_v2.cpython-38-"
              "x86_64-linux-gnu.so: undefined symbol: _ZN3c104impl8GPUTrace9haveStateE")
    assert f is not None and f.category == "companion-mismatch"  # a source tree's build
    assert f.fix == "pipguard doctor"  # (no package named: not torchvision's)
    f = first("ImportError: /v/lib/python3.10/site-packages/tensorrt_llm/bindings.cpython-310-"
              "x86_64-linux-gnu.so: undefined symbol: _Z16THPVariable_WrapN2at10TensorBaseE")
    assert f is not None and f.category == "companion-mismatch" and "tensorrt" in f.fix
    f = first("ImportError: /v/lib/python3.10/site-packages/cv2/cv2.abi3.so: undefined symbol: "
              "_ZTIN2cv12attributeMapE")  # (cv::'s 12attributeMap, not at::)
    assert f is None or f.category != "companion-mismatch"


def test_a_one_liners_prints_each_on_its_own_line() -> None:
    cmd = ('python -c "import torch; print(torch.__version__); print(torch.version.cuda); '
           'print(torch.cuda.is_available())"\n\nreturned:\n\n')
    f = first(cmd + "2.4.0+cpu\nNone\nFalse", NVIDIA)
    assert f is not None and f.category == "cpu-build-on-gpu"
    assert first(cmd + "2.4.0+cu124\n12.4\nTrue\nFalse", NVIDIA) is None  # True was its answer
    # its answer first, or after the warning torch printed on the way (and its source line)
    f = first('python -c "import torch; print(torch.cuda.is_available()); '
              'print(torch.version.cuda)"\nFalse\nNone', NVIDIA)
    assert f is not None and f.category == "cpu-build-on-gpu"
    f = first('python -c "import torch; print(torch.cuda.is_available())"\n/x/torch/cuda/'
              "__init__.py:129: UserWarning: CUDA initialization: Unexpected error from "
              "cudaGetDeviceCount()\n  return torch._C._cuda_getDeviceCount() > 0\nFalse", NVIDIA)
    assert f is not None and f.category == "cpu-build-on-gpu"


def test_torch_finding_no_intel_gpu() -> None:
    text = ">>> import torch\n>>>torch.xpu.is_available()\nFalse"
    f = first(text)
    assert f is not None and (f.category, f.severity) == ("cpu-build-on-gpu", "warning")
    assert "XPU" in f.message and f.fix == "pipguard doctor"
    assert first(text, NVIDIA) is None  # no Intel GPU here: XPU's False is no failure
    assert first(">>> torch.xpu.is_available()\nTrue") is None


def test_torch_version_cuda_printed_under_a_label() -> None:
    text = (">>> print(\"PyTorch version:\", torch.__version__)\nPyTorch version: 2.6.0+cpu\n"
            ">>> print(\"CUDA version (from torch):\", torch.version.cuda)\n"
            "CUDA version (from torch): {}")
    f = first(text.format("None"))
    assert f is not None and f.category == "cpu-build-on-gpu"
    f = first(text.replace("+cpu", "+cu124").format("12.4"))
    assert f is None or f.category != "cpu-build-on-gpu"


def test_onnxruntimes_cuda_failure_never_reinstalls_its_cpu_build() -> None:
    """PyPI's onnxruntime is the CPU build; installed over onnxruntime-gpu it overwrites the
    same files. The GPU build the paste shows is reinstalled, else doctor is asked."""
    text = ("  File \"/v/lib/python3.10/site-packages/onnxruntime/capi/_pybind_state.py\", line "
            "32, in <module>\n    from .onnxruntime_pybind11_state import *\nImportError: "
            "libcudnn.so.8: cannot open shared object file: No such file or directory")
    f = first(text)
    assert f is not None and f.category == "cuda-libraries" and f.fix == "pipguard doctor"
    f = first("onnxruntime-gpu 1.16.3\n" + text)
    assert f is not None and f.fix.endswith("--no-deps onnxruntime-gpu")


# -- a second review of this round's rules (inputs from it) ---------------------------------


@pytest.mark.parametrize("text", [
    # another device's answer after CUDA's True, a long command joined onto its output
    'python -c "import torch; print(torch.cuda.is_available()); print(torch.xpu.is_available())'
    '"True\nFalse',
    'python -c "import torch; print(torch.cuda.is_available())"\n  True\n  False',  # indented
    "torch.__version__: 2.4.0+cu124\ntorch.version.cuda: 12.4\ntorch.version.hip: None",
])
def test_cuda_answering_is_no_cpu_build(text: str) -> None:
    f = first(text, NVIDIA)
    assert f is None or f.category != "cpu-build-on-gpu"


def test_a_rocm_builds_cuda_version_is_none() -> None:
    amd = Hardware(accelerator="amd", gpus=(Gpu("amd", "RX 7900 XTX", "gfx1100"),))
    text = "'2.4.0+rocm6.1'\n>>> print(\"CUDA version:\", torch.version.cuda)\nCUDA version: None"
    assert first(text, amd) is None


@pytest.mark.parametrize("text", [
    "torch.cuda.is_available(): True\ntorch.xpu.is_available(): False",  # a CUDA machine's dump
    "if torch.xpu.is_available() == False:", "assert torch.xpu.is_available() is False",
])
def test_xpus_false_in_code_or_beside_cudas_true_is_nothing(text: str) -> None:
    assert first(text) is None


@pytest.mark.parametrize("noun", ["prebuilt wheel", "CUDA wheel", "official build"])
def test_no_build_for_this_torch_needs_a_packages_name(noun: str) -> None:
    assert first(f"There is no {noun} built for PyTorch 2.6") is None


def test_torch_symbols_and_libraries_in_more_shapes() -> None:
    # at::operator* (an operator's code after the namespace); a virtual thunk; c10d's; torch
    # 1.x's caffe2::TypeMeta
    for sym in ("_ZN2atmlERKNS_6TensorES2_", "_ZTv0_n24_N3c1010TensorImplD1Ev",
                "_ZN4c10d16ProcessGroupNCCL4initEv",
                "_ZN6caffe26detail36_typeMetaDataInstance_preallocated_7E"):
        f = first(f"ImportError: /v/site-packages/foo/_C.so: undefined symbol: {sym}")
        assert f is not None and f.category == "companion-mismatch", sym
    # a user's own libtorch_ext.so is no torch library; a torch_npu one is its own package
    f = first("ImportError: /home/u/proj/build/libtorch_ext.so: undefined symbol: "
              "_ZN2at4_ops5zeros4callEv")
    assert f is not None and f.category == "companion-mismatch" and f.fix == "pipguard doctor"
    f = first("ImportError: /v/site-packages/torch_npu/lib/libtorch_npu.so: undefined symbol: "
              "_ZN3c104impl8GPUTrace9haveStateE")
    assert f is not None and f.category == "companion-mismatch" and "torch-npu" in f.fix
    # a companion's folder counts where the file sits in it, not anywhere up the path
    f = first("ImportError: /home/u/src/xformers/build/lib/mylib/_C.so: undefined symbol: "
              "_ZN3c104impl8GPUTrace9haveStateE")
    assert f is not None and "xformers" not in f.fix


def test_onnxruntime_refused_by_the_loader_reinstalls_the_build_shown() -> None:
    f = first("onnxruntime-gpu 1.16.3\nImportError: dlopen(/v/lib/python3.10/site-packages/"
              "onnxruntime/capi/onnxruntime_pybind11_state.so, 0x0002): tried: '...' (mach-o "
              "file, but is an incompatible architecture (have 'x86_64', need 'arm64'))")
    assert f is not None and f.fix.endswith("onnxruntime-gpu")


def test_intels_extension_in_a_logging_warning_is_a_warning() -> None:
    f = first("WARNING:root:Intel Extension for PyTorch 2.1 needs to work with PyTorch 2.1.*, "
              "but PyTorch 2.2.0 is found.")
    assert f is not None and f.severity == "warning"


# -- a third review (inputs from it) --------------------------------------------------------


def test_a_rocm_builds_hip_version_on_the_next_line() -> None:
    amd = Hardware(accelerator="amd", gpus=(Gpu("amd", "RX 7900 XTX", "gfx1100"),))
    for text in (">>> torch.version.hip\n'6.1.40093-bd86f1708'\n>>> print(torch.version.cuda)"
                 "\nNone", 'print("HIP version:", torch.version.hip)\nHIP version: 6.1.40093\n'
                 'print("CUDA:", torch.version.cuda)\nCUDA: None'):
        assert first(text, amd) is None


@pytest.mark.parametrize("text", [
    '>>> print(f"CUDA version: {torch.version.cuda}")\nCUDA version: None',
    "python -c \"import torch; print('CUDA:', torch.version.cuda)\"\nCUDA: None",
])
def test_torch_version_cuda_none_under_a_label_in_more_print_forms(text: str) -> None:
    f = first(text, NVIDIA)
    assert f is not None and f.category == "cpu-build-on-gpu"


@pytest.mark.parametrize("text", [
    "On my Arc A770 torch.xpu.is_available() is False",
    "I'm not sure why torch.xpu.is_available() returns False",
])
def test_xpus_false_told_in_prose_is_read(text: str) -> None:
    intel = Hardware(accelerator="intel", gpus=(Gpu("intel", "Arc A770", None),))
    f = first(text, intel)
    assert f is not None and f.category == "cpu-build-on-gpu"


def test_cudas_answer_is_read_in_its_place_among_the_devices() -> None:
    cmd = ('python -c "import torch; print(torch.{}.is_available()); '
           'print(torch.{}.is_available())"\n')
    assert first(cmd.format("xpu", "cuda") + "False\nTrue", NVIDIA) is None
    for order, out in ((("mps", "cuda"), "True\nFalse"), (("cuda", "xpu"), "False\nTrue")):
        f = first(cmd.format(*order) + out, NVIDIA)
        assert f is not None and f.category == "cpu-build-on-gpu", order


@pytest.mark.parametrize(("text", "named"), [
    ("There is no pre-built wheel built for PyTorch 2.9", False),
    ("There is no x86-64 build built for PyTorch 2.9", False),
    ("There is currently no natten built for PyTorch 2.9.0", True),
    ("There is no sageattention wheel built for PyTorch 2.9", True),
    ("There is currently no Flash-Attention built for PyTorch 2.9.0", True),
])
def test_a_launchers_missing_build_names_a_package_whatever_its_spelling(
        text: str, named: bool) -> None:
    f = first(text)
    assert (f is not None and f.category == "companion-mismatch") == named


def test_std_vectors_at_is_no_torch_symbol() -> None:
    """``_ZNSt6vectorIfSaIfEE2atEm`` is std::vector<float>::at: torch's namespaces start a
    nested name (right after an N), not any ``2at`` in a symbol."""
    f = first("ImportError: /v/lib/python3.10/site-packages/foo/_ext.so: undefined symbol: "
              "_ZNSt6vectorIfSaIfEE2atEm")
    assert f is None or f.category != "companion-mismatch"


def test_a_torch_library_in_a_prefixs_lib_folder_is_torchs_own() -> None:
    f = first("ImportError: /opt/conda/lib/libtorch_nvshmem.so: undefined symbol: "
              "_ZN3c104impl8GPUTrace9haveStateE")
    assert f is not None and f.category == "corrupt-install"


def test_a_module_a_release_added_or_removed_is_that_release_missing() -> None:
    """"No module named" names no version; the tables know which release added or removed
    the module, and so which way the code and the installed release differ."""
    f = first("ModuleNotFoundError: No module named 'torchvision.transforms.functional_tensor'")
    assert f is not None and (f.category, f.severity) == ("companion-mismatch", "error")
    assert "since 0.17" in f.message and "torchvision.transforms.functional)" in f.message
    assert f.fix == 'pipguard install "torchvision<0.17"'
    f = first("  File \"/usr/local/lib/python3.10/dist-packages/basicsr/data/degradations.py\", "
              "line 8, in <module>\n    from torchvision.transforms.functional_tensor import "
              "rgb_to_grayscale\nModuleNotFoundError: No module named 'torchvision.transforms."
              "functional_tensor'")
    assert f is not None and "basicsr, which imports" in f.message
    f = first("  File \"/venv/lib/python3.8/site-packages/torchvision/models/feature_extraction.py"
              "\", line 11, in <module>\n    from torch import fx\nModuleNotFoundError: No module "
              "named 'torch.fx'")
    assert f is not None and f.category == "companion-mismatch"
    assert "torch 1.8 or newer" in f.message and "torchvision, which imports" in f.message
    assert f.fix == 'pipguard install --upgrade "torch>=1.8" torchvision'
    f = first("  File \"/home/u/CausVid/causvid/models/wan/causal_model.py\", line 11, in <module>"
              "\n    from torch.nn.attention.flex_attention import create_block_mask\n"
              "ModuleNotFoundError: No module named 'torch.nn.attention.flex_attention'")
    assert f is not None and "torch 2.5 or newer" in f.message  # (a user's own file: unnamed)
    assert "the code importing it" in f.message
    assert f.fix == 'pipguard install --upgrade "torch>=2.5"'
    # a module the tables do not know, and torch's own _C (a folder named torch): not these
    assert first("ModuleNotFoundError: No module named 'torchvision.zork'") is None
    f = first("ModuleNotFoundError: No module named 'torch._C'")
    assert f is None or "came with" not in f.message


def test_pips_note_on_a_failed_subprocess_is_an_install() -> None:
    f = first("OSError: [Errno 28] No space left on device\n...\nnote: This error originates "
              "from a subprocess, and is likely not a problem with pip.")
    assert f is not None and f.category == "resource-exhausted"


def test_an_old_pip_discarding_a_file_whose_metadata_spells_the_name_otherwise() -> None:
    """The PyTorch index's typing_extensions: 'typing-extensions' and 'typing_extensions' are
    one project; a pip that compares names as written discards it (no other project's
    upload: the fix is a newer pip)."""
    f = first("WARNING: Discarding https://download.pytorch.org/whl/typing_extensions-4.12.2-py3-"
              "none-any.whl#sha256=04e5 (from https://download.pytorch.org/whl/typing-extensions/)"
              " (requires-python:>=3.8): Requested typing-extensions>=4.10.0 from https://download"
              ".pytorch.org/whl/typing_extensions-4.12.2-py3-none-any.whl#sha256=04e5 (from torch)"
              " has inconsistent Name: expected 'typing-extensions', but metadata has 'typing_ext"
              "ensions'\nERROR: No matching distribution found for typing-extensions>=4.10.0")
    assert f is not None and f.category == "no-matching-distribution"
    assert f.fix == "python -m pip install --upgrade pip" and "same project" in f.message
    f = first("ERROR: Requested torch from https://mirror.example.com/simple/torch/torch-2.1.0.tar"
              ".gz has inconsistent name: expected 'torch', but metadata has 'pytorch'")
    assert f is not None and f.category == "dependency-confusion"  # another project indeed


def test_a_module_rule_stays_out_where_the_release_is_not_the_cause() -> None:
    """A review's shapes: a file of the user's named torch.py hides torch; torch's own code
    importing its own submodule (a damaged install); the user's own file importing the
    module (no package to blame); the release installed that has the module."""
    shadowed = ("  File \"/home/u/proj/train.py\", line 2, in <module>\n    import torch.fx\n"
                "ModuleNotFoundError: No module named 'torch.fx'; 'torch' is not a package")
    f = first(shadowed)  # the file that hides torch, not a release
    assert f is not None and "came with" not in f.message and "torch.__file__" in f.fix
    f = first("  File \"/venv/lib/python3.10/site-packages/torch/__init__.py\", line 2100, in "
              "<module>\n    from torch import fx as fx\nModuleNotFoundError: No module named "
              "'torch.fx'")
    assert f is None or "came with" not in f.message
    f = first("  File \"/home/u/myproj/augment.py\", line 3, in <module>\n    from torchvision."
              "transforms.functional_tensor import rgb_to_grayscale\nModuleNotFoundError: No "
              "module named 'torchvision.transforms.functional_tensor'")
    assert f is not None and "the code importing it was written" in f.message
    f = first("No module named 'torch.nn.attention'\nName: torch\nVersion: 2.5.0+cu124")
    assert f is None or "came with" not in f.message  # (pip show's)
    found = explain("No module named 'torch.fx'",
                    Context(facts=REAL, installed={"torch": "2.6.0+cu124"}))
    assert not any("came with" in f.message for f in found)
    # the import line names a deeper module the tables know: its release, not the parent's
    f = first("    from torch.nn.attention.flex_attention import create_block_mask\n"
              "ModuleNotFoundError: No module named 'torch.nn.attention'")
    assert f is not None and f.fix == 'pipguard install --upgrade "torch>=2.5"'


def test_a_library_importing_a_name_or_module_this_torch_lacks() -> None:
    f = first("  File \"/venv/lib/python3.10/site-packages/transformers/exporters/__init__.py\", "
              "line 3, in <module>\n    from torch.fx.experimental.symbolic_shapes import "
              "guard_or_true\nImportError: cannot import name 'guard_or_true' from 'torch.fx."
              "experimental.symbolic_shapes' (/venv/lib/python3.10/site-packages/torch/fx/"
              "experimental/symbolic_shapes.py)")
    assert f is not None and f.category == "companion-mismatch" and "transformers" in f.message
    assert f.fix == "pipguard doctor" and "different releases" in f.message  # (which way: unsaid)
    f = first(">>> import transformers.exporters\nImportError: cannot import name 'guard_or_true' "
              "from 'torch.fx.experimental.symbolic_shapes'")  # (the REPL's import)
    assert f is not None and "transformers uses torch.fx" in f.message
    f = first("  File \"/opt/conda/lib/python3.10/site-packages/adam_mini/adam_mini.py\", line 9,"
              " in <module>\n    from torch.distributed._tensor import Replicate\n"
              "ModuleNotFoundError: No module named 'torch.distributed._tensor'")
    assert f is not None and f.category == "companion-mismatch" and "adam-mini" in f.message
    # no library in sight (the user's own code, or nothing): not this rule's to say
    assert first("ImportError: cannot import name 'register_fake' from 'torch.library'") is None


def test_a_compiler_running_out_of_memory_or_disk_is_the_build_not_pips_cache() -> None:
    tail = ("error: command '/usr/bin/g++' failed with exit code 1\nnote: This error originates "
            "from a subprocess, and is likely not a problem with pip.\nERROR: Failed building "
            "wheel for flash-attn")
    f = first("g++: fatal error: Killed signal terminated program cc1plus\ncompilation "
              "terminated.\n" + tail)
    assert f is not None and f.category == "resource-exhausted"
    assert "compiled from source" in f.message and "cache" not in f.message
    assert f.fix == "export MAX_JOBS=2 && pipguard install flash-attn"
    f = first("/usr/bin/ld: final link failed: No space left on device\n" + tail)
    assert f is not None and "built from source" in f.message and "TMPDIR" in f.fix


def test_a_discarded_file_spelt_otherwise_then_another_taken_is_a_warning() -> None:
    f = first("WARNING: Discarding https://download.pytorch.org/whl/typing_extensions-4.12.2-py3-"
              "none-any.whl: Requested typing-extensions>=4.10.0 from https://download.pytorch.org"
              "/whl/typing_extensions-4.12.2-py3-none-any.whl has inconsistent Name: expected "
              "'typing-extensions', but metadata has 'typing_extensions'\n  Downloading typing_"
              "extensions-4.15.0-py3-none-any.whl\nSuccessfully installed torch-2.6.0+cu124 "
              "typing-extensions-4.15.0")
    assert f is not None and (f.category, f.severity) == ("no-matching-distribution", "warning")


def test_a_version_past_pythons_digit_limit_is_no_crash() -> None:
    first("ERROR! Intel Extension for PyTorch needs to work with PyTorch 2.8.*, but PyTorch 2."
          + "9" * 5000 + " is found.")


def test_windows_dialog_for_a_companions_binary_missing_a_torch_symbol() -> None:
    f = first("The procedure entry point ?toScalarType@TypeMeta@caffe2@@QEAA?AW4ScalarType@c10@@XZ"
              " could not be located in the dynamic link library C:\\SD\\ComfyUI_windows_"
              "portable\\python_embeded\\Lib\\site-packages\\torchvision\\_C.pyd")
    assert f is not None and f.category == "companion-mismatch" and "torchvision" in f.fix


def test_an_older_pips_bar_stopping_short_of_the_files_size_is_a_cut_off_download() -> None:
    """pip 20-21's bar shows the size so far, not "so far/total": against the size the
    Downloading line gives, 2140.7 of 2442.3 MB is a download cut off (a read error in
    urllib3's _error_catcher), not memory running out after it."""
    f = first("Collecting torch==1.10.2+cu113\n  Downloading https://download.pytorch.org/whl/"
              "cu113/torch-1.10.2%2Bcu113-cp39-cp39-win_amd64.whl (2442.3 MB)\n     |██████    | "
              "2140.7 MB 6.4 MB/s eta 0:00:48ERROR: Exception:\nTraceback (most recent call last):"
              "\n  File \"C:\\py\\lib\\site-packages\\pip\\_vendor\\urllib3\\response.py\", "
              "line 438, in _error_catcher\n    yield")
    assert f is not None and f.category == "download-integrity" and "2140.7/2442.3 MB" in f.message


def test_a_name_a_library_imports_from_torch_that_torch_lacks_has_no_known_direction() -> None:
    """A second review's shapes: names newer torch dropped (old timm's container_abcs from
    torch._six, old transformers' SAVE_STATE_WARNING) must not be told to upgrade torch."""
    frame = "  File \"/venv/lib/python3.10/site-packages/{0}/__init__.py\", line 3, in <module>\n"
    f = first(frame.format("timm") + "ImportError: cannot import name 'container_abcs' from "
              "'torch._six' (/venv/lib/python3.10/site-packages/torch/_six.py)")
    assert f is not None and "torch removed it" in f.message
    assert f.fix == "pipguard install --upgrade timm"
    f = first(frame.format("transformers") + "ImportError: cannot import name 'SAVE_STATE_WARNING'"
              " from 'torch.optim.lr_scheduler' (/venv/lib/python3.10/site-packages/torch/optim/"
              "lr_scheduler.py)")
    assert f is not None and "upgrade torch" not in f.message and f.fix == "pipguard doctor"
    # torch loading as a namespace package (a broken install): not the library's
    f = first(frame.format("torchvision") + "ImportError: cannot import name 'Tensor' from "
              "'torch' (unknown location)")
    assert f is None or f.category != "companion-mismatch"


def test_a_warnings_path_is_no_importer() -> None:
    """The path at the start of a library's warning line is no frame of the failing import."""
    warned = ("/venv/lib/python3.10/site-packages/transformers/utils/generic.py:441: UserWarning: "
              "torch.utils._pytree._register_pytree_node is deprecated.\n")
    f = first(warned + "Traceback (most recent call last):\n  File \"/home/u/app.py\", line 2, "
              "in <module>\n    from torch.nn import RMSNorm\nImportError: cannot import name "
              "'RMSNorm' from 'torch.nn' (/venv/lib/python3.10/site-packages/torch/nn/__init__.py)")
    assert f is None or "transformers" not in f.message
    f = first(warned.replace("transformers/utils/generic", "torch/_subclasses/functional_tensor")
              + "Traceback (most recent call last):\n  File \"/home/u/app.py\", line 2, in "
              "<module>\n    from torch.nn.attention.flex_attention import flex_attention\n"
              "ModuleNotFoundError: No module named 'torch.nn.attention.flex_attention'")
    assert f is not None and "torch 2.5 or newer" in f.message


def test_the_version_a_module_rule_trusts_is_the_installed_one() -> None:
    """uv's "- torchvision==0.16.2 / + torchvision==0.17.0" and prose naming a version are
    not what is installed; only the context or pip show says that."""
    f = first(" - torchvision==0.16.2\n + torchvision==0.17.0\n  File \"/venv/lib/python3.10/"
              "site-packages/basicsr/data/degradations.py\", line 8, in <module>\nModuleNotFound"
              "Error: No module named 'torchvision.transforms.functional_tensor'")
    assert f is not None and "since 0.17" in f.message
    f = first("you need torch 2.5 for FlexAttention\nModuleNotFoundError: No module named "
              "'torch.nn.attention.flex_attention'")
    assert f is not None and "torch 2.5 or newer" in f.message


def test_a_compiler_elsewhere_in_the_text_does_not_make_a_download_a_build() -> None:
    f = first("$ nvcc --version\nCuda compilation tools, release 12.4, V12.4.131\n$ pip install "
              "torch\nCollecting torch\n  Downloading torch-2.5.1-cp311-cp311-manylinux1_x86_64."
              "whl (906.4 MB)\n" + "x\n" * 2000 + "Killed")
    assert f is not None and f.category == "resource-exhausted" and "--no-cache-dir" in f.fix
    f = first("Collecting nvidia-cuda-nvcc-cu12\n  Downloading nvidia_cuda_nvcc_cu12-12.3.107-py3"
              "-none-manylinux1_x86_64.whl (22.0 MB)\nCollecting torch\n  Downloading torch-2.5.1"
              "-cp311-cp311-manylinux1_x86_64.whl (906.4 MB)\nKilled")
    assert f is not None and "compiled from source" not in f.message
    # a build's tail alone, with no install line: the build ran out (uv names it so too)
    f = first("g++: fatal error: Killed signal terminated program cc1plus\ncompilation terminated"
              ".\nerror: command '/usr/bin/g++' failed with exit code 1\n  × Failed to build "
              "`flash-attn==2.7.4.post1`")
    assert f is not None and f.fix == "export MAX_JOBS=2 && uv pip install flash-attn"  # (uv's)


def test_poetrys_same_name_wording_is_no_confusion() -> None:
    f = first("The dependency name for typing-extensions does not match the actual package's "
              "name: typing_extensions")
    assert f is None or f.category != "dependency-confusion"


def test_a_companions_name_elsewhere_in_a_dll_path_is_not_its_binary() -> None:
    f = first("The procedure entry point OPENSSL_sk_new_reserve could not be located in the "
              "dynamic link library C:\\Users\\u\\anaconda3\\envs\\torchaudio\\Library\\bin"
              "\\libssl-1_1-x64.dll")
    assert f is None or f.category != "companion-mismatch"


@pytest.mark.parametrize(("text", "name", "fix"), [
    ("src/deform_conv_cuda.cpp:559:3: error: ‘AT_CHECK’ was not declared in this scope; did you "
     "mean ‘DCHECK’?\nerror: command '/usr/bin/gcc' failed with exit code 1", "AT_CHECK",
     "pipguard doctor"),
    ("pkg/include\\emd.h(32): error C3861: 'AT_CHECK': identifier not found", "AT_CHECK",
     "pipguard doctor"),
    ("x.cpp(7): error C2065: 'AT_CHECK': undeclared identifier", "AT_CHECK", "pipguard doctor"),
    ("  Building wheel for antlr4-python3-runtime (setup.py) ... done\n  Building wheel for "
     "pointops (setup.py) ... error\n  src/ball_query.cpp:4:10: fatal error: THC/THC.h: No such "
     "file or directory\n      4 | #include <THC/THC.h>\n  Building wheel for other (setup.py)",
     "THC/THC.h", "pipguard install --upgrade pointops"),  # the build that failed there
    ("src/k.cu:3:10: fatal error: THC/THCAtomics.cuh: No such file or directory",
     "THC/THCAtomics.cuh", "pipguard doctor"),
    ("shift_cuda.cpp:41:27: error: ‘THCState_getCurrentStream’ was not declared in this scope",
     "THCState_getCurrentStream", "pipguard doctor"),
    ("roi.cpp:4:8: error: ‘THCState’ does not name a type", "THCState", "pipguard doctor"),
    ("Obtaining file:///src/maskrcnn\n  Running setup.py develop for maskrcnn_benchmark\n"
     "nms.cpp:4:23: error: ‘AT_CHECK’ was not declared in this scope", "AT_CHECK",
     "pipguard doctor"),  # a local project: no index's to upgrade
])  # fmt: skip
def test_an_extension_using_a_name_torch_removed_from_its_cpp_api(
        text: str, name: str, fix: str) -> None:
    """The compiler's "not declared" of AT_CHECK (gone in 1.5) or THC (gone by 1.11): the
    extension's source is written for an older torch, not a broken toolchain."""
    f = first(text)
    assert f is not None and f.category == "companion-mismatch" and name in f.message
    assert f.fix == fix


@pytest.mark.parametrize(("text", "installed"), [
    ("src/x.cpp:3:3: error: ‘my_helper’ was not declared in this scope", {}),  # not torch's
    ("src/x.cpp:3:3: error: ‘THCONST_MAX’ was not declared in this scope", {}),  # nor THC's
    ("src/x.cpp:3:3: error: ‘AT_CHECK’ was not declared in this scope", {"torch": "1.4.0"}),
    ("PyTorch version: 1.4.0\nsrc/x.cpp:3:3: error: ‘AT_CHECK’ was not declared in this scope",
     {}),  # (collect_env's)
])
def test_a_name_torch_has_or_never_had_is_not_read_as_removed(
        text: str, installed: dict[str, str]) -> None:
    found = explain(text, Context(facts=REAL, installed=installed))
    assert all(f.category != "companion-mismatch" for f in found)


def test_a_prerelease_of_the_release_that_removed_it_has_removed_it() -> None:
    text = "roi.cu:1:10: fatal error: THC/THC.h: No such file or directory"
    found = explain(text, Context(facts=REAL, installed={"torch": "1.11.0a0+17540c5"}))
    assert found and found[0].category == "companion-mismatch"


def test_a_toolkit_of_another_cuda_than_torchs_brings_torch_to_the_toolkit() -> None:
    """The torch built for the toolkit here, where the installed release is published for it
    on this platform; else the toolkit of torch's CUDA."""
    text = ("RuntimeError:\nThe detected CUDA version (12.4) mismatches the version that was used "
            "to compile\nPyTorch (12.1). Please make sure to use the same CUDA versions.")
    f = explain(text, Context(facts=REAL, installed={"torch": "2.5.1"}))[0]
    assert f.category == "cuda-libraries" and "cu124" in f.message
    assert f.fix == "pipguard install --force-reinstall --torch-backend cu124 torch==2.5.1"
    for installed, machine in (({}, None),  # which torch: not said (any would do)
                               ({"torch": "2.1.0a0+32f93b1"}, None),  # a source build
                               ({"torch": "2.5.1"}, "aarch64")):  # no cu124 2.5.1 there
        f = explain(text, Context(facts=REAL, installed=installed, machine=machine))[0]
        assert f.fix == "export CUDA_HOME=/usr/local/cuda-12.1", installed
    f = explain(text.replace("12.4", "12.3"), Context(facts=REAL, installed={"torch": "2.5.1"}))[0]
    assert f.fix == "export CUDA_HOME=/usr/local/cuda-12.1"  # no cu123 torch


@pytest.mark.parametrize(("text", "package"), [
    ("C:\\Anaconda3\\lib\\site-packages\\torchvision\\ops\\boxes.py in <module>()\n"
     "      1 import torch\n----> 2 from torchvision import _C\n\n"
     "ImportError: DLL load failed: The specified module could not be found.", "torchvision"),
    ('  File "C:\\py\\lib\\site-packages\\torchaudio\\_extension.py", line 5, in <module>\n'
     "    from torchaudio._extension import _C\n"
     "ImportError: DLL load failed while importing _C: The specified module could not be "
     "found.", "torchaudio"),
])  # fmt: skip
def test_a_companions_own_module_failing_to_load_on_windows_is_the_companions(
        text: str, package: str) -> None:
    """torch's DLLs had loaded (torch was imported first); the companion's _C did not: its
    binary is built for another torch, not a missing VC++ runtime of torch's."""
    f = first(text)
    assert f is not None and f.category == "companion-mismatch" and package in f.fix


@pytest.mark.parametrize("text", [
    '  File "C:\\py\\lib\\site-packages\\torch\\__init__.py", line 81, in <module>\n'
    "    from torch._C import *\nImportError: DLL load failed: The specified module could not "
    "be found.",
    "    from torchvision import _C\n    import numpy\n  File \"x.py\", line 3\n"
    "    from torch._C import *\nImportError: DLL load failed while importing _C: The specified "
    "module could not be found.",  # torch's, the last import
])  # fmt: skip
def test_torchs_own_module_failing_to_load_on_windows_stays_a_missing_runtime(text: str) -> None:
    f = first(text)
    assert f is not None and f.category == "cuda-libraries" and "VCRedist" in f.fix


@pytest.mark.parametrize(("path", "fix"), [
    ("/home/u/venv/lib/python3.11/site-packages", "pipguard install --force-reinstall torch"),
    ("C:\\sd\\venv\\Lib\\site-packages", "pipguard install --upgrade triton-windows"),
])
def test_inductor_without_a_working_triton_gets_the_triton_torch_was_built_with(
        path: str, fix: str) -> None:
    """torch's Linux wheel requires its Triton (a reinstall restores it); Windows has no
    Triton wheels, only the community triton-windows build."""
    text = (f'  File "{path}/torch/_dynamo/output_graph.py", line 1446, in _call_user_compiler\n'
            "torch._dynamo.exc.BackendCompilerFailed: backend='inductor' raised:\n"
            "RuntimeError: Cannot find a working triton installation. Either the package is "
            "not installed or it is too old.")
    f = first(text)
    assert f is not None and f.category == "companion-mismatch" and f.fix == fix


def test_a_module_a_torch_pinned_package_removed_upgrades_the_code_importing_it() -> None:
    """triton.ops went in Triton 3.2, the Triton torch 2.6 requires: bitsandbytes must move,
    not triton (a companion, torchvision, moves back with its torch instead)."""
    text = ('  File "/u/lib/python3.10/site-packages/bitsandbytes/triton/int8_matmul.py", line '
            "12, in <module>\n    from triton.ops.matmul_perf_model import early_config_prune\n"
            "ModuleNotFoundError: No module named 'triton.ops'")
    f = first(text)
    assert f is not None and f.category == "companion-mismatch"
    assert f.fix == "pipguard install --upgrade bitsandbytes" and "3.2" in f.message
    text = ('  File "/u/lib/python3.10/site-packages/basicsr/data/degradations.py", line 8\n'
            "    from torchvision.transforms.functional_tensor import rgb_to_grayscale\n"
            "ModuleNotFoundError: No module named 'torchvision.transforms.functional_tensor'")
    f = first(text)
    assert f is not None and f.fix == 'pipguard install "torchvision<0.17"'


def test_a_companions_own_module_wanting_another_cuda_runtime_on_linux_is_the_companions() -> None:
    """torchvision uses torch's CUDA runtime: its _C asking for libcudart.so.9.0 was built for
    another CUDA than torch's. Another extension (flash-attn) may expect a runtime of its
    own on the library path: still a CUDA library."""
    tv = ('  File "/env/lib/python3.7/site-packages/torchvision/ops/boxes.py", line 2\n'
          "    from torchvision import _C\n"
          "ImportError: libcudart.so.9.0: cannot open shared object file: No such file or "
          "directory")
    f = first(tv)
    assert f is not None and f.category == "companion-mismatch" and "torchvision" in f.fix
    fa = ('  File "/env/lib/python3.9/site-packages/flash_attn/flash_attn_interface.py", line 10\n'
          "    import flash_attn_2_cuda as flash_attn_cuda\n"
          "ImportError: libcudart.so.11.0: cannot open shared object file: No such file or "
          "directory")
    f = first(fa)
    assert f is not None and f.category == "cuda-libraries"


@pytest.mark.parametrize("text", [
    "  Caused by: failed to write to file `/root/.cache/uv/archive-v0/x/torch/lib/libtorch_cuda"
    ".so`: No space left on device (os error 28)",
    "OSError: [Errno 28] No space left on device: '/home/u/.cache/pip/http-v2/a/b/c'",
])
def test_a_disk_filling_up_in_an_installers_cache_is_the_install_running_out(text: str) -> None:
    f = first(text)
    assert f is not None and f.category == "resource-exhausted"


def test_a_disk_filling_up_under_a_programs_own_files_is_not_the_install() -> None:
    assert first("OSError: [Errno 28] No space left on device: '/data/ckpt/epoch_3.pt'") is None


@pytest.mark.parametrize("text", [
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure "
    "that the latest NVIDIA driver is installed and running.",
    ">>> torch.cuda.is_available()\nFalse\n$ nvidia-smi\nbash: nvidia-smi: command not found",
    "'nvidia-smi' is not recognized as an internal or external command,\noperable program or "
    "batch file.\n>>> torch.cuda.is_available()\nFalse",
])
def test_no_driver_answering_nvidia_smi_is_a_gpu_build_without_a_gpu(text: str) -> None:
    """nvidia-smi missing or unable to reach the driver: no driver is loaded (a GPU on the bus
    without one, a container without the runtime), whatever torch build is installed."""
    f = first(text)
    assert f is not None and f.category == "gpu-build-without-gpu"


@pytest.mark.parametrize(("text", "category"), [
    ("vllm 0.6.3 requires torch==2.4.0, but you have torch 2.5.0 which is incompatible.",
     "companion-mismatch"),  # an exact pin: built against that torch
    ("  × The package `vllm` requires `torch==2.4.0`, but `2.5.0` is installed",
     "companion-mismatch"),  # (uv's check after an install)
    ("fastai 2.7.12 requires torch<2.1,>=1.7, but you have torch 2.1.0 which is incompatible.",
     "resolver-conflict"),  # a range: the resolver's business
])
def test_a_package_pinned_to_one_torch_release_is_a_companion_of_it(
        text: str, category: str) -> None:
    f = first(text)
    assert f is not None and f.category == category


@pytest.mark.parametrize("frame", [
    '  File "../ltr/data/loader.py", line 5, in <module>',  # a repository's own code
    '  File "/src/emea/src/transformers/trainer_pt_utils.py", line 40, in <module>',  # vendored
])
def test_the_users_own_code_asking_torch_for_a_name_it_lacks_is_written_for_another_torch(
        frame: str) -> None:
    text = (f"Traceback (most recent call last):\n{frame}\n    from torch._six import "
            "int_classes\nImportError: cannot import name 'int_classes' from 'torch._six' "
            "(/usr/lib/python3.7/site-packages/torch/_six.py)")
    f = first(text)
    assert f is not None and f.category == "companion-mismatch" and "this code" in f.message


@pytest.mark.parametrize("text", [
    "ImportError: cannot import name 'int_classes' from 'torch._six'",  # no code named
    '  File "/env/lib/python3.9/site-packages/torch/utils/data/_utils/collate.py", line 5\n'
    "ImportError: cannot import name 'int_classes' from 'torch._six'",  # torch's own: damaged
])
def test_a_name_torch_lacks_asked_by_no_code_or_by_torch_itself_is_not_another_release(
        text: str) -> None:
    f = first(text)
    assert f is None or f.category != "companion-mismatch"


def test_ctranslate2_float16_on_a_gpu_older_than_volta_is_a_feature_it_lacks() -> None:
    text = ('  File "D:\\asr\\site-packages\\faster_whisper\\transcribe.py", line 130\n'
            "ValueError: Requested float16 compute type, but the target device or backend do "
            "not support efficient float16 computation.")
    f = first(text)
    assert f is not None and f.category == "gpu-arch-unsupported" and "float32" in f.fix
    cpu = 'model = WhisperModel("small", device="cpu", compute_type="float16")\n' + text
    assert (g := first(cpu)) is None or g.category != "gpu-arch-unsupported"


@pytest.mark.parametrize(("text", "fix"), [
    ('  File "build.py", line 3, in <module>\n    from torch.utils.ffi import create_extension\n'
     '  File "/env/lib/python3.6/site-packages/torch/utils/ffi/__init__.py", line 1\n'
     "ImportError: torch.utils.ffi is deprecated. Please use cpp extensions instead.",
     'pipguard install "torch<1.0"'),  # torch's own stub raises: its frame is last
    ('>>> from torchvision.models.detection.faster_rcnn import FastRCNNPredictor\n'
     "ModuleNotFoundError: No module named 'torchvision.models.detection'",
     'pipguard install --upgrade "torchvision>=0.3"'),
])
def test_modules_torch_and_torchvision_removed_or_added_long_ago(text: str, fix: str) -> None:
    f = first(text)
    assert f is not None and f.category == "companion-mismatch" and f.fix == fix


def test_a_source_build_refusing_this_python_is_no_release_for_it() -> None:
    text = ("  Building wheel for llvmlite (setup.py) ... error\n"
            "RuntimeError: Cannot install on Python version 3.11.8; only versions >=3.7,<3.11 "
            "are supported.\n      [end of output]")
    f = first(text)
    assert f is not None and f.category == "no-matching-distribution"
    assert f.fix == "pipguard install --upgrade llvmlite" and ">=3.7,<3.11" in f.message


@pytest.mark.parametrize("text", [
    'hf_transfer: error: "No space left on device (os error 28)"',  # Rust, but not uv's
    '  File "/home/u/.cache/uv/archive-v0/ab/lib/python3.11/site-packages/torch/serialization.py"'
    ", line 9, in save\nOSError: [Errno 28] No space left on device",  # a program run by uvx
])
def test_a_disk_filling_up_under_a_program_run_from_uvs_cache_is_not_the_install(
        text: str) -> None:
    f = first(text)
    assert f is None or f.category != "resource-exhausted"


def test_uv_installing_a_companion_that_swapped_torch_is_read_as_that() -> None:
    f = first("$ uv pip install --python 3.11 xformers\nInstalled 3 packages in 1.2s\n"
              " - torch==2.4.1+cu121\n + torch==2.5.1\n + xformers==0.0.28.post3")
    assert f is not None and f.category == "companion-mismatch" and "xformers" in f.message


@pytest.mark.parametrize("text", [
    "$ pip install -U accelerate\n  Attempting uninstall: torch\n    Found existing "
    "installation: torch 2.1.0\n    Uninstalling torch-2.1.0:\n      Successfully uninstalled "
    "torch-2.1.0\nSuccessfully installed accelerate-1.0.0 torch-2.5.1",  # an upgrade it asked for
    "$ uv pip install -r requirements.txt\n - torch==2.1.0\n + torch==2.5.1",  # (-r's value)
    "$ uv sync\n - torch==2.5.1+cu124\n + torch==2.5.1\n - torchvision==0.20.1+cu124\n"
    " + torchvision==0.20.1",  # no install command named a companion
])
def test_torch_moving_in_an_install_that_asked_for_no_companion_is_no_swap(text: str) -> None:
    f = first(text)
    assert f is None or "replaced torch" not in f.message


def test_uv_removing_torch_without_another_is_no_swap() -> None:
    f = first("Uninstalled 1 package in 0.5s\n - torch==2.4.1+cu121")
    assert f is None or "replaced torch" not in f.message


def test_uv_building_pypis_torch_placeholder_is_no_wheel_for_this_target() -> None:
    f = first("error: Failed to prepare distributions\n  Caused by: Failed to download and build "
              "`torch==0.1.2`\n  Caused by: Build backend failed to determine requirements")
    assert f is not None and f.category == "no-matching-distribution" and "0.1.2" in f.message


@pytest.mark.parametrize("module", ["utils", "optim", "autograd", "nn"])
def test_a_subpackage_every_torch_has_missing_is_a_damaged_torch(module: str) -> None:
    """Not code written for another release: every torch since 1.0 has it."""
    f = first(f"  File \"train.py\", line 3, in <module>\n    import torch.{module}\n"
              f"ModuleNotFoundError: No module named 'torch.{module}'")
    assert f is not None and f.category == "corrupt-install"


def test_nvidia_smis_driver_under_the_floor_of_torchs_cuda_is_a_driver_too_old() -> None:
    """nvidia-smi's header names the driver; torch.__version__ answered names the build."""
    text = ("| NVIDIA-SMI 470.82.01    Driver Version: 470.82.01    CUDA Version: 11.4     |\n"
            ">>> torch.__version__\n'2.1.0+cu121'\n>>> torch.cuda.is_available()\nFalse")
    f = first(text)
    assert f is not None and f.category == "driver-too-old" and "525" in f.message
    new = text.replace("470.82.01", "550.54.14").replace("11.4", "12.4")
    g = first(new)  # (a driver that runs cu121: the driver is not why)
    assert g is None or g.category != "driver-too-old"


@pytest.mark.parametrize(("text", "category"), [
    ('  File "/home/u/yolov5-simple/models/common.py", line 18, in <module>\n'
     "    from torch.cuda import amp\nImportError: cannot import name 'amp'",
     "companion-mismatch"),  # (Python 3.6 says no "from")
    ('  File "/env/lib/python3.7/site-packages/crypten/common/serial.py", line 96\n'
     "AttributeError: module 'torch._C' has no attribute 'HalfStorageBase'",
     "companion-mismatch"),  # a package asking torch._C for what it no longer has
])
def test_older_wordings_and_torch_c_names_asked_by_a_package(text: str, category: str) -> None:
    f = first(text)
    assert f is not None and f.category == category and "a guess" not in f.message


def test_torch_c_names_missing_in_torchs_own_frame_are_not_another_release() -> None:
    f = first('  File "/env/lib/python3.6/site-packages/torch/__init__.py", line 222\n'
              "AttributeError: module 'torch._C' has no attribute 'BoolStorageBase'")
    assert f is None or "which this torch does not have" not in f.message


@pytest.mark.parametrize(("text", "category"), [
    ("OSError: Error relocating /usr/local/lib/python3.9/site-packages/torch/lib/libgomp-a34b3233"
     ".so.1: pthread_attr_setaffinity_np: symbol not found", "no-matching-distribution"),  # musl
    ("ImportError: libnvinfer.so.8: cannot open shared object file: No such file or directory",
     "cuda-libraries"),  # TensorRT's
    ("/usr/bin/ld: cannot find -lcurand\ncollect2: error: ld returned 1 exit status",
     "cuda-libraries"),  # an extension's link step
    ("RuntimeError: torchvision::nms does not exist", "companion-mismatch"),
    ("error: found distribution torchaudio==2.0.0 @ registry+https://download.pytorch.org/whl/"
     "cu121 with neither wheels nor source distribution", "no-matching-distribution"),
    ("RuntimeError: torch._scaled_mm is only supported on CUDA devices with compute capability "
     ">= 9.0 or 8.9, or ROCm MI300+", "gpu-arch-unsupported"),
    ("AssertionError: Device compute capability 8.9 or higher required for FP8 execution.",
     "gpu-arch-unsupported"),
])
def test_tools_own_sentences_read_by_a_rule_not_a_guess(text: str, category: str) -> None:
    f = first(text)
    assert f is not None and f.category == category and f.severity != "info"


@pytest.mark.parametrize(("text", "category"), [
    ("  File \"/env/lib/python3.8/site-packages/bitsandbytes/cuda_setup/main.py\", line 57\n"
     "    cuda = ctypes.CDLL(\"libcuda.so\")\n"
     "OSError: libcuda.so: cannot open shared object file: No such file or directory",
     "cuda-libraries"),  # the plain name only the driver's dev link gives (WSL: /usr/lib/wsl)
    ("NotImplementedError: There were no tensor arguments to this function (e.g., you passed an "
     "empty list of Tensors), but no fallback function is registered for schema "
     "torchcodec_ns::create_from_file.", "companion-mismatch"),
])
def test_more_tools_own_sentences_read_by_a_rule(text: str, category: str) -> None:
    f = first(text)
    assert f is not None and f.category == category and f.severity != "info"


def test_the_pytorch_index_standing_in_for_pypi_for_a_package_it_also_serves() -> None:
    """download.pytorch.org serves its own copies of requests' family too (its allow list)."""
    f = first("  × No solution found when resolving dependencies:\n  ╰─▶ Because there is no "
              "version of certifi==2024.8.30 and you require certifi==2024.8.30, we can conclude "
              "that your requirements are unsatisfiable.\n$ uv pip install -r requirements.txt "
              "--index-url https://download.pytorch.org/whl/cu124")
    assert f is not None and f.category == "dependency-confusion"


@pytest.mark.parametrize("text", [
    ">>> torch.version.cuda\n'12.1'\n>>> torch.cuda.is_available()\nFalse",  # said outright
    ">>> torch.__version__\n'2.3.0+cu121'\n>>> torch.cuda.is_available()\nFalse",  # its label
    "$ nvidia-smi\nNo devices were found\n>>> torch.cuda.is_available()\nFalse",  # no GPU seen
])
def test_cuda_unavailable_to_a_cuda_build_is_no_usable_gpu_not_a_cpu_build(text: str) -> None:
    f = first(text)
    assert f is not None and f.category == "gpu-build-without-gpu"


def test_cuda_unavailable_to_a_build_of_unknown_kind_stays_most_often_a_cpu_build() -> None:
    f = first(">>> import torch\n>>> torch.cuda.is_available()\nFalse")
    assert f is not None and f.category == "cpu-build-on-gpu"


def test_a_tensor_method_a_later_torch_added_is_code_for_a_newer_torch() -> None:
    text = ('  File "/home/px/BBAVectors/loss.py", line 68, in forward\n'
            "    mask = mask.unsqueeze(2).expand_as(pred).bool()\n"
            "AttributeError: 'Tensor' object has no attribute 'bool'")
    f = first(text)
    assert f is not None and f.category == "companion-mismatch"
    assert f.fix == "pipguard install --upgrade torch"
    # a name no torch release gave Tensor: the code's own mistake, not another release
    assert first(text.replace("'bool'", "'append'")) is None


def test_an_exact_pin_on_torch_says_which_release_to_take() -> None:
    f = first("vllm 0.4.0 requires torch==2.1.2, but you have torch 2.3.0 which is incompatible.")
    assert f is not None and f.message.startswith("vllm 0.4.0 is built for torch==2.1.2")
    assert "release of it made for this torch" in f.message
    assert f.fix == "pipguard install torch==2.3.0 vllm"


@pytest.mark.parametrize("text", [
    "WARNING: The NVIDIA Driver was not detected.  GPU functionality will not be available.\n"
    "ModuleNotFoundError: No module named 'wandb'",  # NGC's banner at every start
    "/bin/sh: 1: nvidia-smi: not found\nModuleNotFoundError: No module named 'cv2'",
])
def test_no_nvidia_smi_or_ngcs_banner_alone_is_no_gpu_finding(text: str) -> None:
    f = first(text)
    assert f is None or f.category not in ("gpu-build-without-gpu", "driver-too-old")


def test_a_cpu_build_with_no_nvidia_smi_stays_a_cpu_build() -> None:
    f = first(">>> torch.__version__\n'2.5.1+cpu'\n>>> torch.cuda.is_available()\nFalse\n"
              "$ nvidia-smi\nbash: nvidia-smi: command not found")
    assert f is not None and f.category == "cpu-build-on-gpu"


@pytest.mark.parametrize("text", [
    '  File "/home/u/proj/model.py", line 3, in <module>\n'
    "AttributeError: module 'torch.nn' has no attribute 'Moudle'",  # the code's own typo
    '  File "<frozen importlib._bootstrap>", line 1\n'
    "ImportError: cannot import name 'int_classes' from 'torch._six'",  # no user's code
])
def test_no_other_release_is_blamed_for_a_typo_or_a_frame_that_is_no_users(text: str) -> None:
    f = first(text)
    assert f is None or "which this torch does not have" not in f.message


def test_libcuda_by_its_plain_name_needs_an_nvidia_machine_and_the_right_fix() -> None:
    text = ('  File "/env/lib/python3.8/site-packages/bitsandbytes/cuda_setup/main.py", line 57\n'
            "OSError: libcuda.so: cannot open shared object file: No such file or directory")
    f = first(text)
    assert f is not None and f.fix == "pipguard doctor" and "development" in f.message
    wsl = first(text + "\n(WSL2, 5.15.90.1-microsoft-standard-WSL2)")
    assert wsl is not None and "/usr/lib/wsl/lib" in wsl.fix
    none = explain(text, Context(facts=REAL, hardware=Hardware(accelerator="none")))
    assert not any("plain name" in g.message for g in none)


def test_a_link_step_missing_a_toolkit_library_points_at_the_toolkit() -> None:
    f = first("/usr/bin/ld: cannot find -lcurand\ncollect2: error: ld returned 1 exit status")
    assert f is not None and "LIBRARY_PATH" in f.fix and "--force-reinstall" not in f.fix


def test_musl_names_the_package_it_refuses_and_does_not_reinstall_it() -> None:
    f = first("ImportError: Error relocating /usr/local/lib/python3.9/site-packages/numpy/core/"
              "_multiarray_umath.so: __memcpy_chk: symbol not found")
    assert f is not None and "numpy" in f.message and "reinstall" not in f.fix


@pytest.mark.parametrize("text", [
    "INFO Device compute capability 8.6 detected\nModuleNotFoundError: No module named 'x'",
    "$ whisperx audio.mp3 --device cpu\nValueError: Requested float16 compute type, but the "
    "target device or backend do not support efficient float16 computation.",
])
def test_a_capability_said_in_passing_or_a_cpu_run_is_no_gpu_too_old(text: str) -> None:
    f = first(text)
    assert f is None or f.category != "gpu-arch-unsupported"


def test_numpys_api_versions_are_read_as_hex_digits_only() -> None:
    """A version run into the next word (rows joined, a paste without its line break) is no
    number to compare, and must not stop the reading."""
    f = first("RuntimeError: module compiled against ABI version 0x1000009Traceback but this "
              "version of numpy is 0x2000000RuntimeError")
    assert f is None or f.category == "numpy-abi"


@pytest.mark.parametrize(("text", "package"), [
    ('OSError: [WinError 127] The specified procedure could not be found. Error loading "C:\\venv'
     '\\lib\\site-packages\\torchaudio\\lib\\libtorchaudio.pyd" or one of its dependencies.',
     "torchaudio"),
    ('Traceback (most recent call last):\n  File "C:\\venv\\lib\\site-packages\\torchvision\\'
     'extension.py", line 10, in <module>\n    from . import _C\nImportError: DLL load failed '
     "while importing _C: The specified procedure could not be found.", "torchvision"),
])
def test_a_procedure_missing_from_a_companions_own_dll_is_the_companion(
        text: str, package: str) -> None:
    f = first(text)
    assert f is not None and f.category == "companion-mismatch" and package in f.fix


def test_a_procedure_missing_from_torchs_own_c_stays_torchs() -> None:
    f = first('  File "C:\\venv\\lib\\site-packages\\torch\\__init__.py", line 128\n'
              "    from torch._C import *\nImportError: DLL load failed while importing _C: The "
              "specified procedure could not be found.")
    assert f is not None and f.category != "companion-mismatch"


def test_torchs_own_c_reached_through_a_companions_import_stays_torchs() -> None:
    f = first('  File "C:\\venv\\lib\\site-packages\\torchvision\\__init__.py", line 5\n'
              "    import torch\n"
              '  File "C:\\venv\\lib\\site-packages\\torch\\__init__.py", line 128\n'
              "ImportError: DLL load failed while importing _C: The specified procedure could not "
              "be found.")
    assert f is None or f.category != "companion-mismatch"


def test_a_cuda_build_with_a_driver_for_an_older_cuda_is_a_driver_too_old() -> None:
    hw = Hardware(accelerator="nvidia", driver_version="470.82", cuda_driver_api="11.4",
                  gpus=(Gpu("nvidia", "RTX 3090", "8.6"),))
    found = explain(">>> torch.version.cuda\n'12.1'\n>>> torch.cuda.is_available()\nFalse",
                    Context(facts=REAL, hardware=hw))
    assert found and found[0].category == "driver-too-old"


@pytest.mark.parametrize("text", [
    "Name: torch\nVersion: 2.3.1\n  File \"/home/u/x/loss.py\", line 68\n"
    "AttributeError: 'Tensor' object has no attribute 'bool'",  # a torch that has it
    '  File "/home/u/x/model.py", line 3\n    import tensorflow as tf\n'
    "AttributeError: 'Tensor' object has no attribute 'bool'",  # TensorFlow's Tensor
])
def test_a_tensor_method_is_no_other_release_where_torch_has_it_or_the_tensor_is_not_torchs(
        text: str) -> None:
    f = first(text)
    assert f is None or "needs a newer torch" not in f.message


def test_a_pytorch_org_link_is_not_the_pytorch_index_in_sight() -> None:
    f = first("  × No solution found when resolving dependencies:\n  ╰─▶ Because there is no "
              "version of requests==2.99 and you require requests==2.99, we can conclude that "
              "your requirements are unsatisfiable.\nSee https://pytorch.org/get-started")
    assert f is None or f.category != "dependency-confusion"


def test_the_linker_names_the_library_without_its_colon() -> None:
    f = first("/usr/bin/ld: cannot find -lcudart: No such file or directory")
    assert f is not None and "libcudart.so" in f.message


@pytest.mark.parametrize("frame", ["/usr/lib/python3.10/concurrent/futures/process.py",
                                   "C:\\Python311\\Lib\\runpy.py"])
def test_a_standard_library_frame_is_no_users_code(frame: str) -> None:
    f = first(f'  File "{frame}", line 3\nImportError: cannot import name \'int_classes\' from '
              "'torch._six'")
    assert f is None or "this code" not in f.message


@pytest.mark.parametrize("text", [
    "GPU available: False, used: False\nTPU available: False, using: 0 TPU cores",  # Lightning
    "Using CPU. Note: This module is much faster with a GPU.",  # EasyOCR
])
def test_a_frameworks_own_word_for_cuda_unavailable_is_read_as_cudas_false(text: str) -> None:
    f = first(text)
    assert f is not None and f.category == "cpu-build-on-gpu"
    assert first(text.replace("False", "True").replace("Using CPU", "Using GPU")) is None


def test_whispers_fp16_notice_on_windows_is_the_cpu_it_fell_back_to_unless_asked_for() -> None:
    text = ("C:\\Users\\u> whisper audio.mp3 --model medium\nC:\\Python311\\Lib\\site-packages\\"
            "whisper\\transcribe.py:114: UserWarning: FP16 is not supported on CPU; using FP32 "
            "instead")
    f = first(text)
    assert f is not None and f.category == "cpu-build-on-gpu"
    assert first(text.replace("--model medium", "--model medium --device cpu")) is None


def test_torchvisions_image_operators_missing_are_torchvision_built_for_another_torch() -> None:
    f = first("RuntimeError: No such operator image::read_file")
    assert f is not None and f.category == "companion-mismatch" and "torchvision" in f.fix


@pytest.mark.parametrize(("frame", "attr", "category"), [
    # torch's own code: its Python and its compiled _C are from different releases
    ('/env/lib/python3.8/site-packages/torch/__init__.py", line 466', "_VariableFunctions",
     "corrupt-install"),
    ('C:\\Python39\\lib\\site-packages\\torch\\__init__.py", line 222', "BoolStorageBase",
     "corrupt-install"),
    # a package's code asking for it: written for another torch
    ('/env/lib/python3.8/site-packages/torch_geometric/typing.py", line 9', "_jit_pass_x",
     "companion-mismatch"),
])
def test_a_name_torch_c_lacks_is_a_mixed_torch_only_where_torch_asks(
        frame: str, attr: str, category: str) -> None:
    f = first(f'Traceback (most recent call last):\n  File "{frame}, in <module>\n'
              f"AttributeError: module 'torch._C' has no attribute '{attr}'")
    assert f is not None and f.category == category
    if category == "corrupt-install":
        assert "--force-reinstall" in f.fix


@pytest.mark.parametrize(("where", "name"), [
    ("cuda/__init__.py", "_cuda_setDevice"),  # a CPU build
    ("cuda/nccl.py", "_nccl_version"),  # Windows' and macOS' builds have no NCCL
])
def test_torchs_own_code_without_a_backends_names_is_no_mixed_torch(where: str,
                                                                    name: str) -> None:
    f = first(f'  File "/env/lib/python3.10/site-packages/torch/{where}", line 8, in x\n'
              f"AttributeError: module 'torch._C' has no attribute '{name}'")
    assert f is None or f.category != "corrupt-install"


@pytest.mark.parametrize("gap", [" ", "\n"])  # (as printed, or wrapped where pip's line is long)
def test_a_package_with_no_distribution_in_pips_conflict_report_is_that_package(gap: str) -> None:
    f = first("ERROR: Cannot install torch==2.10.0+cpu because these package versions have "
              "conflicting dependencies.\n  torch 2.10.0+cpu depends on sympy>=1.13.3\n"
              f"Additionally, some packages in these conflicts have no matching distributions{gap}"
              "available for your environment: sympy\nERROR: ResolutionImpossible")
    assert f is not None and f.category == "no-matching-distribution" and "sympy" in f.message


@pytest.mark.parametrize(("text", "package"), [
    ('  File "/env/lib/python3.10/site-packages/torch_scatter/scatter.py", line 20, in '
     "scatter_sum\n    return torch.ops.torch_scatter.scatter_sum(src, index, dim, out)\n"
     "RuntimeError: Not compiled with CUDA support", "torch-scatter"),
    ("AssertionError: Detectron2 is not compiled with GPU support!", "detectron2"),
    # IPython's frame and its context lines
    ("File ~/env/lib/python3.10/site-packages/torch_scatter/scatter.py:20, in scatter_sum(src)\n"
     "     17     if out is None:\n     18         size = list(src.size())\n     19 \n"
     "---> 20 return torch.ops.torch_scatter.scatter_sum(src, index)\n     21 \n"
     "RuntimeError: Not compiled with CUDA support", "torch-scatter"),
])
def test_a_companions_cpu_build_under_a_cuda_torch_is_that_companion(text: str,
                                                                     package: str) -> None:
    f = first(text)
    assert f is not None and f.category == "companion-mismatch" and package in f.fix
    # ... unless torch itself finds no GPU: a CPU torch (or none) comes first
    f = first(f"{text}\n>>> torch.cuda.is_available()\nFalse")
    assert f is None or f.category != "companion-mismatch"


@pytest.mark.parametrize("text", [
    '  File "/v/site-packages/diffusers/models/modeling_utils.py", line 109, in load\n'
    '    return torch.load(checkpoint_file, map_location="cpu", weights_only=True)\n'
    "TypeError: load() got an unexpected keyword argument 'weights_only'",
    # Python 3.11's markers under the call
    '  File "/v/site-packages/ultralytics/nn/tasks.py", line 518, in torch_safe_load\n'
    '    return torch.load(file, map_location="cpu", weights_only=False), file\n'
    "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
    "TypeError: load() got an unexpected keyword argument 'weights_only'",
    # IPython's frame, its marked line among context lines
    "File ~/v/site-packages/diffusers/models/modeling_utils.py:109, in load_state_dict(f)\n"
    "    107 try:\n--> 109     return torch.load(f, map_location='cpu', weights_only=True)\n"
    "    110 except Exception:\n"
    "TypeError: load() got an unexpected keyword argument 'weights_only'",
])
def test_a_package_using_what_a_newer_torch_added_needs_that_torch(text: str) -> None:
    f = first(text)
    assert f is not None and f.category == "companion-mismatch" and "--upgrade torch" in f.fix


@pytest.mark.parametrize("text", [
    # the user's own call (a typo is as likely), another library's function
    '  File "train.py", line 10, in <module>\n    x = torch.load(f, weights_only=True)\n'
    "TypeError: load() got an unexpected keyword argument 'weights_only'",
    '  File "/v/site-packages/peft/tuners/lora.py", line 10, in __init__\n'
    "    super().__init__(config=config, foo=1)\n"
    "TypeError: __init__() got an unexpected keyword argument 'foo'",
    # the user's callback, run by a framework: the last frame is the user's
    '  File "/v/site-packages/pytorch_lightning/trainer/trainer.py", line 90, in fit\n'
    "    self._call_hooks(ckpt)\n"
    '  File "/home/u/model.py", line 22, in on_load_checkpoint\n'
    "    state = torch.load(ckpt, weight_only=True)\n"
    "TypeError: load() got an unexpected keyword argument 'weight_only'",
    # another function's keyword on a line that also calls torch.load
    '  File "/v/site-packages/mylib/io.py", line 5, in restore\n'
    "    state = self.load(torch.load(p), strict_mode=True)\n"
    "TypeError: load() got an unexpected keyword argument 'strict_mode'",
])
def test_an_unexpected_keyword_is_torchs_only_in_a_packages_call_of_torch(text: str) -> None:
    f = first(text)
    assert f is None or f.category != "companion-mismatch" or "--upgrade torch" not in f.fix


def test_torch_importing_its_own_c_circularly_is_another_torch_folder_first() -> None:
    f = first("ImportError: cannot import name '_C' from partially initialized module 'torch' "
              "(most likely due to a circular import) (/home/u/pytorch/torch/__init__.py)")
    assert f is not None and f.category == "corrupt-install" and "torch.__file__" in f.fix
    # the installed torch's own folder named, or another name: a file of the user's shadowing
    # a module torch imports, not another torch
    for name, path in (("_C", "/v/site-packages/torch/__init__.py"),
                       ("nn", "/home/u/pytorch/torch/__init__.py")):
        f = first(f"ImportError: cannot import name '{name}' from partially initialized module "
                  f"'torch' (most likely due to a circular import) ({path})")
        assert f is None or "torch.__file__" not in f.fix, name


@pytest.mark.parametrize(("text", "category"), [
    ("ImportError: k2 was built using PyTorch 1.11.0+cu102\nBut you are using PyTorch 1.10.0+cu102 "
     "to run it", "companion-mismatch"),
    ("RuntimeError: torchsparse was compiled with PyTorch 2.0.1, but you have PyTorch 2.1.0",
     "companion-mismatch"),
    ("This wheel was built with torch 2.1.0. You have torch 2.2.0.", None),  # no package named
    ("mylib was built with torch 2.1.0 and you are using torch 2.1.0", None),  # the same torch
])
def test_a_packages_own_check_of_the_torch_it_was_built_with(text: str,
                                                            category: str | None) -> None:
    f = first(text)
    assert (f.category if f and f.severity != "info" else None) == category


@pytest.mark.parametrize(("text", "folder"), [
    # the loader names the CUDA library that should have had the symbol: an older copy of it
    # shadows the wheel's, whatever the symbol is called
    ("OSError: /v/site-packages/torch/lib/libtorch_cuda.so: undefined symbol: "
     "cudaGraphInstantiateWithFlags, version libcudart.so.11.0", "cuda_runtime"),
    ("ImportError: /usr/local/cuda/lib64/libcublas.so.11: undefined symbol: "
     "cublasLtBIIMatmulAlgoGetHeuristic, version libcublasLt.so.11", "cublas"),
])
def test_a_symbol_missing_from_the_cuda_library_the_loader_names_is_that_library(
        text: str, folder: str) -> None:
    f = first(text)
    assert f is not None and f.category == "cuda-libraries" and f"/nvidia/{folder}/lib" in f.fix


@pytest.mark.parametrize(("text", "fix"), [
    # Docker's disk filling up as it writes a layer of torch's files
    ("failed to register layer: Error processing tar file(exit status 1): write /usr/local/lib/"
     "python3.10/site-packages/torch/lib/libtorch_cuda.so: no space left on device", "docker"),
    # Windows out of memory itself (not the page file) loading torch's DLLs
    ('OSError: [WinError 8] Not enough memory resources are available to process this command. '
     'Error loading "C:\\venv\\lib\\site-packages\\torch\\lib\\cudnn_adv_infer64_8.dll" or one '
     "of its dependencies.", "wmic"),
    # nvcc's compiler killed while a package was built
    ("ERROR: Failed building wheel for flash-attn\nnvcc error   : 'cicc' died due to signal 9 "
     "(Kill signal)", "MAX_JOBS"),
])
def test_memory_and_disk_in_more_of_their_words(text: str, fix: str) -> None:
    f = first(text)
    assert f is not None and f.category == "resource-exhausted" and fix in f.fix


@pytest.mark.parametrize(("text", "category"), [
    ("error: Failed to prepare distributions\n  Caused by: Failed to fetch wheel: jinja2==3.1.4\n"
     "  Caused by: HTTP status client error (403 Forbidden) for url (https://download.pytorch.org"
     "/whl/jinja2-3.1.4-py3-none-any.whl)", "dependency-confusion"),
    ("ERROR: HTTP error 404 while getting https://download.pytorch.org/whl/requests-2.28.1-py3-"
     "none-any.whl", "dependency-confusion"),
    # torch's own file refused is no other project's copy
    ("ERROR: HTTP error 403 while getting https://download.pytorch.org/whl/cu121/torch-2.1.0%2B"
     "cu121-cp310-cp310-linux_x86_64.whl", None),
])
def test_a_common_packages_file_refused_by_the_pytorch_index(text: str,
                                                             category: str | None) -> None:
    f = first(text)
    assert (f.category if f and f.severity != "info" else None) == category


@pytest.mark.parametrize("name", ["version", "save", "manual_seed", "randn"])
def test_a_name_every_torch_has_missing_is_another_torch_module(name: str) -> None:
    f = first(f"AttributeError: module 'torch' has no attribute '{name}'")
    assert f is not None and f.category == "corrupt-install" and "torch.__file__" in f.fix


def test_a_name_numpy_2_removed_is_code_written_for_numpy_1() -> None:
    f = first('  File "/v/site-packages/imgaug/imgaug.py", line 45, in <module>\n'
              "    NP_FLOAT_TYPES = set(np.sctypes['float'])\n"
              "AttributeError: `np.sctypes` was removed in the NumPy 2.0 release. Access dtypes "
              "explicitly instead.")
    assert f is not None and f.category == "numpy-abi" and "imgaug" in f.message
    assert "numpy<2" in f.fix


@pytest.mark.parametrize(("text", "who", "need"), [
    ("RuntimeError: Unsloth: Your torch version is 2.1.0 but Unsloth requires torch>=2.4.0",
     "Unsloth", "2.4.0"),
    ("AssertionError: Torch version must be >= 2.0.0, got 1.13.1+cu117", "the code", "2.0.0"),
    ("RuntimeError: PyTorch version 2.2.0 is not supported, please upgrade to >= 2.3.0",
     "the code", "2.3.0"),
    ("ImportError: peft requires torch>=1.13.0 but found torch==1.12.1", "peft", "1.13.0"),
    ("WARNING: torchao version 0.8.0 requires torch>=2.6, you have 2.5.1. Some features will be "
     "disabled.", "torchao", "2.6"),
])
def test_a_librarys_own_check_of_an_older_torch(text: str, who: str, need: str) -> None:
    f = first(text)
    assert f is not None and f.category == "companion-mismatch" and who in f.message
    assert f"torch>={need}" in f.fix


@pytest.mark.parametrize("text", [
    # the bound is another package's; the torch found satisfies it; a solver's pins
    "torch 2.5.1+cu121 depends on typing-extensions>=4.8.0",
    "pytorch 2.4**  is not installable because it requires __glibc >=2.17, which is missing",
    # a bound of numpy's, of the driver's, of Python's, near torch
    "RuntimeError: torch 1.13.1 requires numpy at least 1.21.6, found 1.19.5",
    "driver version at least 525.60 required for PyTorch 2.1.0+cu121, found 470.82",
    "torch.compile needs Python at least 3.8, got 3.7.9",
    "Requires torch>=2.0, found torch 2.1.0: OK",
    "Because xformers==0.0.22 depends on torch>=2.0 and you require torch==1.13.1, we can "
    "conclude that your requirements are unsatisfiable.",
])
def test_a_torch_bound_is_a_librarys_check_only_where_torch_falls_short(text: str) -> None:
    f = first(text)
    assert f is None or "or newer (found" not in f.message


def test_poetry_updating_torch_for_the_companion_it_adds_is_the_companion_swapping_it() -> None:
    text = ("$ poetry add xformers\nPackage operations: 1 install, 1 update, 0 removals\n\n"
            "  - Updating torch (2.1.0+cu121 -> 2.5.1)\n  - Installing xformers (0.0.28.post3)")
    f = first(text)
    assert f is not None and f.category == "companion-mismatch" and "2.1.0+cu121" in f.fix
    # torch moved because it was asked for: no swap
    f = first("$ poetry add torch@2.5.1\n  - Updating torch (2.1.0 -> 2.5.1)")
    assert f is None or f.category != "companion-mismatch"


@pytest.mark.parametrize("text", [
    # a plan replacing the CUDA build with conda-forge's CPU one
    "The following packages will be SUPERSEDED by a higher-priority channel:\n\n  pytorch   "
    "pytorch::pytorch-2.1.0-py3.10_cuda12.1_cudnn8.9.2_0 --> conda-forge::pytorch-2.1.0-"
    "cpu_generic_py310h1234567_0",
    # conda-forge's CPU build in a listing
    "# Name                    Version                   Build  Channel\n"
    "pytorch                   2.1.0           cpu_mkl_py310h7f4e5a3_100    conda-forge",
])
def test_conda_forges_cpu_builds_of_pytorch(text: str) -> None:
    f = first(text)
    assert f is not None and f.category == "cpu-build-on-gpu"


def test_comfyuis_startup_lines_naming_a_cpu_torch_on_the_cpu() -> None:
    f = first("Total VRAM 0 MB, total RAM 31943 MB\npytorch version: 2.3.1+cpu\n"
              "Set vram state to: DISABLED\nDevice: cpu")
    assert f is not None and f.category == "cpu-build-on-gpu"
    # a CUDA torch's lines are no CPU build
    assert first("pytorch version: 2.3.1+cu121\nDevice: cuda:0 NVIDIA GeForce RTX 3060") is None


def test_pips_retry_line_refusing_the_indexs_certificate_is_the_certificate() -> None:
    f = first("WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, "
              "status=None)) after connection broken by 'SSLError(SSLCertVerificationError(1, "
              "'[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self signed "
              "certificate in certificate chain (_ssl.c:1129)'))': /whl/cu118/torch/")
    assert f is not None and f.category == "download-integrity" and "cert" in f.fix


@pytest.mark.parametrize("text", [
    # a CUDA build's label, printed first of a one-liner's values or after a label
    "$ python -c 'import torch;print(torch.__version__, torch.cuda.is_available())'\n"
    "2.1.0+cu121 False",
    "torch.cuda.is_available() returns False\ntorch.__version__ 2.0.1+cu117",
    # a container started without a GPU
    '$ docker run -it --rm pytorch/pytorch:2.1.0-cuda12.1-cudnn8-runtime python -c "import '
    'torch; print(torch.cuda.is_available())"\nFalse',
    # every device hidden from the process
    ">>> torch.cuda.is_available()\nFalse\n>>> torch.cuda.device_count()\n0\n"
    "$ echo $CUDA_VISIBLE_DEVICES\n-1",
    "CUDA_VISIBLE_DEVICES=-1 python train.py\ntorch.cuda.is_available(): False",
])
def test_a_gpu_build_or_a_container_without_a_gpu_beside_cudas_false(text: str) -> None:
    f = first(text)
    assert f is not None and f.category == "gpu-build-without-gpu"


def test_a_container_run_with_its_gpus_is_no_container_without_one() -> None:
    f = first('$ docker run --gpus all -it img python -c "import torch; '
              'print(torch.cuda.is_available())"\nFalse')
    assert f is None or f.category != "gpu-build-without-gpu"


@pytest.mark.parametrize(("text", "category"), [
    # collect_env's label beside a CUDA build, and no GPU or driver found
    ("PyTorch version: 2.1.0+cu121\nCUDA used to build PyTorch: 12.1\nIs CUDA available: False\n"
     "GPU models and configuration: No CUDA\nNvidia driver version: No CUDA",
     "gpu-build-without-gpu"),
    # a script's own label beside a CUDA build's version
    ("torch 2.3.1+cu121\ncuda available: False\ndevice count: 0", "gpu-build-without-gpu"),
    # a CPU build's healthy dump on a machine with no GPU: nothing
    ("PyTorch version: 2.5.1+cpu\nCUDA used to build PyTorch: None\nIs CUDA available: False\n"
     "GPU models and configuration: No CUDA\nNvidia driver version: No CUDA", None),
])
def test_a_labelled_cuda_false_beside_the_build_it_is_about(text: str,
                                                          category: str | None) -> None:
    f = first(text)
    assert (f.category if f else None) == category



@pytest.mark.parametrize("text", [
    # the second review's near misses: a healthy download's size in kB; torch's own CUDA
    # wheels refused; a Hugging Face download retried over TLS; a program's own disk filling up
    "  Downloading https://download.pytorch.org/whl/filelock-3.13.1-py3-none-any.whl (404 kB)\n"
    "Successfully installed filelock-3.13.1 torch-2.1.0+cu121",
    "ERROR: HTTP error 403 while getting https://download.pytorch.org/whl/cu121/nvidia_cudnn_cu12"
    "-8.9.2.26-py3-none-manylinux1_x86_64.whl",
    "WARNING:urllib3.connectionpool:Retrying (Retry(total=4, connect=None, read=None, redirect="
    "None, status=None)) after connection broken by 'SSLError(SSLCertVerificationError(1, "
    "'[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed'))': /bert-base-uncased/"
    "resolve/main/config.json",
    "OSError: [Errno 28] No space left on device\nfailed to write image frame_001.png",
])
def test_the_second_reviews_near_misses_give_no_error(text: str) -> None:
    f = first(text)
    assert f is None or f.severity != "error" or f.category not in (
        "dependency-confusion", "download-integrity", "resource-exhausted")


def test_a_typo_of_a_torch_name_is_no_other_torch_module() -> None:
    f = first("AttributeError: module 'torch' has no attribute 'size'")
    assert f is None or f.category != "corrupt-install"


def test_only_the_first_printed_value_is_torchs_version() -> None:
    f = first("print(np.__version__, torch.__version__, torch.cuda.is_available())\n"
              "1.26.4 2.1.0+cpu False")
    assert f is None or "1.26.4" not in f.message + f.fix


@pytest.mark.parametrize(("text", "category"), [
    # a container run over continued lines, asking for the GPU
    ('$ docker run \\\n  --gpus all \\\n  img python -c "import torch; '
     'print(torch.cuda.is_available())"\nFalse', "cpu-build-on-gpu"),
    ('$ nvidia-docker run img python -c "import torch; print(torch.cuda.is_available())"\nFalse',
     "cpu-build-on-gpu"),
    # the CPU asked for: nothing
    ("$ python main.py --cpu\nTotal VRAM 0 MB\npytorch version: 2.3.1+cpu\nDevice: cpu", None),
    # conda-forge's CPU build asked for: nothing
    ("$ conda install -c conda-forge pytorch-cpu\npytorch   2.1.0   cpu_mkl_py310h7f4e5a3_100   "
     "conda-forge", None),
])
def test_the_second_reviews_gpu_near_misses(text: str, category: str | None) -> None:
    f = first(text)
    assert (f.category if f else None) == category


def test_conda_forges_cpu_build_is_answered_with_its_cuda_build() -> None:
    f = first("pytorch                   2.1.0           cpu_mkl_py310h7f4e5a3_100    conda-forge")
    assert f is not None and "pytorch-gpu" in f.fix and "cpuonly" not in f.message


def test_a_cuda_build_with_a_driver_shown_is_not_called_driverless() -> None:
    f = first("PyTorch version: 2.1.0+cu121\nCUDA used to build PyTorch: 12.1\nIs CUDA available: "
              "False\nGPU models and configuration: GPU 0: NVIDIA GeForce RTX 3090\nNvidia driver "
              "version: 535.104.05")
    assert f is not None and f.category == "gpu-build-without-gpu" and "535" in f.message


def test_numpy_2s_removed_name_in_the_users_own_file_names_no_package() -> None:
    f = first('  File "/v/site-packages/streamlit/runtime/scriptrunner/script_runner.py", line 5\n'
              '    exec(code, module.__dict__)\n  File "/app/app.py", line 3, in <module>\n'
              "    x = np.float_(1)\nAttributeError: `np.float_` was removed in the NumPy 2.0 "
              "release. Use `np.float64` instead.")
    assert f is not None and f.category == "numpy-abi" and "streamlit" not in f.message
