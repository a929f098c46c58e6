"""Intake: discovery, extraction (.py, .ipynb, .zip, folders), naming, hashing."""
from __future__ import annotations

import hashlib
import json
import os
import stat
import zipfile
from pathlib import Path

import pytest

from grader.intake import IntakeError, discover, load_submission
from grader.intake.naming import name_from_stem, slugify

SOLUTION = "import numpy as np\n\n\ndef fused_gelu(x):\n    return x\n"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def notebook(cells: list[dict]) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells})


def code_cell(source, outputs=None) -> dict:
    return {"cell_type": "code", "execution_count": 1, "metadata": {},
            "outputs": outputs or [], "source": source}


def make_zip(path: Path, members: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


# ---------------------------------------------------------------- naming

def test_canvas_name(tmp_path):
    sub = load_submission(write(tmp_path / "lovelace_10001_55501_acceleration.py", SOLUTION))
    assert sub.display_name == "lovelace"
    assert sub.student_id == "10001"
    assert sub.student == "lovelace_10001"
    assert sub.code == SOLUTION
    assert sub.code_hash == sha(SOLUTION)
    assert sub.intake_error is None
    assert sub.source_path == tmp_path / "lovelace_10001_55501_acceleration.py"


def test_canvas_late_and_two_part_names(tmp_path):
    late = load_submission(write(tmp_path / "turing_LATE_10002_55502_acceleration.py", SOLUTION))
    assert (late.display_name, late.student_id, late.student) == ("turing", "10002", "turing_10002")
    both = load_submission(write(tmp_path / "hopper_grace_10003_55503_acceleration-1.py", SOLUTION))
    assert (both.display_name, both.student_id, both.student) == ("hopper grace", "10003", "hopper_grace_10003")


def test_plain_name(tmp_path):
    sub = load_submission(write(tmp_path / "Ada Lovelace (final).py", SOLUTION))
    assert sub.display_name == "Ada Lovelace (final)"
    assert sub.student_id is None
    assert sub.student == "ada_lovelace_final"


@pytest.mark.parametrize("stem", ["acceleration_2024", "hw_1", "12345_67890_acceleration", "a__1_2"])
def test_not_canvas_names(stem):
    assert name_from_stem(stem).student_id is None


def test_slug_is_filesystem_safe():
    for text in ["../../etc", "Ümlaut Ñame", "汉字", "index.html", "..", "a/b\\c"]:
        slug = slugify(text)
        assert slug and slug not in (".", "..", "index.html")
        assert set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789._-")
        assert not slug.startswith(".")


# ---------------------------------------------------------------- .py

def test_bom_and_crlf_are_accepted(tmp_path):
    sub = load_submission(write(tmp_path / "a.py", b"\xef\xbb\xbfx = 1\r\ny = 2\r\n"))
    assert sub.code == "x = 1\ny = 2\n"
    assert sub.intake_error is None


def test_non_utf8_file(tmp_path):
    raw = "# café\nx = 1\n".encode("latin-1")
    sub = load_submission(write(tmp_path / "curie_10004_55504_acceleration.py", raw))
    assert sub.code is None
    assert "is not UTF-8 text" in sub.intake_error
    assert sub.code_hash == hashlib.sha256(raw).hexdigest()
    assert sub.student_id == "10004"  # still named, so it still gets a report


def test_oversized_py(tmp_path):
    sub = load_submission(write(tmp_path / "big.py", "#" * (2 * 1024 * 1024 + 10)))
    assert sub.code is None and "limit" in sub.intake_error


# ---------------------------------------------------------------- .ipynb

def test_notebook_extraction(tmp_path):
    nb = notebook([
        {"cell_type": "markdown", "metadata": {}, "source": ["# Acceleration\n", "%notmagic in markdown"]},
        code_cell(["%matplotlib inline\n", "import numpy as np\n", "!pip install x\n"],
                  outputs=[{"output_type": "stream", "name": "stdout", "text": ["secret output\n"]}]),
        code_cell("%%time\nA = np.ones((2, 2))\nB = A @ A"),
        code_cell(["%%bash\n", "echo hello\n", "rm -rf /\n"]),
        {"cell_type": "raw", "metadata": {}, "source": "raw stuff"},
        code_cell(['def f(x):\n', '    """Doc with\n', '%d and !bang lines."""\n', "    return x\n"]),
    ])
    sub = load_submission(write(tmp_path / "lovelace_10001_55501_acceleration.ipynb", nb))
    expected = (
        "# %% cell 1\n"
        "# [accelgrade] removed: %matplotlib\n"
        "import numpy as np\n"
        "# [accelgrade] removed: !pip\n"
        "\n"
        "# %% cell 2\n"
        "# [accelgrade] removed: %%time\n"
        "A = np.ones((2, 2))\n"
        "B = A @ A\n"
        "\n"
        "# %% cell 3\n"
        "# [accelgrade] removed: %%bash cell\n"
        "\n"
        "# %% cell 4\n"
        "def f(x):\n"
        '    """Doc with\n'
        '%d and !bang lines."""\n'
        "    return x\n"
    )
    assert sub.intake_error is None
    assert sub.code == expected
    compile(sub.code, "acceleration.py", "exec")
    assert "secret output" not in sub.code and "Acceleration" not in sub.code
    assert sub.code_hash == sha(expected)
    assert any("3 IPython magics and 1 shell escape removed" in n for n in sub.notes)
    assert sub.student_id == "10001"


def test_notebook_line_magics_inside_blocks_and_time_keeps_statement(tmp_path):
    nb = notebook([code_cell("for i in range(2):\n    %timeit f()\n%time C = g(1,\n  2)\nx = (1\n  % 2)\n")])
    sub = load_submission(write(tmp_path / "nb.ipynb", nb))
    compile(sub.code, "nb.py", "exec")
    assert "    pass  # [accelgrade] removed: %timeit" in sub.code
    assert "C = g(1,  # [accelgrade] removed: %time" in sub.code
    assert "  % 2)" in sub.code  # a modulo continuation line is Python, not a magic


def test_invalid_python_cell_is_kept(tmp_path):
    sub = load_submission(write(tmp_path / "nb.ipynb", notebook([code_cell("def broken(:\n")])))
    assert sub.intake_error is None
    assert "def broken(:" in sub.code


def test_broken_notebook(tmp_path):
    raw = b'{"cells": [ {"cell_type": "code", '
    sub = load_submission(write(tmp_path / "nb.ipynb", raw))
    assert sub.code is None
    assert "not a valid notebook" in sub.intake_error
    assert sub.code_hash == hashlib.sha256(raw).hexdigest()


def test_json_that_is_not_a_notebook(tmp_path):
    sub = load_submission(write(tmp_path / "nb.ipynb", "[1, 2, 3]"))
    assert sub.code is None and "not a Jupyter notebook" in sub.intake_error


# ---------------------------------------------------------------- .zip

def test_zip_with_nested_solution(tmp_path):
    z = make_zip(tmp_path / "lovelace_10001_55501_hw.zip", {
        "hw/src/acceleration.py": SOLUTION,
        "hw/src/helper.py": "x = 1\n",
        "__MACOSX/hw/src/._acceleration.py": b"\x00\x05junk",
        "hw/.ipynb_checkpoints/acceleration-checkpoint.ipynb": "{}",
    })
    sub = load_submission(z)
    assert sub.intake_error is None
    assert sub.code == SOLUTION
    assert sub.code_hash == sha(SOLUTION)
    assert (sub.display_name, sub.student_id) == ("lovelace", "10001")
    assert any("hw/src/acceleration.py" in n for n in sub.notes)


def test_zip_with_notebook(tmp_path):
    z = make_zip(tmp_path / "nb.zip", {"work/acceleration.ipynb": notebook([code_cell("%time x = 1\n")])})
    sub = load_submission(z)
    assert sub.code == "# %% cell 1\nx = 1  # [accelgrade] removed: %time\n"


def test_zip_ambiguous(tmp_path):
    sub = load_submission(make_zip(tmp_path / "two.zip", {"a/part1.py": "x=1\n", "part2.py": "y=2\n"}))
    assert sub.code is None
    assert "a/part1.py" in sub.intake_error and "part2.py" in sub.intake_error
    assert sub.code_hash == hashlib.sha256((tmp_path / "two.zip").read_bytes()).hexdigest()


def test_zip_path_traversal_is_ignored(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    z = work / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("../evil.py", "import os\n")
        zf.writestr("/tmp/abs_evil.py", "import os\n")
        zf.writestr("sub/../../evil2.py", "import os\n")
        zf.writestr("acceleration.py", SOLUTION)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    sub = load_submission(z)
    assert sub.code == SOLUTION
    assert any("../evil.py" in n and "/tmp/abs_evil.py" in n for n in sub.notes)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    assert not (tmp_path / "evil.py").exists() and not Path("/tmp/abs_evil.py").exists()


def test_zip_only_traversal_members_is_an_error(tmp_path):
    sub = load_submission(make_zip(tmp_path / "evil.zip", {"../acceleration.py": SOLUTION}))
    assert sub.code is None and "no .py or .ipynb" in sub.intake_error


def test_zip_bomb_rejected(tmp_path):
    z = make_zip(tmp_path / "bomb.zip", {"acceleration.py": b"\0" * (50 * 1024 * 1024)})
    assert z.stat().st_size < 1024 * 1024
    sub = load_submission(z)
    assert sub.code is None
    assert "limit" in sub.intake_error and "acceleration.py" in sub.intake_error


def test_zip_high_ratio_member_rejected(tmp_path):
    sub = load_submission(make_zip(tmp_path / "r.zip", {"acceleration.py": b" " * (1024 * 1024)}))
    assert sub.code is None and "zip bomb" in sub.intake_error


def test_zip_too_many_members(tmp_path):
    sub = load_submission(make_zip(tmp_path / "many.zip", {f"f{i}.txt": "x" for i in range(201)}))
    assert sub.code is None and "201 entries" in sub.intake_error


def test_zip_lying_header_is_capped(tmp_path):
    """A header claiming a small size must not let more bytes through."""
    z = tmp_path / "liar.zip"
    payload = b"x = 1\n" * 100_000  # 600 kB, under the per-file limit but not what the header says
    make_zip(z, {"acceleration.py": payload})
    raw = bytearray(z.read_bytes())
    # Patch the uncompressed size (local header offset 22, central directory offset 24).
    local = raw.find(b"PK\x03\x04")
    central = raw.find(b"PK\x01\x02")
    raw[local + 22:local + 26] = (100).to_bytes(4, "little")
    raw[central + 24:central + 28] = (100).to_bytes(4, "little")
    z.write_bytes(bytes(raw))
    sub = load_submission(z)
    # At most the claimed 100 bytes are inflated; zipfile then sees the CRC mismatch.
    assert sub.code is None and "not a readable zip" in sub.intake_error


def test_zip_symlink_entry_is_ignored(tmp_path):
    z = tmp_path / "link.zip"
    with zipfile.ZipFile(z, "w") as zf:
        link = zipfile.ZipInfo("acceleration.py")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("mine/solution.py", SOLUTION)
    sub = load_submission(z)
    assert sub.code == SOLUTION
    assert any("symbolic link" in n and "acceleration.py" in n for n in sub.notes)


def test_corrupt_zip(tmp_path):
    sub = load_submission(write(tmp_path / "bad.zip", b"PK\x03\x04 definitely not a zip"))
    assert sub.code is None and "not a readable zip" in sub.intake_error


# ---------------------------------------------------------------- folders

def test_student_folder(tmp_path):
    folder = tmp_path / "ada"
    write(folder / "acceleration.py", SOLUTION)
    write(folder / "test_acceleration.py", "def test(): pass\n")
    write(folder / "tinytorch" / "core" / "tensor.py", "class Tensor: pass\n")
    write(folder / "README.md", "hi")
    subs = discover([folder])
    assert len(subs) == 1
    assert subs[0].code == SOLUTION and subs[0].display_name == "ada"
    assert subs[0].source_path == folder


def test_folder_symlink_outside_is_ignored(tmp_path):
    secret = write(tmp_path / "outside" / "secret.py", "TOKEN = 'x'\n")
    folder = tmp_path / "stu"
    write(folder / "work" / "mine.py", SOLUTION)
    folder.joinpath("acceleration.py").symlink_to(secret)
    sub = load_submission(folder)
    assert sub.code == SOLUTION
    assert any("outside the folder" in n and "acceleration.py" in n for n in sub.notes)


def test_folder_with_paired_py_and_ipynb(tmp_path):
    folder = tmp_path / "stu"
    write(folder / "acceleration.py", SOLUTION)
    write(folder / "acceleration.ipynb", notebook([code_cell("x = 1\n")]))
    subs = discover([folder])
    assert len(subs) == 1 and subs[0].code == SOLUTION
    assert any("acceleration.py was graded" in n for n in subs[0].notes)


def test_class_folder(tmp_path):
    cls = tmp_path / "class"
    write(cls / "lovelace_10001_55501_acceleration.py", SOLUTION)
    write(cls / "turing_LATE_10002_55502_acceleration.ipynb", notebook([code_cell("x = 1\n")]))
    make_zip(cls / "hopper_10003_55503_acceleration.zip", {"x/acceleration.py": SOLUTION})
    write(cls / "babbage" / "acceleration.py", SOLUTION)
    write(cls / "curie_10004_55504_acceleration.pdf", b"%PDF-1.4")
    write(cls / "empty_student" / "notes.txt", "nothing here")
    write(cls / "README.md", "instructions")
    write(cls / "roster.csv", "a,b")
    write(cls / ".DS_Store", b"\0")
    write(cls / "__MACOSX" / "._x.py", b"\0")
    write(cls / "__pycache__" / "x.cpython-311.pyc", b"\0")
    subs = discover([cls])
    assert [s.student for s in subs] == [
        "babbage", "curie_10004", "empty_student", "hopper_10003", "lovelace_10001", "turing_10002",
    ]
    by = {s.student: s for s in subs}
    assert by["babbage"].code == SOLUTION and by["babbage"].student_id is None
    assert by["hopper_10003"].code == SOLUTION
    assert by["turing_10002"].code == "# %% cell 1\nx = 1\n"
    assert by["curie_10004"].code is None
    assert "not a .py file" in by["curie_10004"].intake_error
    assert "no .py or .ipynb" in by["empty_student"].intake_error
    assert discover([cls]) == subs  # deterministic


def test_folder_with_acceleration_and_other_submissions_is_a_class_folder(tmp_path):
    cls = tmp_path / "class"
    write(cls / "acceleration.py", SOLUTION)
    write(cls / "lovelace_10001_55501_acceleration.py", SOLUTION)
    subs = discover([cls])
    assert sorted(s.student for s in subs) == ["acceleration", "lovelace_10001"]


def test_duplicate_students_are_both_kept(tmp_path):
    cls = tmp_path / "class"
    write(cls / "lovelace_10001_55501_acceleration.py", SOLUTION)
    write(cls / "lovelace_LATE_10001_55509_acceleration.py", SOLUTION + "# v2\n")
    write(cls / "lovelace_10001-2.py", "x = 1\n")  # a plain name that equals the natural suffix
    subs = discover([cls])
    slugs = [s.student for s in subs]
    assert len(set(slugs)) == 3
    dups = [s for s in subs if s.student_id == "10001"]
    assert sorted(s.student for s in dups) == ["lovelace_10001", "lovelace_10001-3"]
    for s in dups:
        assert any("another submission maps to the same student" in n for n in s.notes)
    assert {s.code for s in dups} == {SOLUTION, SOLUTION + "# v2\n"}


def test_same_id_different_names_noted(tmp_path):
    cls = tmp_path / "class"
    write(cls / "lovelace_10001_55501_acceleration.py", SOLUTION)
    write(cls / "byron_10001_55502_acceleration.py", SOLUTION)
    subs = discover([cls])
    assert all(any("same student id 10001" in n for n in s.notes) for s in subs)


def test_missing_path(tmp_path):
    with pytest.raises(IntakeError, match="no such file or folder"):
        discover([tmp_path / "nope"])


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    write(tmp_path / "only_readme" / "README.md", "x")
    with pytest.raises(IntakeError):
        discover([tmp_path / "empty"])
    with pytest.raises(IntakeError):
        discover([tmp_path / "only_readme"])


def test_single_files_and_dedup(tmp_path):
    a = write(tmp_path / "acceleration.py", SOLUTION)
    subs = discover([a, tmp_path / "." / "acceleration.py"])
    assert len(subs) == 1 and subs[0].student == "acceleration"


def test_load_submission_never_raises(tmp_path):
    fifo = tmp_path / "acceleration.py"
    os.mkfifo(fifo)
    sub = load_submission(fifo)
    assert sub.code is None and sub.intake_error
    sub = load_submission(tmp_path / "missing.py")
    assert sub.code is None and sub.intake_error


def test_class_folder_one_level_down(tmp_path):
    course = tmp_path / "course"
    write(course / "README.md", "x")
    write(course / "submissions" / "lovelace_10001_55501_acceleration.py", SOLUTION)
    write(course / "submissions" / "turing_10002_55502_acceleration.py", SOLUTION)
    write(course / "late" / "hopper_10003_55503_acceleration.py", SOLUTION)  # one student: a student folder
    subs = discover([course])
    assert [s.student for s in subs] == ["late", "lovelace_10001", "turing_10002"]
