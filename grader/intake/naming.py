"""Who a submission belongs to: display name, student id and a filesystem-safe slug.

Canvas "download all submissions" names files
``<name tokens>[_LATE]_<student id>_<submission id>[_<original file name>]``,
e.g. ``lovelace_12345_67890_acceleration.py``. Anything else is named after
its file or folder stem and has no student id.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from grader.models import Submission

# Two numeric tokens in a row are what makes a name Canvas-shaped; a single
# number is too easily a version or a year ("acceleration_2024.py").
_CANVAS = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_(?P<sub>\d+)(?:_(?P<orig>.*))?$")

# Names the reports write next to the per-student folders in OUT/.
_RESERVED_SLUGS = {"index.html", "grades.csv", "summary.json"}
_MAX_SLUG = 80


@dataclass(frozen=True)
class StudentName:
    display_name: str
    student_id: str | None
    slug: str


def parse_canvas_name(stem: str) -> tuple[list[str], str] | None:
    """Name tokens and student id of a Canvas download name, or None when it is not one."""
    m = _CANVAS.match(stem)
    if not m:
        return None
    tokens = m.group("name").split("_")
    # Canvas marks late work with an upper-case LATE token after the name;
    # a first token "LATE" would be the name itself, so keep it.
    if len(tokens) > 1 and tokens[-1] == "LATE":
        tokens = tokens[:-1]
    # Every name token must be a real word: empty tokens ("a__1_2") or
    # all-digit tokens mean this is some other naming scheme.
    if any(not t or t.isdigit() for t in tokens):
        return None
    if not any(ch.isalpha() for ch in "".join(tokens)):
        return None
    return tokens, m.group("id")


def slugify(text: str) -> str:
    """Lower-case [a-z0-9._-] text, safe as a single folder name on any OS."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9._-]+", "_", folded.lower())
    slug = re.sub(r"_{2,}", "_", slug).strip("._-")
    slug = slug[:_MAX_SLUG].rstrip("._-")
    if not slug:
        # Names with no ASCII letters at all (e.g. CJK) still need a stable,
        # distinct folder: derive it from the original text.
        slug = "submission-" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    if slug in _RESERVED_SLUGS:
        slug = slug.replace(".", "_")
    return slug


def name_from_stem(stem: str) -> StudentName:
    """Student naming for a file stem or folder name."""
    parsed = parse_canvas_name(stem)
    if parsed is not None:
        tokens, student_id = parsed
        return StudentName(
            display_name=" ".join(tokens),
            student_id=student_id,
            slug=slugify("_".join(tokens) + "_" + student_id),
        )
    return StudentName(display_name=stem, student_id=None, slug=slugify(stem))


def _label(sub: Submission) -> str:
    return sub.source_path.name or str(sub.source_path)


def assign_unique_slugs(subs: list[Submission]) -> None:
    """Make ``student`` unique within a batch, in list order, and note every clash.

    The first submission keeps the slug, later ones get ``-2``, ``-3`` ... so
    that both are graded and neither report overwrites the other. Submissions
    with different slugs but the same Canvas student id are noted too: the
    gradebook would otherwise get two rows for one student without warning.
    """
    original = {id(sub): sub.student for sub in subs}
    groups: dict[str, list[Submission]] = defaultdict(list)
    for sub in subs:
        groups[sub.student].append(sub)
    taken = set(groups)  # never hand out a suffix that is another group's slug
    for base, members in groups.items():
        if len(members) < 2:
            continue
        slugs = [base]
        for sub in members[1:]:
            k = 2
            while f"{base}-{k}" in taken:
                k += 1
            sub.student = f"{base}-{k}"
            taken.add(sub.student)
            slugs.append(sub.student)
        files = ", ".join(_label(m) for m in members)
        for sub in members:
            sub.notes.append(
                f"another submission maps to the same student ({base}): {files}; "
                f"each was graded separately, as {', '.join(slugs)}"
            )

    by_id: dict[str, list[Submission]] = defaultdict(list)
    for sub in subs:
        if sub.student_id is not None:
            by_id[sub.student_id].append(sub)
    for student_id, members in by_id.items():
        if len({original[id(m)] for m in members}) < 2:
            continue  # one slug group: already noted above
        files = ", ".join(_label(m) for m in members)
        for sub in members:
            sub.notes.append(
                f"another submission maps to the same student id {student_id}: {files}; "
                "each was graded separately"
            )

