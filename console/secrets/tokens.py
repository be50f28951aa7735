"""Token files for headless machines without a keyring: accepted only if private to their owner."""

from __future__ import annotations

import errno
import os
import shlex
import stat
from pathlib import Path

from console.secrets.errors import TokenFileRefused
from console.secrets.redact import Redactor, default_redactor

MAX_TOKEN_BYTES = 4096


def read_token_file(path: str | os.PathLike[str], redactor: Redactor | None = None) -> str:
    r"""Read a token from a file that only its owner can read.

    The file must be a regular file owned by the current user with no permission bits for
    group or others (``chmod 600`` or ``400``). The check reads ``st_uid`` and ``st_mode`` of
    the opened file itself, so it holds for root too (whom the kernel lets read anything) and
    cannot be raced by swapping the file between the check and the read. One trailing newline
    (``\n`` or ``\r\n``) is removed.

    Args:
        path: The token file.
        redactor: Learns the token so it is masked in messages and logs (the process-wide
            redactor by default).

    Returns:
        The token.

    Raises:
        TokenFileRefused: Missing, not a regular file, owned by someone else, readable by group
            or others, empty, larger than 4 KiB or not UTF-8 text. The message says which
            and how to fix it; it never quotes the file's content.
    """
    where = Path(path)
    try:
        # O_NONBLOCK: a FIFO planted at the path must not hang the engine on open.
        fd = os.open(where, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise TokenFileRefused(_open_failure(where, exc)) from None
    try:
        _check(where, os.fstat(fd))
        data = _read_capped(where, fd)
    finally:
        os.close(fd)
    token = _decode(where, data)
    (default_redactor() if redactor is None else redactor).add(token)
    return token


def _open_failure(where: Path, exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return f"token file {where} does not exist"
    if exc.errno == errno.EACCES:
        return f"token file {where} cannot be read by this user ({exc.strerror})"
    return f"cannot open token file {where}: {exc.strerror or exc}"


def _check(where: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise TokenFileRefused(f"token file {where} is not a regular file")
    geteuid = getattr(os, "geteuid", None)
    if geteuid is not None and info.st_uid != geteuid():
        raise TokenFileRefused(
            f"token file {where} is owned by uid {info.st_uid}, not by the user running the "
            f"console (uid {geteuid()}); it must belong to that user: "
            f"chown {geteuid()} {shlex.quote(str(where))}"
        )
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise TokenFileRefused(
            f"token file {where} has mode {mode:04o} ({_who(mode)}); it must be readable only "
            f"by its owner: chmod 600 {shlex.quote(str(where))}"
        )
    if info.st_size > MAX_TOKEN_BYTES:
        raise TokenFileRefused(
            f"token file {where} is {info.st_size} bytes; a token file holds at most "
            f"{MAX_TOKEN_BYTES} bytes (4 KiB)"
        )


def _who(mode: int) -> str:
    """Who besides the owner has any access, in words."""
    others = []
    if mode & 0o070:
        others.append("its group")
    if mode & 0o007:
        others.append("everyone")
    return "open to " + " and ".join(others)


def _read_capped(where: Path, fd: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    # The size was checked on fstat, but a file can grow: never read more than the cap + 1.
    while size <= MAX_TOKEN_BYTES:
        chunk = os.read(fd, MAX_TOKEN_BYTES + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    data = b"".join(chunks)
    if len(data) > MAX_TOKEN_BYTES:
        raise TokenFileRefused(f"token file {where} is larger than {MAX_TOKEN_BYTES} bytes (4 KiB)")
    return data


def _decode(where: Path, data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise TokenFileRefused(f"token file {where} is not UTF-8 text") from None
    text = strip_one_newline(text)
    if not text:
        raise TokenFileRefused(f"token file {where} is empty")
    return text


def strip_one_newline(text: str) -> str:
    r"""``text`` without one trailing ``\n`` or ``\r\n`` (a value's own newlines stay)."""
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith("\n") else text
