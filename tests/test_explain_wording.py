"""Which tool printed a failure text, fixes in that tool's words, and the rules added for
issue 12 (resource exhaustion, free-threaded Python, Windows DLL dependencies), on short
texts written for these tests (the corpus is tests/test_corpus.py's)."""

from __future__ import annotations

import pytest

from pipguard.explain import explain
from pipguard.explain_doc import Context
from pipguard.explain_phrases import installer_of
from pipguard.explain_wording import word_for
from pipguard.knowledge_tables import load_knowledge

KNOWLEDGE = load_knowledge()


def first(text: str, wording: str = "auto") -> tuple[str, str]:
    f = explain(text, Context(facts=KNOWLEDGE, wording=wording))[0]
    return f.category, f.fix


@pytest.mark.parametrize(("text", "tool"), [
    ("  × No solution found when resolving dependencies:\n  ╰─▶ Because ...", "uv"),
    ("$ uv pip install torch\nerror: Failed to download `torch==2.5.1`", "uv"),
    ("Resolved 64 packages in 4ms\nerror: Distribution `torch==2.5.1 @ registry+https://x`", "uv"),
    ("Updating dependencies\nResolving dependencies...\nversion solving failed.", "poetry"),
    ("Installing dependencies from lock file\n  - Installing torch (2.4.0): Failed", "poetry"),
    ("ERROR: No matching distribution found for torch==9", "pip"),
    ("Traceback (most recent call last):\nImportError: libcudnn.so.9: cannot open", "pip"),
    # pixi's conda solver, in uv's frames: no uv command answers it
    ("  × failed to solve the conda requirements of 'default' 'linux-64'\n  ╰─▶ Cannot solve "
     "the request because of: torchvision >=0.19.1 cannot be installed", "pip"),
    ("$ pixi add pytorch\n  × No solution found\n  ╰─▶ Because ...", "pip"),
    ("  × failed to solve the pypi requirements of 'default' 'linux-64'\n  ╰─▶ Because ...", "pip"),
    ("$ pixi run uv pip install torch\n  × No solution found when resolving dependencies:", "uv"),
])  # fmt: skip
def test_installer_of(text: str, tool: str) -> None:
    assert installer_of(text) == tool


@pytest.mark.parametrize(("tool", "fix", "worded"), [
    ("uv", "pipguard install --no-cache-dir torch", "uv pip install --no-cache torch"),
    ("uv", "pip cache remove torch && pipguard install --retries 10 --timeout 120 torch==2.1.0",
     "uv cache clean torch && UV_HTTP_TIMEOUT=120 uv pip install torch==2.1.0"),
    ("uv", "pipguard --python python3.12 install torch", "uv pip install --python 3.12 torch"),
    ("uv", "pipguard plan torch", "uv pip install --dry-run torch"),
    ("poetry", "pipguard install --force-reinstall torch==2.3.0 torchvision==0.18.0",
     "poetry add torch==2.3.0 torchvision==0.18.0"),
    ("poetry", "pipguard install --torch-backend cu121 torch==2.1.0",
     "poetry source add --priority=explicit pytorch-cu121 https://download.pytorch.org/whl/cu121"
     " && poetry add --source pytorch-cu121 torch==2.1.0"),
    ("pip", "pipguard install torch", "pipguard install torch"),
    ("uv", "export LD_LIBRARY_PATH=/x", "export LD_LIBRARY_PATH=/x"),
])  # fmt: skip
def test_word_for(tool: str, fix: str, worded: str) -> None:
    assert word_for(tool, fix) == worded


def test_wording_is_pipguards_unless_asked() -> None:
    text = "$ uv pip install torch\nerror: Failed to download `torch==2.5.1`\n  Caused by: " \
           "request or response body error: unexpected end of file"
    assert first(text, "pipguard")[1].startswith("pipguard install")
    assert first(text)[1].startswith("UV_HTTP_TIMEOUT=120 uv pip install")


@pytest.mark.parametrize(("text", "fix"), [
    ("Collecting torch\n  Downloading torch-2.0.1-cp310-cp310-manylinux1_x86_64.whl (619.9 MB)\n"
     "Killed", "pipguard install --no-cache-dir torch"),
    ("#8 13.6   Downloading torch-1.5.0-cp36-cp36m-manylinux1_x86_64.whl (752.0MB)\nThe command "
     "'/bin/sh -c pip3 install -r r.txt' returned a non-zero code: 137",
     "pipguard install --no-cache-dir torch"),
    ("pip install torch\nERROR: Could not install packages due to an OSError: [Errno 28] No "
     "space left on device", "pip cache purge && pipguard install --no-cache-dir torch"),
    ("$ uv pip install torch\n  × Failed to download `torch==2.6.0`\n  ╰─▶ memory allocation of "
     "2147483648 bytes failed", "uv pip install --no-cache torch"),
])  # fmt: skip
def test_resource_exhausted(text: str, fix: str) -> None:
    assert first(text) == ("resource-exhausted", fix)


def test_out_of_memory_in_the_users_program_is_not_an_install_problem() -> None:
    assert explain("  File \"train.py\", line 3\nMemoryError", Context(facts=KNOWLEDGE)) == ()


def test_a_cut_download_is_not_memory() -> None:
    text = ("Collecting torch\n  Downloading torch-2.3.1-cp310-cp310-manylinux1_x86_64.whl "
            "(779.1 MB)\n     401.2/779.1 MB 3.1 MB/s eta 0:02:03\nERROR: Exception:\nTraceback "
            "(most recent call last):\n  File \"/u/pip/_internal/x.py\"\n")
    found = explain(text, Context(facts=KNOWLEDGE))
    assert [f.category for f in found] == ["download-integrity"]  # cut off: not memory
    assert "cut off at 401.2/779.1 MB" in found[0].message


def test_an_old_pips_bar_short_of_100_percent_before_a_crash_is_a_cut_download() -> None:
    text = ("  Downloading http://download.pytorch.org/whl/cu91/torch-0.4.0-cp36-cp36m-linux_"
            "x86_64.whl (519.5MB)\n    63% |████████████▋       | 327.2MB 1.1MB/s eta 0:02:51\n"
            "Exception:\nTraceback (most recent call last):\n")
    found = explain(text, Context(facts=KNOWLEDGE))
    assert [f.category for f in found] == ["download-integrity"] and "63%" in found[0].message
    done = text.replace("63% |████████████▋       | 327.2MB 1.1MB/s eta 0:02:51",
                        "100% |████████████████████████████████| 519.5MB 1.1MB/s")
    assert first(done)[0] == "resource-exhausted"  # all of it arrived: the cache's memory


def test_uvs_bare_download_failure_is_a_download_problem_but_not_a_404() -> None:
    category, fix = first("  × Failed to download `torch==2.11.0+cu130`\n")
    assert category == "download-integrity" and fix.startswith("UV_HTTP_TIMEOUT=120 uv pip ")
    gone = ("  × Failed to download `torch==2.11.0+cu130`\n  ╰─▶ HTTP status client error "
            "(404 Not Found) for url (https://x/torch.whl)\n")
    assert not any(f.category == "download-integrity"
                   for f in explain(gone, Context(facts=KNOWLEDGE)))


def test_free_threaded_python_given_a_gil_build() -> None:
    text = ("RuntimeWarning: The global interpreter lock (GIL) has been enabled to load module "
            "'torch._C', which has not declared that it can run safely without the GIL.")
    assert first(text)[0] == "no-matching-distribution"


@pytest.mark.parametrize("text", [
    '[WinError 1114] A dynamic link library (DLL) initialization routine failed. Error loading '
    '"C:\\v\\Lib\\site-packages\\torch\\lib\\c10.dll" or one of its dependencies.',
    'OSError: [WinError 126] The specified module could not be found. Error loading '
    '"C:\\v\\Lib\\site-packages\\torch\\lib\\fbgemm.dll" or one of its dependencies.',
])  # fmt: skip
def test_windows_dll_dependencies_are_cuda_libraries(text: str) -> None:
    assert first(text)[0] == "cuda-libraries"


def test_a_companion_that_replaced_torch() -> None:
    text = ("pip install xformers\n  Attempting uninstall: torch\n    Found existing installation: "
            "torch 2.1.2+cu121\n    Uninstalling torch-2.1.2+cu121:\n      Successfully "
            "uninstalled torch-2.1.2+cu121\nSuccessfully installed torch-2.1.1 xformers-0.0.23")
    assert first(text) == ("companion-mismatch", "pipguard install torch==2.1.2+cu121 xformers")


def test_a_companion_that_does_not_match_the_torch_it_joined() -> None:
    text = ("ERROR: pip's dependency resolver does not currently take into account all the "
            "packages that are installed.\ntorchvision 0.18.0 requires torch==2.3.0, but you have "
            "torch 2.2.1 which is incompatible.")
    category, fix = first(text)
    assert category == "companion-mismatch" and fix.startswith("pipguard install torch==2.2.1 ")
