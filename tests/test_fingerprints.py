"""verify remembers what it hashed: unchanged files are not read again, changed ones are.

The rule (:data:`pipguard.filecheck.Fingerprint`): a file whose size, mtime, ctime, inode and device
are those of an earlier check that matched its RECORD hash is trusted; anything else is
hashed. ``--full`` hashes every file; ``hash_files=False`` (after an install) checks sizes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipguard import filecheck
from pipguard.cache import read_entry, write_entry
from pipguard.fingerprints import verify_remembering
from pipguard.installed import InstalledDist
from pipguard.render import how_verified
from pipguard.verify import verify_many
from tests.test_verify import make_dist, record_hash

pytestmark = pytest.mark.skipif(not filecheck.FINGERPRINTS, reason="no change time on Windows")

FILES = {f"p/f{i}": bytes([i]) * (1000 + i) for i in range(20)}


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written by the test count as settled at once (see filecheck.SETTLE_NS)."""
    monkeypatch.setattr(filecheck, "SETTLE_NS", -10**12)


def _dist(tmp_path: Path) -> tuple[Path, InstalledDist]:
    rows = [[k, record_hash(v), str(len(v))] for k, v in FILES.items()]
    site = tmp_path / "site"
    return site, make_dist(site, FILES, rows)


def test_a_second_check_reads_nothing_unchanged(tmp_path: Path, settled: None) -> None:
    _, dist = _dist(tmp_path)
    cache = tmp_path / "cache"
    first = verify_remembering([dist], cache)[0]
    assert first.ok and (first.files_hashed, first.files_unchanged) == (20, 0)
    second = verify_remembering([dist], cache)[0]
    assert second.ok and (second.files_hashed, second.files_unchanged) == (0, 20)
    assert "20 unchanged since an earlier check" in how_verified([second])


def test_a_rewritten_file_is_hashed_again_even_with_its_mtime_restored(
        tmp_path: Path, settled: None) -> None:
    site, dist = _dist(tmp_path)
    cache = tmp_path / "cache"
    verify_remembering([dist], cache)
    target = site / "p/f3"
    before = target.stat()
    target.write_bytes(b"X" * before.st_size)  # same size, other bytes
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # mtime put back
    again = verify_remembering([dist], cache)[0]
    assert [(p.path, p.problem) for p in again.problems] == [("p/f3", "changed")]
    assert (again.files_hashed, again.files_unchanged) == (1, 19)


def test_full_hashes_every_file(tmp_path: Path, settled: None) -> None:
    _, dist = _dist(tmp_path)
    cache = tmp_path / "cache"
    verify_remembering([dist], cache)
    full = verify_remembering([dist], cache, full=True)[0]
    assert (full.files_hashed, full.files_unchanged) == (20, 0)


def test_a_changed_record_hash_is_not_trusted(tmp_path: Path, settled: None) -> None:
    """The fingerprint holds the RECORD hash it matched: a RECORD that now lists another
    hash for an untouched file gets that file read (and reported)."""
    site, dist = _dist(tmp_path)
    cache = tmp_path / "cache"
    verify_remembering([dist], cache)
    rows = [[k, record_hash(b"other" if k == "p/f0" else v), str(len(v))]
            for k, v in FILES.items()]
    dist2 = make_dist(site, {}, rows)
    again = verify_remembering([dist2], cache)[0]
    assert [p.path for p in again.problems] == ["p/f0"] and again.files_hashed == 1


def test_files_changed_just_now_are_not_remembered(tmp_path: Path) -> None:
    """A file whose change time is within the settle window may still change within the
    same timestamp tick: it is hashed again next time."""
    _, dist = _dist(tmp_path)
    cache = tmp_path / "cache"
    verify_remembering([dist], cache)
    again = verify_remembering([dist], cache)[0]
    assert (again.files_hashed, again.files_unchanged) == (20, 0)


_FOREIGN = {"record": "0" * 64, "paths": ["p/f0"], "hashes": [None], "sizes": [None],
            "prints": [None]}


@pytest.mark.parametrize(("header", "body"), [
    (None, b"not an entry at all"),
    ({"format": 2, "dist_info": "SELF"}, b"not json"),
    ({"format": 2, "dist_info": "SELF"}, b"[7]"),
    ({"format": 2, "dist_info": "SELF"}, b"{}"),
    ({"format": 2, "dist_info": "SELF"}, json.dumps({**_FOREIGN, "paths": []}).encode()),
    ({"format": 2, "dist_info": "SELF"}, json.dumps({**_FOREIGN, "paths": [7]}).encode()),
    ({"format": 2, "dist_info": "SELF"}, json.dumps({**_FOREIGN, "sizes": ["1"]}).encode()),
    ({"format": 2, "dist_info": "SELF"}, json.dumps({**_FOREIGN, "prints": [7]}).encode()),
    ({"format": 2, "dist_info": "/elsewhere"}, b"{}"),
    ({"format": 1, "dist_info": "SELF"}, b"{}"),  # an older pipguard's entry
    ({"format": 99, "dist_info": "SELF"}, b"{}"),
])
def test_a_damaged_store_means_hash_it(tmp_path: Path, settled: None,
                                       header: dict[str, object] | None, body: bytes) -> None:
    _, dist = _dist(tmp_path)
    cache = tmp_path / "cache"
    verify_remembering([dist], cache)
    stored = next(p for p in (cache / "verified").rglob("*") if p.is_file())
    if header is None:
        stored.write_bytes(body)
    else:
        real = os.path.realpath(str(dist.dist_info))
        write_entry(stored, {k: real if v == "SELF" else v for k, v in header.items()}, body)
    again = verify_remembering([dist], cache)[0]
    assert again.ok and again.files_hashed == 20


def test_a_forged_store_entry_must_match_the_file_it_names(tmp_path: Path,
                                                          settled: None) -> None:
    """Entries are checked against the file's own stat: a store claiming a file is
    unchanged with another size or inode does not make verify skip it."""
    site, dist = _dist(tmp_path)
    cache = tmp_path / "cache"
    verify_remembering([dist], cache)
    stored = next(p for p in (cache / "verified").rglob("*") if p.is_file())
    entry = read_entry(stored)
    assert entry is not None
    header, body = entry
    columns = json.loads(body)
    target = site / "p/f5"
    target.write_bytes(b"Y" * len(FILES["p/f5"]))
    st = target.stat()
    # The changed file's own stat in every field but one: the inode.
    row = columns["paths"].index("p/f5")
    columns["prints"][row] = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino + 1,
                              st.st_dev]
    write_entry(stored, header, json.dumps(columns).encode())
    again = verify_remembering([dist], cache)[0]
    assert [p.path for p in again.problems] == ["p/f5"]


def test_sizes_only_checks_presence_and_size(tmp_path: Path) -> None:
    site, dist = _dist(tmp_path)
    (site / "p/f1").write_bytes(b"Z" * len(FILES["p/f1"]))  # same size: not seen
    (site / "p/f2").write_bytes(b"short")  # other size: seen
    (site / "p/f4").unlink()  # gone: seen
    result = verify_many([dist], hash_files=False)[0]
    assert [(p.path, p.problem) for p in result.problems] == [("p/f2", "size"),
                                                             ("p/f4", "missing")]
    assert result.sizes_only and result.files_hashed == 0
    assert "present at their RECORD sizes" in how_verified([result])


def test_an_unchanged_record_is_not_parsed_again(tmp_path: Path, settled: None,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The store keeps RECORD's parse with the digest of its bytes: the same bytes next
    time are not parsed again; other bytes are (and their files checked against them)."""
    from pipguard import record

    site, dist = _dist(tmp_path)
    cache = tmp_path / "cache"
    verify_remembering([dist], cache)
    parse = record.parse_record

    def refuse(text: str) -> object:
        raise AssertionError("RECORD parsed again")

    monkeypatch.setattr(record, "parse_record", refuse)
    again = verify_remembering([dist], cache)[0]
    assert again.ok and (again.files_checked, again.files_unchanged) == (20, 20)

    monkeypatch.setattr(record, "parse_record", parse)
    assert dist.dist_info is not None
    rows = [[k, record_hash(v), str(len(v))] for k, v in FILES.items() if k != "p/f1"]
    rows.append(["p/gone", record_hash(b"x"), "1"])  # other bytes: a file RECORD now lists
    make_dist(site, {}, rows)
    changed = verify_remembering([dist], cache)[0]
    assert [(p.path, p.problem) for p in changed.problems] == [("p/gone", "missing")]
    assert changed.files_checked == 20 and changed.files_unchanged == 19
