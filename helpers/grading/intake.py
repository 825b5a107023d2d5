"""Submissions are files and folders, nothing else: what ``collect`` and ``autograde`` refuse before nbgrader copies.

nbgrader copies a submission with ``shutil.copytree``, which follows links: a link in a student's
folder would hand the grader (and the sandbox) whatever it points at, such as the gradebook or the
source notebooks. :func:`inspect_submission` walks a folder without following anything and names
every entry that is not a regular file or a folder (links, hard links, devices, FIFOs, sockets) and
every cap a flood would pass. :func:`copy_submission` copies a folder that passed, checking each
entry again as it opens it (the student may change the folder in between), so what nbgrader reads
afterwards is the kit's own copy.
"""

from __future__ import annotations

import os
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path

__all__ = ["IntakeCaps", "CAPS", "inspect_submission", "copy_submission", "owner_problems"]


@dataclass(frozen=True)
class IntakeCaps:
    """Bounds on one submission folder (generous for a lab: notebooks, a Dockerfile, a little code)."""

    files: int = 200  # files and folders, counted together
    total_bytes: int = 50 * 1024 * 1024
    file_bytes: int = 20 * 1024 * 1024
    depth: int = 12


CAPS = IntakeCaps()
_MAX_MESSAGES = 5
_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


def _leaves(folder: Path, rel: str, target: str) -> bool:
    """Would a link at ``rel`` with ``target`` point outside ``folder`` (lexically, without resolving)?"""
    base = os.path.normpath(os.path.join(folder, os.path.dirname(rel)))
    dest = os.path.normpath(os.path.join(base, target))
    return os.path.isabs(target) or os.path.commonpath([os.path.normpath(folder), dest]) != os.path.normpath(folder)


def _odd(folder: Path, rel: str, st: os.stat_result) -> str:
    """Why the entry ``rel`` (stat'ed without following links) is not accepted, or ''."""
    if stat.S_ISLNK(st.st_mode):
        try:
            target = os.readlink(folder / rel)
        except OSError:
            target = "?"
        where = " (it leaves the submission folder)" if target == "?" or _leaves(folder, rel, target) else ""
        return f"{rel!r} is a link to {target!r}{where}"
    return _kind_problem(rel, st)


def _kind_problem(rel: str, st: os.stat_result) -> str:
    """Why an entry that is not a link is not accepted (hard link, device, FIFO, socket), or ''."""
    if stat.S_ISLNK(st.st_mode):
        return f"{rel!r} is a link"
    if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
        return f"{rel!r} is a hard link ({st.st_nlink} names for one file)"
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        return f"{rel!r} is {_KINDS.get(stat.S_IFMT(st.st_mode), 'not a regular file')}"
    return ""


def _walk(folder: Path, caps: IntakeCaps) -> tuple[list[tuple[str, os.stat_result]], list[str]]:
    """Every entry under ``folder`` (relative path, lstat), never following links, and the caps passed."""
    entries: list[tuple[str, os.stat_result]] = []
    problems: list[str] = []
    total = 0
    stack = [("", 0)]
    while stack:
        rel_dir, depth = stack.pop()
        try:
            names = sorted(os.listdir(folder / rel_dir))
        except OSError as e:
            problems.append(f"{rel_dir or '.'!r} cannot be read ({e.strerror})")
            continue
        for name in names:
            rel = os.path.join(rel_dir, name) if rel_dir else name
            try:
                st = os.lstat(folder / rel)
            except OSError as e:
                problems.append(f"{rel!r} cannot be read ({e.strerror})")
                continue
            entries.append((rel, st))
            if len(entries) > caps.files:
                return entries, [*problems, f"more than {caps.files} files and folders"]
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
                if st.st_size > caps.file_bytes:
                    problems.append(
                        f"{rel!r} is {st.st_size // 1024 // 1024} MB (cap {caps.file_bytes // 1024 // 1024} MB)"
                    )
            elif stat.S_ISDIR(st.st_mode):
                if depth + 1 >= caps.depth:
                    return entries, [*problems, f"{rel!r} is nested more than {caps.depth} folders deep"]
                stack.append((rel, depth + 1))
    if total > caps.total_bytes:
        problems.append(f"{total // 1024 // 1024} MB in all (cap {caps.total_bytes // 1024 // 1024} MB)")
    return entries, problems


def _summary(problems: list[str]) -> list[str]:
    """At most a few messages, then how many more (a flood of links makes one row, not a page)."""
    extra = len(problems) - _MAX_MESSAGES
    return problems[:_MAX_MESSAGES] + ([f"... and {extra} more"] if extra > 0 else [])


def inspect_submission(folder: str | os.PathLike[str], caps: IntakeCaps = CAPS) -> list[str]:
    """What in a submission folder is not plain files and folders, or passes a cap ([] when nothing).

    Walks without following links. Each message names the entry, relative to ``folder``.

    Args:
        folder: The submission (an inbound exchange folder, or ``submitted/<student>/<lab>``).
        caps: Bounds on files, bytes and depth.

    Returns:
        Short messages, at most a few (then a count of the others).
    """
    folder = Path(folder)
    try:
        st = os.lstat(folder)
    except OSError as e:
        return [f"{folder.name!r} cannot be read ({e.strerror})"]
    if stat.S_ISLNK(st.st_mode):
        return [f"{folder.name!r} is itself a link to {os.readlink(folder)!r}"]
    if not stat.S_ISDIR(st.st_mode):
        return [f"{folder.name!r} is not a folder"]
    entries, problems = _walk(folder, caps)
    odd = [msg for rel, est in entries if (msg := _odd(folder, rel, est))]
    return _summary(odd + problems)


def copy_submission(src: str | os.PathLike[str], dest: str | os.PathLike[str], caps: IntakeCaps = CAPS) -> list[str]:
    """Copy a checked submission folder to ``dest`` (new), refusing anything that became a link or a special file.

    Every folder and file is opened relative to its parent's descriptor with ``O_NOFOLLOW`` (files
    also ``O_NONBLOCK``) and checked again on the open descriptor, so a link, FIFO or folder swapped
    in after :func:`inspect_submission` is neither followed nor waited on.

    Returns:
        Messages naming what was refused ([] when the copy is complete); on a problem the copy is partial.
    """
    src, dest = Path(src), Path(dest)
    try:
        fd = os.open(src, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as e:
        return [f"{src.name!r} is not a plain folder ({e.strerror})"]
    try:
        dest.mkdir(parents=True)
        msg = _copy_dir(fd, "", dest, caps, [0, 0], 0)
    finally:
        os.close(fd)
    return [msg] if msg else []


def _copy_dir(fd: int, rel: str, dest: Path, caps: IntakeCaps, used: list[int], depth: int) -> str:
    """Copy the folder open as ``fd`` into ``dest``; ``used`` counts entries and bytes against the caps."""
    for name in sorted(os.listdir(fd)):
        path = os.path.join(rel, name) if rel else name
        used[0] += 1
        if used[0] > caps.files:
            return f"more than {caps.files} files and folders"
        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode) and depth + 1 < caps.depth:
            try:
                sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as e:
                return f"{path!r} cannot be opened as a plain folder ({e.strerror})"
            try:
                (dest / name).mkdir()
                msg = _copy_dir(sub, path, dest / name, caps, used, depth + 1)
            finally:
                os.close(sub)
        elif stat.S_ISDIR(st.st_mode):
            msg = f"{path!r} is nested more than {caps.depth} folders deep"
        else:
            msg = _copy_file(fd, name, path, dest / name, caps, used)
        if msg:
            return msg
    return ""


def _copy_file(fd: int, name: str, path: str, dest: Path, caps: IntakeCaps, used: list[int]) -> str:
    """Copy one regular file through a descriptor that never follows a link (within the byte caps)."""
    try:
        f_fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
    except OSError as e:
        return f"{path!r} cannot be opened as a plain file ({e.strerror})"
    with os.fdopen(f_fd, "rb") as f:
        st = os.fstat(f.fileno())
        if msg := _kind_problem(path, st):
            return msg
        data = f.read(caps.file_bytes + 1)
    used[1] += len(data)
    if len(data) > caps.file_bytes or used[1] > caps.total_bytes:
        return f"{path!r} grew past the size caps while it was copied"
    dest.write_bytes(data)
    os.chmod(dest, stat.S_IMODE(st.st_mode) & 0o755)  # an executable script stays one; no setuid, no shared write
    os.utime(dest, ns=(st.st_atime_ns, st.st_mtime_ns))
    return ""


def owner_problems(
    folder: str | os.PathLike[str], student: str, check: bool | None = None, caps: IntakeCaps = CAPS
) -> tuple[list[str], str]:
    """Is ``folder`` (and everything in it) owned by the OS account named ``student``?

    On a hub with real accounts the inbound folder's name is only a claim: its owner says who
    submitted it.

    Args:
        check: ``None`` checks where an account of that name exists and notes otherwise (several
            fake students under one account, as in CI); ``True`` refuses when it cannot check;
            ``False`` does not check.

    Returns:
        The problems (refuse the submission when any) and a note for the report ('' when none).
    """
    if check is False:
        return [], ""
    try:
        uid = pwd.getpwnam(student).pw_uid
    except KeyError:
        if check:
            return [f"there is no OS account named {student!r}, so its owner cannot be checked"], ""
        return [], f"owner not checked: no OS account named {student!r}"
    folder = Path(folder)
    entries, _ = _walk(folder, caps)
    wrong = [(rel or ".", st.st_uid) for rel, st in [("", os.lstat(folder)), *entries] if st.st_uid != uid]
    return _summary([f"{rel!r} is owned by {_user(owner)}, not by {student!r}" for rel, owner in wrong]), ""


def _user(uid: int) -> str:
    """An account's name, or its uid when it has none."""
    try:
        return f"{pwd.getpwuid(uid).pw_name!r} (uid {uid})"
    except KeyError:
        return f"uid {uid}"
