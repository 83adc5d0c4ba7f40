"""What install records for doctor: the torch index, never a secret."""

from __future__ import annotations

from pathlib import Path

from pipguard.install_record import FILE, record_index, recorded_indexes


def test_indexes_are_recorded_once_and_without_credentials(tmp_path: Path) -> None:
    assert recorded_indexes(str(tmp_path)) == ()
    record_index(str(tmp_path), "https://bob:s3cret@mirror.corp:8443/pt/whl?token=abc")
    record_index(str(tmp_path), "https://mirror.corp:8443/pt/whl")
    assert recorded_indexes(str(tmp_path)) == ("https://mirror.corp:8443/pt/whl",)
    text = (tmp_path / FILE).read_text()
    assert "s3cret" not in text and "abc" not in text and "bob" not in text


def test_a_damaged_record_is_no_record(tmp_path: Path) -> None:
    (tmp_path / FILE).write_text("{not json")
    assert recorded_indexes(str(tmp_path)) == ()
    record_index(str(tmp_path), "https://m/whl")
    assert recorded_indexes(str(tmp_path)) == ("https://m/whl",)
