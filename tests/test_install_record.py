"""What install records for doctor and verify: the torch index and the files, never a secret."""

from __future__ import annotations

from pathlib import Path

from pipguard.install_record import FILE, Installed, read, record_install, swapped

URL = "https://mirror.corp:8443/pt/whl/cu126/torch-2.15.0%2Bcu126-cp312-cp312-linux_x86_64.whl"


def test_indexes_and_files_are_recorded_without_credentials(tmp_path: Path) -> None:
    assert read(str(tmp_path)).indexes == ()
    secret = URL.replace("https://", "https://bob:s3cret@") + "?token=abc"
    record_install(str(tmp_path), "https://bob:s3cret@mirror.corp:8443/pt/whl?token=abc",
                   [Installed("torch", "2.15.0+cu126", secret, "ab" * 32)])
    record_install(str(tmp_path), "https://mirror.corp:8443/pt/whl", [])
    rec = read(str(tmp_path))
    assert rec.indexes == ("https://mirror.corp:8443/pt/whl",)
    assert rec.file("torch") == Installed("torch", "2.15.0+cu126", URL, "ab" * 32)
    text = (tmp_path / FILE).read_text()
    assert "s3cret" not in text and "abc" not in text and "bob" not in text


def test_a_swapped_copy_at_the_same_version_is_named(tmp_path: Path) -> None:
    record_install(str(tmp_path), "https://m/whl", [Installed("torch", "2.15.0", URL, "ab" * 32)])
    rec = read(str(tmp_path))
    ours = {"url": URL, "archive_info": {"hashes": {"sha256": "ab" * 32}}}
    assert swapped(rec, "torch", "2.15.0", ours) is None
    assert swapped(rec, "torch", "2.16.0", None) is None  # a later install, not a swap
    assert "no record" in (swapped(rec, "torch", "2.15.0", None) or "")
    assert "evil.example" in (swapped(rec, "torch", "2.15.0", {"url": "https://evil.example/t.whl"})
                              or "")
    other = {"url": URL, "archive_info": {"hashes": {"sha256": "cd" * 32}}}
    assert "sha256" in (swapped(rec, "torch", "2.15.0", other) or "")


def test_a_damaged_record_is_no_record(tmp_path: Path) -> None:
    (tmp_path / FILE).write_text("{not json")
    assert read(str(tmp_path)).indexes == ()
    record_install(str(tmp_path), "https://m/whl", [])
    assert read(str(tmp_path)).indexes == ("https://m/whl",)
