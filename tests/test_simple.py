# ruff: noqa: E501  (verbatim index fixtures are long lines)
"""Tests for pipguard.simple: parsing simple-index pages (PEP 503 HTML, PEP 691 JSON)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.tags import Tag
from packaging.version import Version

from pipguard.namefilter import platform_filter, tag_filter
from pipguard.simple import (
    IndexFile,
    PageError,
    html_links,
    parse_html,
    parse_json,
    scan_html,
)
from tests.reference_parser import parse_html_stdlib

# Verbatim rows of /work/shared/reference/pytorch_index_fixtures.txt (real pages).
FIXTURE_A = """\
 <a href="/whl/cu128/torch-2.7.0%2Bcu128-cp310-cp310-manylinux_2_28_aarch64.whl" data-dist-info-metadata="sha256=86107f52ff49e63a75c9d345374cac30140e053a12ffa728d676fee836e69022" data-core-metadata="sha256=86107f52ff49e63a75c9d345374cac30140e053a12ffa728d676fee836e69022">torch-2.7.0+cu128-cp310-cp310-manylinux_2_28_aarch64.whl</a><br/>
    <a href="/whl/cu128/torch-2.7.0%2Bcu128-cp310-cp310-manylinux_2_28_x86_64.whl#sha256=ac1849553ee673dfafb44c610c60cb60a2890f0e117f43599a526cf777eb8b8c" data-dist-info-metadata="sha256=86107f52ff49e63a75c9d345374cac30140e053a12ffa728d676fee836e69022" data-core-metadata="sha256=86107f52ff49e63a75c9d345374cac30140e053a12ffa728d676fee836e69022">torch-2.7.0+cu128-cp310-cp310-manylinux_2_28_x86_64.whl</a><br/>
    <a href="/whl/cu128/torch-2.7.0%2Bcu128-cp310-cp310-win_amd64.whl#sha256=c52c4b869742f00b12cb34521d1381be6119fa46244791704b00cc4a3cb06850" data-dist-info-metadata="sha256=d51356a768c4e35d5219c34e4d984071fcc0d2ab58673cbc969b75989d312fab" data-core-metadata="sha256=d51356a768c4e35d5219c34e4d984071fcc0d2ab58673cbc969b75989d312fab">torch-2.7.0+cu128-cp310-cp310-win_amd64.whl</a><br/>
    <a href="/whl/cu128/torch-2.7.0%2Bcu128-cp313-cp313t-manylinux_2_28_x86_64.whl#sha256=78e13c26c38ae92d6841cf9ce760d7e9d52bca3e3183de371812e84274b054dc" data-dist-info-metadata="sha256=86107f52ff49e63a75c9d345374cac30140e053a12ffa728d676fee836e69022" data-core-metadata="sha256=86107f52ff49e63a75c9d345374cac30140e053a12ffa728d676fee836e69022">torch-2.7.0+cu128-cp313-cp313t-manylinux_2_28_x86_64.whl</a><br/>
    <a href="/whl/cu128/torch-2.7.0%2Bcu128-cp313-cp313t-win_amd64.whl#sha256=3559e98be824c2b12ab807319cd61c6174d73a524c9961317de8e8a44133c5c5" data-dist-info-metadata="sha256=5328f06cf7c42c53b380ab25403cb75bbdc4cce7c73229da2f02c9b68476807b" data-core-metadata="sha256=5328f06cf7c42c53b380ab25403cb75bbdc4cce7c73229da2f02c9b68476807b">torch-2.7.0+cu128-cp313-cp313t-win_amd64.whl</a><br/>
    <a href="/whl/cu128/torch-2.7.0%2Bcu128-cp39-cp39-manylinux_2_28_x86_64.whl#sha256=f446f97b20cb070747b103fb640df941b88cb68c8d3b01538287d05d56a7e874" data-dist-info-metadata="sha256=86107f52ff49e63a75c9d345374cac30140e053a12ffa728d676fee836e69022" data-core-metadata="sha256=86107f52ff49e63a75c9d345374cac30140e053a12ffa728d676fee836e69022">torch-2.7.0+cu128-cp39-cp39-manylinux_2_28_x86_64.whl</a><br/>
"""

FIXTURE_B = """\
    <a href="/whl/nightly/cu126/torch-2.6.0.dev20250102%2Bcu126-cp39-cp39-win_amd64.whl">torch-2.6.0.dev20250102+cu126-cp39-cp39-win_amd64.whl</a><br/>
    <a href="/whl/nightly/cu126/torch-2.6.0.dev20250103%2Bcu126-cp310-cp310-linux_aarch64.whl" data-dist-info-metadata="sha256=3217e3132055e58b637de9707757c7cc46317d928264f38baf9187c063f1fb34" data-core-metadata="sha256=3217e3132055e58b637de9707757c7cc46317d928264f38baf9187c063f1fb34">torch-2.6.0.dev20250103+cu126-cp310-cp310-linux_aarch64.whl</a><br/>
    <a href="/whl/nightly/cu126/torch-2.6.0.dev20250103%2Bcu126-cp310-cp310-manylinux_2_28_x86_64.whl" data-dist-info-metadata="sha256=b69536f947ca5a470fcba3279faa6373780daff1837f1d26c7b32cc81dc653ee" data-core-metadata="sha256=b69536f947ca5a470fcba3279faa6373780daff1837f1d26c7b32cc81dc653ee">torch-2.6.0.dev20250103+cu126-cp310-cp310-manylinux_2_28_x86_64.whl</a><br/>
"""

# A Markdown rendering of the page; converted to anchors below.
FIXTURE_C = """\
[torch-2.5.1+cu124-cp312-cp312-linux_x86_64.whl](https://download.pytorch.org/whl/cu124/torch-2.5.1%2Bcu124-cp312-cp312-linux_x86_64.whl#sha256=bf6484bfe5bc4f92a4a1a1bf553041505e19a911f717065330eb061afe0e14d7)
[torch-2.5.1+cu124-cp312-cp312-win_amd64.whl](https://download.pytorch.org/whl/cu124/torch-2.5.1%2Bcu124-cp312-cp312-win_amd64.whl#sha256=3c3f705fb125edbd77f9579fa11a138c56af8968a10fc95834cdd9fdf4f1f1a6)
[torch-2.5.1+cu124-cp313-cp313-linux_x86_64.whl](https://download.pytorch.org/whl/cu124/torch-2.5.1%2Bcu124-cp313-cp313-linux_x86_64.whl#sha256=e9bebf91ede89267577911da4b0709ac6113a0cff6a1c2202c046b1ec2a51601)
[torch-2.5.1+cu124-cp39-cp39-win_amd64.whl](https://download.pytorch.org/whl/cu124/torch-2.5.1%2Bcu124-cp39-cp39-win_amd64.whl#sha256=9036c4372dec409842a80965d94b7b0fb4298e0967ceb03336a42c83778faa6f)
[torch-2.5.1-cp310-cp310-linux_aarch64.whl](https://download.pytorch.org/whl/cu124/torch-2.5.1-cp310-cp310-linux_aarch64.whl#sha256=d468d0eddc188aa3c1e417ec24ce615c48c0c3f592b0354d9d3b99837ef5faa6)
"""

FIXTURE_D = """\
<!DOCTYPE html>
<html>
  <body>
    <h1>Links for torch</h1>
    <a href="/whl/cu117/torch-1.13.0%2Bcu117-cp310-cp310-win_amd64.whl#sha256=a0b87b3c87e16f472aa5c87dd31a071211cdec972de280ad1aacff0d245354f8">torch-1.13.0+cu117-cp310-cp310-win_amd64.whl</a><br/>
    <a href="/whl/cu117/torch-1.13.0%2Bcu117-cp37-cp37m-linux_x86_64.whl#sha256=eaecf21f4944f62302f73a6a69f0a8fa3f25ad3cff536b1eef5a5cf4203b6fd0">torch-1.13.0+cu117-cp37-cp37m-linux_x86_64.whl</a><br/>
    <a href="/whl/torch-2.0.1-cp38-cp38-manylinux2014_aarch64.whl#sha256=0882243755ff28895e8e6dc6bc26ebcf5aa0911ed81b2a12f241fc4b09075b13">torch-2.0.1-cp38-cp38-manylinux2014_aarch64.whl</a><br/>
  </body>
</html>
<!--TIMESTAMP 1751116657-->
"""

META_A = "86107f52ff49e63a75c9d345374cac30140e053a12ffa728d676fee836e69022"
REFERENCE = Path("/work/shared/reference/pytorch_index_fixtures.txt")


def wrap(rows: str, name: str = "torch") -> str:
    """Wrap anchor rows the way the PyTorch index generator does."""
    return (
        f"<!DOCTYPE html>\n<html>\n  <body>\n    <h1>Links for {name}</h1>\n{rows}"
        "  </body>\n</html>\n<!--TIMESTAMP 1745424000-->"
    )


def markdown_to_anchors(md: str) -> str:
    return re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r'<a href="\2">\1</a><br/>', md)


def both(text: str, url: str) -> tuple[IndexFile, ...]:
    """Parse with the fast path, and check the html.parser reference agrees."""
    fast = parse_html(text, url)
    assert fast == parse_html_stdlib(text, url)
    return fast


@pytest.mark.skipif(not REFERENCE.exists(), reason="shared reference not present")
@pytest.mark.parametrize("fixture", [FIXTURE_A, FIXTURE_B, FIXTURE_C, FIXTURE_D])
def test_embedded_fixtures_are_verbatim(fixture: str) -> None:
    reference = REFERENCE.read_text()
    for line in fixture.splitlines():
        assert line in reference


def test_fixture_a_relative_links_percent_plus_and_missing_sha() -> None:
    url = "https://download.pytorch.org/whl/cu128/torch/"
    scan = scan_html(wrap(FIXTURE_A), url)
    assert scan.problem is None and scan.anchors == 6 and scan.skipped == ()
    files = both(wrap(FIXTURE_A), url)
    assert len(files) == 6
    first = files[0]
    assert first.filename == "torch-2.7.0+cu128-cp310-cp310-manylinux_2_28_aarch64.whl"
    assert first.url == (
        "https://download.pytorch.org/whl/cu128/torch-2.7.0%2Bcu128-cp310-cp310-manylinux_2_28_aarch64.whl"
    )
    assert first.name == "torch"
    assert first.version == Version("2.7.0+cu128")
    assert first.local == "cu128"
    assert first.tags == frozenset({Tag("cp310", "cp310", "manylinux_2_28_aarch64")})
    # The aarch64 rows of 2.7.0 were published without '#sha256=' (uv #13195).
    assert first.sha256 is None
    assert first.has_metadata and first.metadata_sha256 == META_A
    assert files[1].sha256 == "ac1849553ee673dfafb44c610c60cb60a2890f0e117f43599a526cf777eb8b8c"
    assert "#" not in files[1].url
    free_threaded = files[3]
    assert free_threaded.tags == frozenset({Tag("cp313", "cp313t", "manylinux_2_28_x86_64")})
    assert files[2].metadata_sha256 == (
        "d51356a768c4e35d5219c34e4d984071fcc0d2ab58673cbc969b75989d312fab"
    )
    assert all(f.requires_python is None and f.yanked is None for f in files)


def test_fixture_a_with_r2_absolute_links() -> None:
    rows = FIXTURE_A.replace('href="/whl/', 'href="https://download-r2.pytorch.org/whl/')
    files = both(wrap(rows), "https://download.pytorch.org/whl/cu128/torch/")
    assert len(files) == 6
    assert all(
        f.url.startswith("https://download-r2.pytorch.org/whl/cu128/torch-2.7.0%2B") for f in files
    )
    assert [f.filename for f in files] == [f.filename for f in parse_html(FIXTURE_A, "https://x/")]


def test_fixture_b_nightly_has_no_hashes_and_partial_metadata() -> None:
    files = both(wrap(FIXTURE_B), "https://download.pytorch.org/whl/nightly/cu126/torch/")
    assert [str(f.version) for f in files] == [
        "2.6.0.dev20250102+cu126",
        "2.6.0.dev20250103+cu126",
        "2.6.0.dev20250103+cu126",
    ]
    assert all(f.sha256 is None for f in files)
    assert not files[0].has_metadata and files[0].metadata_sha256 is None
    assert files[1].has_metadata
    assert files[0].url.startswith("https://download.pytorch.org/whl/nightly/cu126/torch-2.6.0.dev")
    assert files[0].version.is_prerelease


def test_fixture_c_markdown_absolute_links_and_plain_aarch64() -> None:
    files = both(markdown_to_anchors(FIXTURE_C), "https://mirror.example/whl/cu124/torch/")
    assert len(files) == 5
    assert all(f.url.startswith("https://download.pytorch.org/whl/cu124/") for f in files)
    plain = files[-1]
    assert plain.version == Version("2.5.1") and plain.local is None
    assert plain.tags == frozenset({Tag("cp310", "cp310", "linux_aarch64")})
    assert plain.sha256 == "d468d0eddc188aa3c1e417ec24ce615c48c0c3f592b0354d9d3b99837ef5faa6"
    assert not any(f.has_metadata for f in files)


def test_fixture_d_full_document_and_root_level_file() -> None:
    scan = scan_html(FIXTURE_D, "https://download.pytorch.org/whl/cu117/torch/")
    assert scan.problem is None
    files = both(FIXTURE_D, "https://download.pytorch.org/whl/cu117/torch/")
    assert [f.url for f in files][2] == (
        "https://download.pytorch.org/whl/torch-2.0.1-cp38-cp38-manylinux2014_aarch64.whl"
    )
    assert files[1].tags == frozenset({Tag("cp37", "cp37m", "linux_x86_64")})


def test_relative_dotdot_links_and_base_href() -> None:
    rows = '<a href="../../packages/ab/torch-2.1.0-cp311-cp311-linux_x86_64.whl">x</a>'
    files = both(wrap(rows), "https://mirror.example/simple/torch/")
    assert (
        files[0].url
        == "https://mirror.example/packages/ab/torch-2.1.0-cp311-cp311-linux_x86_64.whl"
    )
    with_base = (
        '<html><head><base href="https://cdn.example/files/"></head><body>'
        '<a href="torch-2.1.0-cp311-cp311-linux_x86_64.whl">x</a></body></html>'
    )
    files = both(with_base, "https://mirror.example/simple/torch/")
    assert files[0].url == "https://cdn.example/files/torch-2.1.0-cp311-cp311-linux_x86_64.whl"


def test_yanked_requires_python_upload_time_and_hash_algorithms() -> None:
    name = "torchvision-0.22.0-cp310-cp310-linux_x86_64.whl"
    rows = "\n".join(
        [
            f'<a href="/a/{name}#sha256=AB12" data-requires-python="&gt;=3.9" data-yanked>x</a>',
            f'<a href="/b/{name}" data-yanked="bad &amp; broken" data-upload-time="2026-04-01T00:00:00Z">x</a>',
            f'<a href="/c/{name}#sha512=ffff">x</a>',
            f'<a href="/d/{name}" data-yanked="">x</a>',
        ]
    )
    a, b, c, d = both(wrap(rows, "torchvision"), "https://h/simple/torchvision/")
    assert a.requires_python == ">=3.9" and a.yanked == "" and a.sha256 == "ab12"
    assert b.yanked == "bad & broken" and b.upload_time == "2026-04-01T00:00:00Z"
    assert b.requires_python is None
    assert c.sha256 is None and c.yanked is None
    assert d.yanked == ""


def test_metadata_attribute_variants() -> None:
    name = "triton-3.3.0-cp312-cp312-manylinux_2_27_x86_64.whl"
    rows = "\n".join(
        [
            f'<a href="/1/{name}" data-dist-info-metadata="sha256=AAAA">x</a>',
            f'<a href="/2/{name}" data-core-metadata="true">x</a>',
            f'<a href="/3/{name}" data-core-metadata="sha256=bbbb" data-dist-info-metadata="sha256=cccc">x</a>',
            f'<a href="/4/{name}" data-core-metadata>x</a>',
            f'<a href="/5/{name}" data-core-metadata="false">x</a>',
            f'<a href="/6/{name}" data-core-metadata="sha512=dddd">x</a>',
        ]
    )
    files = both(wrap(rows, "triton"), "https://h/whl/triton/")
    assert [(f.has_metadata, f.metadata_sha256) for f in files] == [
        (True, "aaaa"),
        (True, None),
        (True, "bbbb"),  # PEP 714: data-core-metadata wins
        (True, None),
        (False, None),
        (True, None),
    ]


def test_non_wheels_and_bad_names_are_skipped_not_fatal() -> None:
    rows = "\n".join(
        [
            '<a href="/torch-2.0.0.tar.gz">torch-2.0.0.tar.gz</a>',
            '<a href="/torch-notaversion-cp310-cp310-linux_x86_64.whl">bad</a>',
            '<a href="/torch-1.0-cp310.whl">too few parts</a>',
            '<a name="anchor-without-href">x</a>',
            '<a href="/torch-2.0.0-cp310-cp310-linux_x86_64.whl">ok</a>',
        ]
    )
    scan = scan_html(wrap(rows), "https://h/whl/torch/")
    assert [f.filename for f in scan.files] == ["torch-2.0.0-cp310-cp310-linux_x86_64.whl"]
    assert scan.skipped == (
        "torch-2.0.0.tar.gz",
        "torch-notaversion-cp310-cp310-linux_x86_64.whl",
        "torch-1.0-cp310.whl",
    )
    assert scan.anchors == 5 and scan.problem is None
    assert parse_html_stdlib(wrap(rows), "https://h/whl/torch/") == scan.files


def test_comments_scripts_and_odd_markup() -> None:
    name = "torch-2.0.0-cp310-cp310-linux_x86_64.whl"
    text = wrap(
        f'<!-- <a href="/old/{name}">old</a> -->\n'
        f"<script>var s = '<a href=\"/js/{name}\">';</script>\n"
        f"<A HREF='/up/{name}' title=\"a > b\">upper</A>\n"
        f"<a href=/bare/{name}>bare</a>\n"
        f'<a\n  href="/multi/{name}"\n>multi</a>\n'
        f'<abbr href="/abbr/{name}">not a link</abbr>\n'
    )
    files = both(text, "https://h/whl/torch/")
    assert [f.url.split("/")[3] for f in files] == ["up", "bare", "multi"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Internal Server Error", "not HTML"),
        ("\x89PNG\x00\x00binary", "not HTML"),
        ('<html><body><a href="/t-1.0-py3-none-any.whl">t</a>\x00</body></html>', "binary"),
        ('<html><body><a href="/t-1.0-py3-none-any.whl">t</a><a href="/t-1.1-py3', "truncated"),
        ('<!DOCTYPE html><html><body><a href="/t-1.0-py3-none-any.whl">t</a><br/>\n', "truncated"),
    ],
)
def test_garbage_and_truncated_pages_are_flagged(text: str, problem: str) -> None:
    found = scan_html(text, "https://h/simple/t/").problem
    assert found is not None and problem in found


@pytest.mark.parametrize(
    "text",
    [
        "<!DOCTYPE html><html><body><h1>Links for torch</h1></body></html>",
        "",
        '<a href="/t-1.0-py3-none-any.whl">t</a>',  # a bare anchor list (find-links style)
        FIXTURE_D,
    ],
)
def test_sound_pages_have_no_problem(text: str) -> None:
    assert scan_html(text, "https://h/simple/t/").problem is None


def test_empty_html_page_is_empty_not_garbage() -> None:
    scan = scan_html(wrap(""), "https://h/whl/cu999/torch/")
    assert scan.files == () and scan.anchors == 0 and scan.problem is None


def test_parse_json_pep691() -> None:
    data = {
        "meta": {"api-version": "1.1"},
        "name": "torch",
        "files": [
            {
                "filename": "torch-2.7.0+cu128-cp312-cp312-manylinux_2_28_x86_64.whl",
                "url": "../../whl/cu128/torch-2.7.0%2Bcu128-cp312-cp312-manylinux_2_28_x86_64.whl",
                "hashes": {"sha256": "ABCD", "blake2b": "ffff"},
                "requires-python": ">=3.9.0",
                "core-metadata": {"sha256": "1234"},
                "upload-time": "2025-04-23T16:00:00.000000Z",
            },
            {
                "filename": "torch-2.6.0-cp312-cp312-manylinux_2_28_x86_64.whl",
                "url": "https://download-r2.pytorch.org/whl/torch-2.6.0-cp312-cp312-manylinux_2_28_x86_64.whl#sha256=00",
                "hashes": {},
                "dist-info-metadata": True,
                "yanked": "broken build",
            },
            {
                "filename": "torch-2.5.0-cp312-cp312-win_amd64.whl",
                "url": "/whl/torch-2.5.0-cp312-cp312-win_amd64.whl",
                "hashes": {"sha256": "ef"},
                "yanked": True,
                "core-metadata": False,
            },
            {
                "filename": "torch-2.4.0-cp312-cp312-win_amd64.whl",
                "url": "/whl/torch-2.4.0-cp312-cp312-win_amd64.whl",
                "hashes": {},
                "core-metadata": {},
                "dist-info-metadata": {"sha256": "99"},
            },
            {"filename": "torch-2.5.0.tar.gz", "url": "/torch-2.5.0.tar.gz", "hashes": {}},
            {"filename": 3, "url": None},
            "not a mapping",
        ],
    }
    a, b, c, d = parse_json(data, "https://h/simple/torch/")
    assert a.url == (
        "https://h/whl/cu128/torch-2.7.0%2Bcu128-cp312-cp312-manylinux_2_28_x86_64.whl"
    )
    assert a.version == Version("2.7.0+cu128") and a.local == "cu128"
    assert (a.sha256, a.metadata_sha256, a.has_metadata) == ("abcd", "1234", True)
    assert a.requires_python == ">=3.9.0" and a.yanked is None
    assert a.upload_time == "2025-04-23T16:00:00.000000Z"
    assert b.url.startswith("https://download-r2.pytorch.org/") and "#" not in b.url
    assert (b.sha256, b.has_metadata, b.metadata_sha256, b.yanked) == (
        None,
        True,
        None,
        "broken build",
    )
    assert (c.has_metadata, c.yanked, c.sha256) == (False, "", "ef")
    assert (d.has_metadata, d.metadata_sha256) == (True, None)  # core-metadata wins, even {}


@pytest.mark.parametrize("data", [{}, {"files": "x"}, {"meta": {}, "projects": []}])
def test_parse_json_rejects_non_project_pages(data: dict[str, object]) -> None:
    with pytest.raises(PageError):
        parse_json(data, "https://h/simple/torch/")


# --- the fast path against the html.parser reference, on generated pages ----------------

_NAMES = [
    "torch-2.7.0%2Bcu128-cp310-cp310-manylinux_2_28_x86_64.whl",
    "torch-2.7.0+cu128-cp313-cp313t-win_amd64.whl",
    "torch_vision-0.1-py3-none-any.whl",
    "torch-2.0.1-cp38-cp38-manylinux2014_aarch64.whl",
    "pytorch_triton-3.3.0%2Bgit96316ce5-cp312-cp312-linux_x86_64.whl",
    "x%20y-1.0-py3-none-any.whl",
    "torch-2.0.0.tar.gz",
    "torch-bad-cp310.whl",
    "x-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "x-1.0-cp312-cp312-MACOSX_11_0_ARM64.whl",
]
_VALUES = st.lists(
    st.sampled_from([*"abcAZ09=.-_ <>/&;\"'é", "&amp;", "&gt;", "&#43;"]), max_size=8
).map("".join)


@st.composite
def _anchor(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(["", "/whl/cu128/", "../", "https://r2.example/whl/", "sub/"]))
    href = prefix + draw(st.sampled_from(_NAMES))
    href += draw(st.sampled_from(["", "#sha256=ABC", "#md5=1", "#sha256=a&sha512=b"]))
    attrs: list[tuple[str, str | None]] = [("href", href)]
    for key in draw(
        st.lists(
            st.sampled_from(
                [
                    "data-core-metadata",
                    "data-dist-info-metadata",
                    "data-requires-python",
                    "data-yanked",
                    "data-upload-time",
                    "class",
                ]
            ),
            unique=True,
            max_size=4,
        )
    ):
        attrs.append(
            (key, draw(st.one_of(st.none(), st.just("true"), st.just("sha256=FF"), _VALUES)))
        )
    attrs = draw(st.permutations(attrs))
    parts = []
    for key, value in attrs:
        key = draw(st.sampled_from([key, key.upper()]))
        if value is None:
            parts.append(key)
            continue
        style = draw(st.sampled_from(['"', "'", ""]))
        if style == "" and (not value or re.search(r"[\s>\"'=<`]", value)):
            style = '"'
        if style and style in value:
            value = value.replace(style, html.escape(style))
        parts.append(f"{key}={style}{value}{style}")
    sep = draw(st.sampled_from([" ", "\n  ", "\t"]))
    return f"<a{sep}{sep.join(parts)}>{draw(_VALUES)}</a><br/>"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_anchor(), max_size=6), st.booleans())
def test_fast_parser_matches_html_parser(anchors: list[str], wrapped: bool) -> None:
    rows = "\n".join(anchors)
    text = wrap(rows) if wrapped else rows
    url = "https://download.pytorch.org/whl/cu128/torch/"
    assert parse_html(text, url) == parse_html_stdlib(text, url)


_PLATFORMS = ["manylinux_2_28_x86_64", "win_amd64", "manylinux2014_x86_64", "linux_x86_64",
              "macosx_11_0_arm64", "manylinux_2_28_aarch64"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_anchor(), max_size=6), st.sets(st.sampled_from(_PLATFORMS)))
def test_platform_filter_keeps_exactly_the_matching_files(anchors: list[str],
                                                          platforms: set[str]) -> None:
    """Skipping names before parsing them changes nothing for the files that match."""
    text = wrap("\n".join(anchors))
    url = "https://download.pytorch.org/whl/cu128/torch/"
    wanted = platforms | {"any"}
    everything = scan_html(text, url).files
    kept = scan_html(text, url, keep=platform_filter(platforms)).files
    assert kept == tuple(f for f in everything if any(t.platform in wanted for t in f.tags))


_TAGS = [Tag("cp311", "cp311", "manylinux_2_28_x86_64"), Tag("cp311", "abi3", "win_amd64"),
         Tag("py3", "none", "any"), Tag("cp313", "cp313t", "manylinux_2_28_x86_64"),
         Tag("cp310", "cp310", "linux_x86_64"), Tag("py2", "none", "any")]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_anchor(), max_size=6), st.sets(st.sampled_from(_TAGS)))
def test_tag_filter_keeps_exactly_the_files_with_a_wanted_tag(anchors: list[str],
                                                             tags: set[Tag]) -> None:
    """Skipping names by their tag part changes nothing for the files that fit."""
    text = wrap("\n".join(anchors))
    url = "https://download.pytorch.org/whl/cu128/torch/"
    everything = scan_html(text, url).files
    kept = scan_html(text, url, keep=tag_filter(tags)).files
    assert kept == tuple(f for f in everything if f.tags & tags)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_anchor(), max_size=6), st.sets(st.sampled_from(_TAGS)), st.booleans())
def test_a_filtered_scan_keeps_exactly_what_a_full_scan_keeps(
        anchors: list[str], tags: set[Tag], base: bool) -> None:
    """Anchors dropped before their attributes are read are exactly those the filter
    would drop after a full scan."""
    text = wrap(("<base href='https://cdn.example/x/'>" if base else "") + "\n".join(anchors))
    url = "https://download.pytorch.org/whl/cu128/torch/"
    keep = tag_filter(tags)
    every, problem = html_links(text, url)
    assert html_links(text, url, keep) == (
        tuple(x for x in every if not x[0] or keep(x[0])), problem)


@pytest.mark.parametrize("anchor", [
    '<a data-x=\'href="t-1-cp312-cp312-win_amd64.whl"\' href="t-1-cp311-cp311-linux_x86_64.whl">',
    '<a href="t-1-cp311-cp311-linux_x86_64.whl&amp;x=1">',
    '<a href="t-1%2bx-cp311-cp311-linux_x86_64.whl">',
    "<a href='t-1-cp311-cp311-linux_x86_64.whl'>",
    '<a href = "t-1-cp311-cp311-linux_x86_64.whl">',
])
def test_a_filtered_scan_reads_unusual_anchors_in_full(anchor: str) -> None:
    url = "https://h/whl/cpu/t/"
    keep = tag_filter([Tag("cp311", "cp311", "linux_x86_64")])
    every, _ = html_links(anchor + "x</a>", url)
    assert html_links(anchor + "x</a>", url, keep)[0] == every and every


def test_tag_filter_drops_other_pythons_and_expands_sets() -> None:
    keep = tag_filter([Tag("cp311", "cp311", "manylinux_2_28_x86_64"),
                       Tag("py3", "none", "any")])
    assert keep("torch-2.7.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl")
    assert not keep("torch-2.7.0+cpu-cp312-cp312-manylinux_2_28_x86_64.whl")
    assert keep("six-1.0-py2.py3-none-any.whl") and keep("T-1-CP311-CP311-MANYLINUX_2_28_X86_64.whl")
    assert keep("torch-2.7.0.tar.gz") and keep("odd-name.whl")  # the parse decides


def test_platform_filter_on_json_pages() -> None:
    names = ["t-1-cp312-cp312-win_amd64.whl", "t-1-cp312-cp312-manylinux_2_28_x86_64.whl",
             "t-1-py3-none-any.whl", "t-1.tar.gz"]
    data = {"files": [{"filename": n, "url": n, "hashes": {}} for n in names]}
    kept = parse_json(data, "https://h/simple/t/", keep=platform_filter(["win_amd64"]))
    assert [f.filename for f in kept] == names[0:1] + names[2:3]


def test_a_stray_quote_in_an_anchors_text_does_not_swallow_the_next_anchor() -> None:
    # (found by the property test above: a quote opens a value only after "=", as
    # html.parser reads it, so `<a/"` in a link's text is no start of a quoted value)
    wheel = "torch-2.7.0%2Bcu128-cp310-cp310-manylinux_2_28_x86_64.whl"
    text = (f'<a href="{wheel}" data-core-metadata data-yanked><a/"</a><br/>\n'
            f'<a href="{wheel}"></a><br/>\n<a href="{wheel}" data-core-metadata>"</a><br/>')
    url = "https://download.pytorch.org/whl/cu128/torch/"
    assert parse_html(text, url) == parse_html_stdlib(text, url)
    assert len(parse_html(text, url)) == 3
