"""The one atomic-write helper: a file appears whole or not at all, 0600 unless said, never over another when
exclusive, and no temporary file is left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from incasso_tui.atomicfile import atomic_file, atomic_write


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_file_is_written_whole_with_mode_0600(tmp_path: Path) -> None:
    target = atomic_write(tmp_path / "out.csv", "a;b\r\n")
    assert target.read_bytes() == b"a;b\r\n"
    assert target.stat().st_mode & 0o777 == 0o600
    assert _leftovers(tmp_path) == []


def test_text_mode_keeps_the_newlines_asked_for(tmp_path: Path) -> None:
    with atomic_file(tmp_path / "x.csv", newline="", encoding="utf-8-sig") as fh:
        fh.write("é\r\n")
    assert (tmp_path / "x.csv").read_bytes() == "\ufeffé\r\n".encode()


def test_a_failure_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "letter.pdf"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_file(target, binary=True) as fh:
        fh.write(b"half a new")
        raise RuntimeError("the disk is full")
    assert target.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


def test_it_replaces_a_file_unless_exclusive(tmp_path: Path) -> None:
    target = tmp_path / "f"
    atomic_write(target, b"one")
    atomic_write(target, b"two", mode=0o644)
    assert target.read_bytes() == b"two" and target.stat().st_mode & 0o777 == 0o644
    with pytest.raises(FileExistsError):
        atomic_write(target, b"three", exclusive=True)
    assert target.read_bytes() == b"two"
    assert _leftovers(tmp_path) == []


def test_exclusive_never_replaces_a_file_made_while_it_wrote(tmp_path: Path) -> None:
    target = tmp_path / "key"
    with pytest.raises(FileExistsError), atomic_file(target, exclusive=True) as fh:
        fh.write("mine")
        target.write_text("theirs")  # another process got there first
    assert target.read_text() == "theirs"
    assert _leftovers(tmp_path) == []


def test_make_folder(tmp_path: Path) -> None:
    target = tmp_path / "2026" / "12" / "a.pdf"
    with pytest.raises(FileNotFoundError):
        atomic_write(target, b"%PDF")
    atomic_write(target, b"%PDF", make_folder=True)
    assert target.read_bytes() == b"%PDF"


def test_the_temporary_file_is_in_the_target_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, str]] = []
    real = os.replace

    def spy(src: str, dst: str) -> None:
        seen.append((os.path.dirname(src), os.path.dirname(dst)))
        real(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    atomic_write(tmp_path / "b.csv", b"x")
    assert seen == [(str(tmp_path), str(tmp_path))]
