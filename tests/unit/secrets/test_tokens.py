"""Token files: only a regular file private to its owner is read, with a clear fix otherwise."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
from console.secrets import Redactor, TokenFileRefused, read_token_file
from console.secrets.tokens import MAX_TOKEN_BYTES

TOKEN = "tok-3f9a0c1d-Ünïcode"


def write(path: Path, content: bytes, mode: int) -> Path:
    path.write_bytes(content)
    path.chmod(mode)
    return path


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_owner_only_file_is_read_and_one_newline_stripped(tmp_path: Path, mode: int) -> None:
    path = write(tmp_path / "token", (TOKEN + "\n").encode(), mode)
    assert read_token_file(path, Redactor()) == TOKEN


def test_only_one_trailing_newline_goes_crlf_included(tmp_path: Path) -> None:
    assert read_token_file(write(tmp_path / "a", b"abc\n\n", 0o600), Redactor()) == "abc\n"
    assert read_token_file(write(tmp_path / "b", b"abc\r\n", 0o600), Redactor()) == "abc"
    assert read_token_file(write(tmp_path / "c", b" abc ", 0o600), Redactor()) == " abc "


@pytest.mark.parametrize(
    ("mode", "who"),
    [
        (0o644, "open to its group and everyone"),
        (0o640, "open to its group"),
        (0o604, "open to everyone"),
        (0o620, "open to its group"),  # writable by the group: someone else can replace it
        (0o601, "open to everyone"),
    ],
)
def test_wider_modes_are_refused_with_the_mode_and_the_fix(
    tmp_path: Path, mode: int, who: str
) -> None:
    path = write(tmp_path / "token", TOKEN.encode(), mode)
    with pytest.raises(TokenFileRefused) as caught:
        read_token_file(path, Redactor())
    message = str(caught.value)
    assert f"has mode {mode:04o} ({who})" in message
    assert f"chmod 600 {path}" in message
    assert TOKEN not in message and "tok-" not in message


def test_a_file_owned_by_someone_else_is_refused(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        path = write(tmp_path / "token", TOKEN.encode(), 0o600)
        os.chown(path, 65534, -1)  # root may give it away; the check reads st_uid itself
        owner = 65534
    else:
        # Without root a file cannot be given away: use one that root owns.
        path = Path(sys.executable).resolve()
        owner = path.stat().st_uid
        assert owner != os.geteuid()
    with pytest.raises(TokenFileRefused) as caught:
        read_token_file(path, Redactor())
    assert f"owned by uid {owner}, not by the user running the console" in str(caught.value)
    assert f"(uid {os.geteuid()})" in str(caught.value)


def test_empty_files_are_refused(tmp_path: Path) -> None:
    for name, content in [("empty", b""), ("newline", b"\n")]:
        with pytest.raises(TokenFileRefused, match="is empty"):
            read_token_file(write(tmp_path / name, content, 0o600), Redactor())


def test_four_kib_is_the_limit(tmp_path: Path) -> None:
    exact = write(tmp_path / "exact", b"x" * MAX_TOKEN_BYTES, 0o600)
    assert len(read_token_file(exact, Redactor())) == MAX_TOKEN_BYTES
    over = write(tmp_path / "over", b"x" * (MAX_TOKEN_BYTES + 1), 0o600)
    with pytest.raises(TokenFileRefused, match=r"4097 bytes; a token file holds at most 4096"):
        read_token_file(over, Redactor())


def test_missing_directory_fifo_and_binary_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TokenFileRefused, match="does not exist"):
        read_token_file(tmp_path / "nope", Redactor())
    folder = tmp_path / "dir"
    folder.mkdir(mode=0o700)
    with pytest.raises(TokenFileRefused, match="is not a regular file"):
        read_token_file(folder, Redactor())
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(TokenFileRefused, match="is not a regular file"):
        read_token_file(fifo, Redactor())  # opened non-blocking: no writer, yet no hang
    binary = write(tmp_path / "bin", b"\xff\xfe\x00", 0o600)
    with pytest.raises(TokenFileRefused, match="is not UTF-8 text"):
        read_token_file(binary, Redactor())


def test_a_symlink_is_judged_by_the_file_it_points_to(tmp_path: Path) -> None:
    private = write(tmp_path / "private", TOKEN.encode(), 0o600)
    public = write(tmp_path / "public", TOKEN.encode(), 0o644)
    (tmp_path / "to-private").symlink_to(private)
    (tmp_path / "to-public").symlink_to(public)
    assert read_token_file(tmp_path / "to-private", Redactor()) == TOKEN
    with pytest.raises(TokenFileRefused, match="has mode 0644"):
        read_token_file(tmp_path / "to-public", Redactor())


def test_the_token_read_is_taught_to_the_redactor(tmp_path: Path) -> None:
    redactor = Redactor()
    read_token_file(write(tmp_path / "token", TOKEN.encode(), 0o400), redactor)
    assert redactor.redact(f"Authorization: Bearer {TOKEN}") == "Authorization: Bearer ***"
    assert stat.S_IMODE((tmp_path / "token").stat().st_mode) == 0o400  # never "fixed" for you
