"""Get the Python source out of a .py, .ipynb, .zip or one student's folder.

Everything here treats the submission as hostile input: sizes are capped both
by what headers claim and by what is actually read, zips are read in memory
and never extracted, symlinks are not followed out of a folder.
"""
from __future__ import annotations

import hashlib
import os
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.intake.errors import ExtractionError
from grader.intake.notebook import notebook_to_source

MB = 1024 * 1024
MAX_SOURCE_BYTES = 2 * MB  # a .py file, a zip member, and the extracted source
MAX_NOTEBOOK_BYTES = 20 * MB  # a standalone notebook: outputs (plots) make them big
ZIP_MAX_MEMBERS = 200
ZIP_MAX_MEMBER_BYTES = 2 * MB
ZIP_MAX_TOTAL_BYTES = 20 * MB
ZIP_MAX_RATIO = 100
# Compression ratio is only meaningful for sizeable members: a few KB of blank
# lines compress >100x and are harmless.
ZIP_RATIO_MIN_BYTES = 64 * 1024
FOLDER_MAX_DEPTH = 4
FOLDER_MAX_ENTRIES = 2000

SOLUTION_NAMES = ("acceleration.py", "acceleration.ipynb")
SOURCE_SUFFIXES = (".py", ".ipynb")
JUNK_NAMES = {"__pycache__", "__MACOSX"}


@dataclass
class Extracted:
    code: str | None
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    raw_hash: str = ""  # sha256 of the raw bytes, for the code hash when code is None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def code_sha256(code: str) -> str:
    return sha256_hex(code.encode("utf-8", "surrogatepass"))


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(MB), b""):
                h.update(chunk)
    except OSError:
        pass  # unreadable: hash of what we could read (possibly nothing)
    return h.hexdigest()


def is_junk(name: str) -> bool:
    """Hidden files, macOS resource forks, byte-code caches: never part of a hand-in."""
    return name.startswith(".") or name in JUNK_NAMES


def _size_text(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= 100 * 1024 else f"{n} bytes"


def _read_capped(path: Path, limit: int) -> bytes:
    """At most ``limit`` bytes of a file; ExtractionError when it is bigger."""
    # Read one byte more than the limit rather than trusting stat(): the
    # size can change between the two calls.
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        size = max(len(data), path.stat().st_size)
        raise ExtractionError(
            f"{path.name} is {_size_text(size)}; the limit is {_size_text(limit)}"
        )
    return data


def _check_text(code: str, name: str) -> str:
    """Reject source that Python could never compile for reasons students cannot see."""
    if "\x00" in code:
        raise ExtractionError(f"{name} contains NUL bytes: it looks like a binary file, not Python source")
    try:
        size = len(code.encode("utf-8"))
    except UnicodeEncodeError:
        raise ExtractionError(f"{name} contains invalid characters (unpaired surrogates)") from None
    if size > MAX_SOURCE_BYTES:
        raise ExtractionError(
            f"the Python source in {name} is {_size_text(size)}; the limit is {_size_text(MAX_SOURCE_BYTES)}"
        )
    # Same code, same hash, whichever OS saved it.
    return code.replace("\r\n", "\n").replace("\r", "\n")


def decode_source(data: bytes, name: str) -> str:
    """A .py file's bytes as text: UTF-8, with or without a byte-order mark."""
    if len(data) > MAX_SOURCE_BYTES:
        raise ExtractionError(
            f"{name} is {_size_text(len(data))}; the limit is {_size_text(MAX_SOURCE_BYTES)}"
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ExtractionError(f"{name} is UTF-16 text, not UTF-8; save it as UTF-8 and hand it in again")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExtractionError(
            f"{name} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8 and hand it in again"
        ) from None
    return _check_text(text, name)


def decode_named(data: bytes, name: str) -> tuple[str, list[str]]:
    """Source and notes from a .py or .ipynb file's bytes, chosen by its name."""
    if name.lower().endswith(".ipynb"):
        code, notes = notebook_to_source(data, name)
        return _check_text(code, name), notes
    return decode_source(data, name), []


def pick_solution(paths: list[str], where: str) -> tuple[str, list[str]]:
    """The solution file among relative posix paths, and notes; ExtractionError when unclear.

    ``acceleration.py``/``.ipynb`` wins at any depth; otherwise the only
    .py/.ipynb present. A .py and .ipynb with the same name in the same folder
    count once (the .py): that is a jupytext pair, or a notebook exported to a
    script, i.e. the same work twice.
    """
    notes: list[str] = []
    sources = [p for p in paths if p.lower().endswith(SOURCE_SUFFIXES)]

    def collapse(cands: list[str]) -> list[str]:
        kept = []
        for p in cands:
            pp = PurePosixPath(p)
            if pp.suffix.lower() == ".ipynb":
                twin = [q for q in cands if PurePosixPath(q).parent == pp.parent
                        and PurePosixPath(q).stem == pp.stem and q.lower().endswith(".py")]
                if twin:
                    notes.append(f"both {twin[0]} and {p} were found; {twin[0]} was graded")
                    continue
            kept.append(p)
        return kept

    named = collapse([p for p in sources if PurePosixPath(p).name.lower() in SOLUTION_NAMES])
    candidates = named or collapse(sources)
    if len(candidates) == 1:
        return candidates[0], notes
    if not candidates:
        raise ExtractionError(f"no .py or .ipynb file found in {where}")
    listed = ", ".join(sorted(candidates))
    raise ExtractionError(
        f"could not tell which file in {where} is the solution: {listed}; "
        "name it acceleration.py (or hand in a single .py or .ipynb)"
    )


# ---------------------------------------------------------------- zip

def _zip_member_is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _zip_member_is_unsafe(name: str) -> bool:
    parts = name.split("/")
    return name.startswith("/") or bool(re.match(r"^[A-Za-z]:", name)) or ".." in parts


def _zip_size_checks(infos: list[zipfile.ZipInfo], label: str) -> None:
    if len(infos) > ZIP_MAX_MEMBERS:
        raise ExtractionError(
            f"{label} holds {len(infos)} entries; at most {ZIP_MAX_MEMBERS} are accepted"
        )
    total = 0
    for info in infos:
        if info.is_dir():
            continue
        total += info.file_size
        if info.file_size > ZIP_MAX_MEMBER_BYTES:
            raise ExtractionError(
                f"{info.filename} in {label} is {_size_text(info.file_size)} unpacked; "
                f"the limit is {_size_text(ZIP_MAX_MEMBER_BYTES)} per file"
            )
        if (info.file_size >= ZIP_RATIO_MIN_BYTES
                and info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1)):
            raise ExtractionError(
                f"{info.filename} in {label} unpacks to more than {ZIP_MAX_RATIO} times its packed size; "
                "the archive looks like a zip bomb and was not opened"
            )
    if total > ZIP_MAX_TOTAL_BYTES:
        raise ExtractionError(
            f"{label} unpacks to {_size_text(total)}; the limit is {_size_text(ZIP_MAX_TOTAL_BYTES)}"
        )


def _read_zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> bytes:
    if info.flag_bits & 0x1:
        raise ExtractionError(f"{info.filename} in {label} is password-protected")
    # The header's size was checked already; cap the bytes actually inflated
    # too, in case the header lies.
    with zf.open(info) as f:
        data = f.read(ZIP_MAX_MEMBER_BYTES + 1)
    if len(data) > ZIP_MAX_MEMBER_BYTES:
        raise ExtractionError(
            f"{info.filename} in {label} unpacks to more than {_size_text(ZIP_MAX_MEMBER_BYTES)}"
        )
    return data


def extract_zip(path: Path) -> Extracted:
    label = path.name
    out = Extracted(code=None, raw_hash=_file_sha256(path))
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _zip_size_checks(infos, label)
            members: dict[str, zipfile.ZipInfo] = {}
            unsafe: list[str] = []
            links: list[str] = []
            for info in infos:
                if info.is_dir():
                    continue
                name = info.filename.replace("\\", "/")
                if _zip_member_is_unsafe(name):
                    unsafe.append(info.filename)
                    continue
                parts = [p for p in name.split("/") if p not in ("", ".")]
                if not parts or any(is_junk(p) for p in parts):
                    continue
                if _zip_member_is_symlink(info):
                    links.append(info.filename)
                    continue
                members.setdefault("/".join(parts), info)
            if unsafe:
                out.notes.append(
                    f"ignored {len(unsafe)} zip entr{'y' if len(unsafe) == 1 else 'ies'} whose path "
                    f"points outside the archive (absolute or '..'): {', '.join(unsafe)}"
                )
            if links:
                out.notes.append(
                    f"ignored {len(links)} symbolic link{'' if len(links) == 1 else 's'} in the zip: "
                    f"{', '.join(links)}"
                )
            chosen, pick_notes = pick_solution(sorted(members), label)
            out.notes.extend(pick_notes)
            data = _read_zip_member(zf, members[chosen], label)
    except ExtractionError as exc:
        out.error = str(exc)
        return out
    except NotImplementedError as exc:
        out.error = (f"{label} uses a compression method that cannot be read ({exc}); "
                     "make the zip again with ordinary (deflate) compression")
        return out
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            RuntimeError, zlib.error) as exc:
        out.error = f"{label} is not a readable zip archive ({exc})"
        return out
    try:
        out.code, notes = decode_named(data, chosen)
    except ExtractionError as exc:
        out.error = str(exc)
        out.raw_hash = sha256_hex(data)
        return out
    out.notes.append(f"graded {chosen} from {label}")
    out.notes.extend(notes)
    return out


# ---------------------------------------------------------------- folder

def _inside(target: str, root: str) -> bool:
    return target == root or target.startswith(root.rstrip(os.sep) + os.sep)


def walk_folder(root: Path) -> tuple[dict[str, Path], list[str]]:
    """Regular files under ``root`` (relative posix path -> path) and notes.

    Does not follow symlinked folders; a symlinked file counts only when it
    resolves inside ``root`` (a student folder unpacked from an archive may
    hold a link to ~/.ssh or the reference solution).
    """
    root_real = os.path.realpath(root)
    files: dict[str, Path] = {}
    outside: list[str] = []
    linked_dirs: list[str] = []
    seen = 0
    truncated = False
    unreadable: list[str] = []

    def visit(folder: Path, rel: str, depth: int) -> None:
        nonlocal seen, truncated
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            unreadable.append(rel or ".")
            return
        for entry in entries:
            if seen >= FOLDER_MAX_ENTRIES:
                truncated = True
                return
            seen += 1
            if is_junk(entry.name):
                continue
            relp = f"{rel}/{entry.name}" if rel else entry.name
            try:
                if entry.is_symlink():
                    target = os.path.realpath(entry.path)
                    if not _inside(target, root_real):
                        outside.append(relp)
                    elif os.path.isdir(target):
                        linked_dirs.append(relp)
                    elif os.path.isfile(target):
                        files[relp] = Path(entry.path)
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if depth < FOLDER_MAX_DEPTH:
                        visit(Path(entry.path), relp, depth + 1)
                elif entry.is_file(follow_symlinks=False):  # not FIFOs, sockets, devices
                    files[relp] = Path(entry.path)
            except OSError:
                unreadable.append(relp)

    visit(root, "", 0)
    notes = []
    if outside:
        notes.append(f"ignored symbolic link(s) pointing outside the folder: {', '.join(outside)}")
    if linked_dirs:
        notes.append(f"did not follow symbolic link(s) to folders: {', '.join(linked_dirs)}")
    if unreadable:
        notes.append(f"could not read: {', '.join(unreadable)}")
    if truncated:
        notes.append(f"the folder holds more than {FOLDER_MAX_ENTRIES} entries; only the first were searched")
    return files, notes


def extract_folder(root: Path) -> Extracted:
    label = f"folder {root.name if root.name not in ('', '.', '..') else root.resolve().name}"
    files, notes = walk_folder(root)
    # No single file's bytes to hash when this fails: hash the listing, so
    # that two different broken folders do not look identical.
    listing = "\n".join(sorted(files)).encode("utf-8", "surrogateescape")
    out = Extracted(code=None, notes=notes, raw_hash=sha256_hex(listing))
    has_source = any(p.lower().endswith(SOURCE_SUFFIXES) for p in files)
    zips = [p for p in files if p.lower().endswith(".zip")]
    if not has_source and len(zips) == 1:
        # A folder holding just the student's zip (a class folder of per-student
        # folders): grade the zip rather than report "no .py file".
        inner = extract_zip(files[zips[0]])
        inner.notes = notes + inner.notes
        return inner
    try:
        chosen, pick_notes = pick_solution(sorted(files), label)
        out.notes.extend(pick_notes)
        path = files[chosen]
        limit = MAX_NOTEBOOK_BYTES if chosen.lower().endswith(".ipynb") else MAX_SOURCE_BYTES
        # Re-check right before reading: the link could have changed since the walk.
        if not _inside(os.path.realpath(path), os.path.realpath(root)):
            raise ExtractionError(f"{chosen} points outside {label}")
        try:
            data = _read_capped(path, limit)
        except OSError as exc:
            raise ExtractionError(f"{chosen} could not be read ({exc.strerror})") from None
        out.raw_hash = sha256_hex(data)
        out.code, nb_notes = decode_named(data, chosen)
    except ExtractionError as exc:
        out.error = str(exc)
        return out
    out.notes.append(f"graded {chosen} from {label}")
    out.notes.extend(nb_notes)
    return out


# ---------------------------------------------------------------- single files

def extract_file(path: Path) -> Extracted:
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return extract_zip(path)
    out = Extracted(code=None)
    if suffix not in SOURCE_SUFFIXES:
        out.raw_hash = _file_sha256(path)
        out.error = (f"{path.name} is not a .py file, a Jupyter notebook (.ipynb) or a .zip; "
                     "hand in acceleration.py or acceleration.ipynb")
        return out
    limit = MAX_NOTEBOOK_BYTES if suffix == ".ipynb" else MAX_SOURCE_BYTES
    try:
        data = _read_capped(path, limit)
    except ExtractionError as exc:
        out.raw_hash = _file_sha256(path)
        out.error = str(exc)
        return out
    except OSError as exc:
        out.raw_hash = sha256_hex(b"")
        out.error = f"{path.name} could not be read ({exc.strerror})"
        return out
    out.raw_hash = sha256_hex(data)
    try:
        out.code, out.notes = decode_named(data, path.name)
    except ExtractionError as exc:
        out.error = str(exc)
    return out


def extract(path: Path) -> Extracted:
    """Source code of any kind of submission; problems go in ``error``, never raised."""
    if path.is_dir():
        return extract_folder(path)
    if not path.exists():
        return Extracted(code=None, error=f"{path.name} does not exist", raw_hash=sha256_hex(b""))
    if not path.is_file():
        return Extracted(code=None, error=f"{path.name} is not a regular file", raw_hash=sha256_hex(b""))
    return extract_file(path)
