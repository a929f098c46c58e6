#!/usr/bin/env python
"""What similarity flags cost a batch, and how often they flag honest work.

One command:

    python benchmarks/similarity.py [--students 200] [--threshold 0.6] [--skip-batch]

1. **False flags.** Every pair of the example class (examples/submissions/) and of the hostile
   corpus's own files (tests/corpus/, each written separately) is compared; it prints the most
   similar honest pairs and how many are flagged at the threshold. The default threshold
   (grader/similarity/defaults.py) was chosen from this table: well above the most similar
   honest pair, well below a renamed copy (tests/fixtures/similarity/ada and brook).
2. **Overhead for a class of N (200).** Generates N submissions (each function drawn from a
   few independently written variants, names, comments and order varied per student, plus
   two renamed copies), grades the class twice with ``--categories correctness,integration``
   (the cheapest real batch: no measured checks, so similarity's share is the largest it gets),
   once with ``--no-similarity``, and prints both wall times, the similarity phase's own time
   (``summary.json`` ``similarity.seconds``: tokenising, comparing every pair, writing the
   pair pages) and its share of the batch.
"""
from __future__ import annotations

import argparse
import itertools
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.similarity import DEFAULT_THRESHOLD, Entry, boilerplate_sources, compare  # noqa: E402

HEADER = "import numpy as np\nfrom tinytorch.core.tensor import Tensor\n"

# Each function in a few versions written separately; {n0}.. are local names varied per student.
VARIANTS: dict[str, list[str]] = {
    "vectorized_matmul": [
        '''def vectorized_matmul(a, b):
    {n0}, {n1} = a.data, b.data
    if {n0}.ndim < 2 or {n1}.ndim < 2:
        raise ValueError("2D+ needed")
    if {n0}.shape[-1] != {n1}.shape[-2]:
        raise ValueError("shape mismatch")
    return Tensor(np.matmul({n0}, {n1}))
''',
        '''def vectorized_matmul(a, b):
    if min(a.data.ndim, b.data.ndim) < 2:
        raise ValueError("need 2D+ inputs")
    if a.shape[-1] == b.shape[-2]:
        return Tensor(a.data @ b.data)
    raise ValueError("shape mismatch")
''',
        '''def vectorized_matmul(a, b):
    {n0} = np.asarray(a.data)
    {n1} = np.asarray(b.data)
    for {n2} in ({n0}, {n1}):
        if {n2}.ndim < 2:
            raise ValueError("2D+ only")
    if {n0}.shape[-1] != {n1}.shape[-2]:
        raise ValueError("shape mismatch " + str({n0}.shape) + str({n1}.shape))
    return Tensor(np.einsum("...ij,...jk->...ik", {n0}, {n1}))
''',
    ],
    "fused_gelu": [
        '''def fused_gelu(x):
    {n0} = x.data
    return Tensor(np.float32(0.5) * {n0} * (np.float32(1) + np.tanh(np.float32(0.7978845608) * ({n0} + np.float32(0.044715) * {n0} ** 3))))
''',
        '''def fused_gelu(x):
    {n0} = np.float32(np.sqrt(2 / np.pi))
    {n1} = x.data
    return Tensor({n1} / 2 * (1 + np.tanh({n0} * {n1} * (1 + np.float32(0.044715) * {n1} * {n1}))))
''',
        '''def fused_gelu(x):
    {n0} = x.data.astype(np.float32)
    {n1} = {n0} * {n0}
    {n1} *= {n0}
    {n1} *= np.float32(0.044715)
    {n1} += {n0}
    {n1} *= np.float32(0.7978845608)
    np.tanh({n1}, out={n1})
    {n1} += 1
    {n1} *= {n0}
    {n1} *= np.float32(0.5)
    return Tensor({n1})
''',
    ],
    "unfused_gelu": [
        '''def unfused_gelu(x):
    {n0} = x.data
    {n1} = {n0} ** 3
    {n2} = {n1} * np.float32(0.044715)
    {n3} = {n0} + {n2}
    {n4} = {n3} * np.float32(0.7978845608)
    {n5} = np.tanh({n4})
    {n6} = {n5} + np.float32(1)
    return Tensor(np.float32(0.5) * {n0} * {n6})
''',
        '''def unfused_gelu(x):
    {n0} = x.data
    {n1} = [np.multiply({n0}, {n0})]
    {n1}.append(np.multiply({n1}[-1], {n0}))
    {n1}.append(np.multiply({n1}[-1], np.float32(0.044715)))
    {n1}.append(np.add({n1}[-1], {n0}))
    {n1}.append(np.multiply({n1}[-1], np.float32(0.7978845608)))
    {n1}.append(np.tanh({n1}[-1]))
    {n1}.append(np.add({n1}[-1], np.float32(1.0)))
    return Tensor(np.multiply(np.multiply({n0}, np.float32(0.5)), {n1}[-1]))
''',
        '''def unfused_gelu(x):
    {n0} = np.asarray(x.data, dtype=np.float32)
    {n1} = np.power({n0}, 3)
    {n1} = {n1} * np.float32(0.044715)
    {n1} = {n1} + {n0}
    {n1} = {n1} * np.float32(0.7978845608)
    {n1} = np.tanh({n1})
    {n1} = {n1} + 1
    return Tensor({n1} * {n0} / 2)
''',
    ],
    "tiled_matmul": [
        '''def tiled_matmul(a, b, tile_size=64):
    if tile_size < 1:
        raise ValueError("tile size")
    {n0}, {n1} = a.data, b.data
    if {n0}.ndim != 2 or {n1}.ndim != 2 or {n0}.shape[1] != {n1}.shape[0]:
        raise ValueError("shape mismatch")
    {n2} = np.zeros(({n0}.shape[0], {n1}.shape[1]), dtype=np.float32)
    for {n3} in range(0, {n0}.shape[0], tile_size):
        for {n4} in range(0, {n1}.shape[1], tile_size):
            for {n5} in range(0, {n0}.shape[1], tile_size):
                {n2}[{n3}:{n3} + tile_size, {n4}:{n4} + tile_size] += (
                    {n0}[{n3}:{n3} + tile_size, {n5}:{n5} + tile_size] @ {n1}[{n5}:{n5} + tile_size, {n4}:{n4} + tile_size])
    return Tensor({n2})
''',
        '''def tiled_matmul(a, b, tile_size=64):
    {n0}, {n1} = a.data, b.data
    if tile_size <= 0:
        raise ValueError("bad tile")
    if {n0}.ndim != 2 or {n1}.ndim != 2:
        raise ValueError("2D only")
    {n2}, {n3} = {n0}.shape
    if {n1}.shape[0] != {n3}:
        raise ValueError("shape mismatch")
    {n4} = np.zeros(({n2}, {n1}.shape[1]), np.float32)
    {n5} = 0
    while {n5} < {n2}:
        {n6} = 0
        while {n6} < {n3}:
            {n4}[{n5}:{n5} + tile_size] += {n0}[{n5}:{n5} + tile_size, {n6}:{n6} + tile_size] @ {n1}[{n6}:{n6} + tile_size]
            {n6} += tile_size
        {n5} += tile_size
    return Tensor({n4})
''',
        '''def tiled_matmul(a, b, tile_size=64):
    if not tile_size >= 1:
        raise ValueError("tile_size < 1")
    {n0} = np.asarray(a.data)
    {n1} = np.asarray(b.data)
    if {n0}.ndim != 2 or {n1}.ndim != 2 or {n0}.shape[1] != {n1}.shape[0]:
        raise ValueError("shape mismatch")
    {n2} = []
    for {n3} in range(0, {n0}.shape[0], tile_size):
        {n4} = []
        for {n5} in range(0, {n1}.shape[1], tile_size):
            {n6} = sum({n0}[{n3}:{n3} + tile_size, k:k + tile_size] @ {n1}[k:k + tile_size, {n5}:{n5} + tile_size]
                       for k in range(0, {n0}.shape[1], tile_size))
            {n4}.append(np.asarray({n6}, dtype=np.float32))
        {n2}.append({n4})
    return Tensor(np.block({n2}))
''',
    ],
    "arithmetic_intensity": [
        '''def arithmetic_intensity(flops, bytes_moved):
    if bytes_moved <= 0:
        raise ValueError("bytes")
    return flops / bytes_moved
''',
        '''def arithmetic_intensity(flops, bytes_moved):
    if not bytes_moved > 0:
        raise ValueError("bytes_moved must be positive")
    {n0} = float(flops) / float(bytes_moved)
    return {n0}
''',
    ],
    "operation_cost": [
        '''def operation_cost(op, n):
    if op == "add":
        return n, 12 * n
    if op == "gelu":
        return 8 * n, 8 * n
    if op == "gelu_unfused":
        return 8 * n, 64 * n
    if op == "matmul":
        return 2 * n ** 3, 12 * n ** 2
    raise ValueError(op)
''',
        '''def operation_cost(op, n):
    {n0} = {{"add": (1, 12), "gelu": (8, 8), "gelu_unfused": (8, 64)}}
    if op in {n0}:
        {n1}, {n2} = {n0}[op]
        return {n1} * n, {n2} * n
    elif op == "matmul":
        return 2 * n * n * n, 3 * 4 * n * n
    else:
        raise ValueError("unknown op")
''',
        '''def operation_cost(op, n):
    {n0} = {{
        "add": lambda m: (m, 12 * m),
        "gelu": lambda m: (8 * m, 8 * m),
        "gelu_unfused": lambda m: (8 * m, 64 * m),
        "matmul": lambda m: (2 * m ** 3, 12 * m ** 2),
    }}
    try:
        return {n0}[op](n)
    except KeyError:
        raise ValueError(op) from None
''',
    ],
    "roofline_predict": [
        '''def roofline_predict(flops, bytes_moved, peak_gflops, peak_bandwidth_gbs):
    return min(peak_gflops, arithmetic_intensity(flops, bytes_moved) * peak_bandwidth_gbs)
''',
        '''def roofline_predict(flops, bytes_moved, peak_gflops, peak_bandwidth_gbs):
    {n0} = arithmetic_intensity(flops, bytes_moved) * peak_bandwidth_gbs
    if {n0} > peak_gflops:
        return peak_gflops
    return {n0}
''',
    ],
    "classify_bound": [
        '''def classify_bound(flops, bytes_moved, peak_gflops, peak_bandwidth_gbs):
    {n0} = peak_gflops / peak_bandwidth_gbs
    return "memory" if arithmetic_intensity(flops, bytes_moved) < {n0} else "compute"
''',
        '''def classify_bound(flops, bytes_moved, peak_gflops, peak_bandwidth_gbs):
    if roofline_predict(flops, bytes_moved, peak_gflops, peak_bandwidth_gbs) < peak_gflops:
        return "memory"
    return "compute"
''',
    ],
}
NAMES = ["arr", "lhs", "rhs", "tmp", "res", "out", "acc", "val", "buf", "xs", "ys", "zs", "blk", "row", "col",
         "step", "part", "cur", "nxt", "work", "data", "mat", "vec", "cube", "th", "sq", "s1", "s2", "s3", "s4"]
REMARKS = ["# quick check", "# numpy does the heavy lifting", "# TODO tidy up", "# from lecture 7",
           "# keep float32", "# tested in the notebook", "# see the roofline slides", "# edge cases first"]


FILLERS = ["{v} = {a}", "assert {a} > -{b}", "{v} = ({a}, {b})", "if {a} > {b}:\n{ind}    pass",
           "{v} = [{a}] * {b}", "{v} = {a} // {b} + {a}"]


def _varied(body: str, rng: random.Random) -> str:
    """Each student's own code: statements of their own after most lines, so only the choice of
    variant is shared (honest classes of this assignment share about that much)."""
    out, depth, ind = [], 0, ""
    for n, line in enumerate(body.splitlines()):
        out.append(line)
        if not depth:  # a statement starts here: its indentation is the one to continue with
            ind = line[:len(line) - len(line.lstrip())]
        depth += line.count("(") + line.count("[") + line.count("{") - line.count(")") - line.count("]") \
            - line.count("}")
        if n == 0 or depth or line.rstrip().endswith(":") or not line.strip() or rng.random() > 0.8:
            continue
        filler = rng.choice(FILLERS).format(v=f"_t{rng.randrange(100)}", a=rng.randrange(1, 999),
                                            b=rng.randrange(1, 999), ind=ind)
        out.append(ind + filler)
    return "\n".join(out) + "\n"


def generate_class(n: int, folder: Path, seed: int = 7) -> list[Path]:
    """n submissions from the variant pools, plus two renamed copies among them."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n - 2):
        names = rng.sample(NAMES, 7)
        parts = []
        for fn, versions in VARIANTS.items():
            body = _varied(rng.choice(versions).format(**{f"n{k}": v for k, v in enumerate(names)}), rng)
            if rng.random() < 0.5:
                body = body.replace(":\n", ":\n    " + rng.choice(REMARKS) + "\n", 1)
            parts.append(body)
        rng.shuffle(parts)
        text = f'"""Acceleration, student {i}."""\n' + HEADER + "\n\n" + "\n\n".join(parts)
        path = folder / f"student{i:03d}_{30000 + i}_{40000 + i}_acceleration.py"
        path.write_text(text)
        paths.append(path)
    for j, src in enumerate(paths[:2]):  # renamed copies: every local name replaced, remarks dropped
        text = src.read_text()
        for k, name in enumerate(NAMES):
            text = text.replace(f" {name} ", f" v{k}_{j} ").replace(f"({name}", f"(v{k}_{j}")
        text = "\n".join(line for line in text.splitlines() if not line.strip().startswith("#"))
        path = folder / f"copier{j}_{39000 + j}_{49000 + j}_acceleration.py"
        path.write_text(text)
        paths.append(path)
    return paths


def false_flags(threshold: float) -> None:
    print(f"False flags at threshold {threshold:.2f} (grader.similarity, starter file and reference excluded)")
    sets = {"example class (examples/submissions)": sorted((ROOT / "examples" / "submissions").glob("*.py")),
            "hostile corpus (tests/corpus, the files as written)": sorted((ROOT / "tests" / "corpus").rglob("*.py")),
            "fixture class with a renamed copy (tests/fixtures/similarity)":
                sorted((ROOT / "tests" / "fixtures" / "similarity").glob("*.py"))}
    for label, paths in sets.items():
        entries = [Entry(p.stem, p.stem, None, p.read_text(errors="replace")) for p in paths]
        everything, _ = compare(entries, boilerplate_sources(), threshold=1e-9, min_overlap=0)
        flagged, _ = compare(entries, boilerplate_sources(), threshold=threshold)
        print(f"\n  {label}: {len(paths)} files, {flagged.pairs_compared} pairs, "
              f"{len(flagged.pairs)} flagged ({100 * len(flagged.pairs) / max(1, flagged.pairs_compared):.1f}%)")
        for p in everything.pairs[:4]:
            mark = "FLAGGED" if any((q.a, q.b) == (p.a, p.b) for q in flagged.pairs) else "       "
            print(f"    {mark} {p.score:5.2f} ({p.similarity_a:.2f}/{p.similarity_b:.2f}, {p.overlap:4d} tokens) "
                  f"{p.a[:28]} ~ {p.b[:28]}")


def grade(folder: Path, out: Path, *extra: str) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "grader", str(folder), "--out", str(out), "--seed", "11", "--quiet",
                    "--categories", "correctness,integration", *extra], cwd=ROOT, check=True)
    return time.monotonic() - started


def overhead(n: int, threshold: float) -> None:
    work = Path(tempfile.mkdtemp(prefix="accelgrade-similarity-"))
    try:
        paths = generate_class(n, work / "class")
        entries = [Entry(p.stem, p.stem, None, p.read_text()) for p in paths]
        report, _ = compare(entries, boilerplate_sources(), threshold=threshold)
        print(f"\nGenerated class of {len(paths)}: {report.pairs_compared} pairs compared in {report.seconds:.2f} s "
              f"(in this process), {len(report.pairs)} flagged")
        for p in report.pairs[:5]:
            print(f"    {p.score:5.2f} {p.a[:24]} ~ {p.b[:24]}")
        print(f"\nGrading the class of {len(paths)} twice (--categories correctness,integration) ...")
        off = grade(work / "class", work / "off", "--no-similarity")
        on = grade(work / "class", work / "on", "--similarity-threshold", str(threshold))
        sim = json.loads((work / "on" / "summary.json").read_text())["similarity"]
        print(f"  batch without similarity: {off:7.1f} s")
        print(f"  batch with similarity:    {on:7.1f} s  (difference {on - off:+.1f} s; includes run-to-run noise)")
        print(f"  similarity phase itself:  {sim['seconds']:7.2f} s  = {100 * sim['seconds'] / off:.1f}% of the batch "
              f"({sim['pairs_compared']} pairs, {sim['flagged']} flagged, pages written)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--students", type=int, default=200)
    p.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    p.add_argument("--skip-batch", action="store_true", help="only the false-flag table and the in-process timing")
    args = p.parse_args()
    false_flags(args.threshold)
    if args.skip_batch:
        paths = generate_class(args.students, Path(tempfile.mkdtemp(prefix="accelgrade-similarity-")) / "class")
        report, _ = compare([Entry(q.stem, q.stem, None, q.read_text()) for q in paths], boilerplate_sources(),
                            threshold=args.threshold)
        print(f"\nGenerated class of {len(paths)}: {report.pairs_compared} pairs in {report.seconds:.2f} s, "
              f"{len(report.pairs)} flagged")
        shutil.rmtree(paths[0].parent.parent, ignore_errors=True)
        return 0
    overhead(args.students, args.threshold)
    return 0


if __name__ == "__main__":
    sys.exit(main())
