"""tiled_matmul: blocked matmul, right at every tile size and ragged edge."""
import numpy as np
import pytest

from grader.checks.expect import assert_close, assert_raises, matmul_tolerance

HINT_EDGES = ("Let the last tile be smaller: slice a[i:i+t] (slicing stops at the edge) or use "
              "min(i + tile_size, n) as the end index.")


def _case(student, rng, m, k, n, tile):
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    expected = a.astype(np.float64) @ b.astype(np.float64)
    out = student.tiled_matmul(a, b, tile_size=tile)
    assert_close(out, expected, f"tiled_matmul ({m}x{k} @ {k}x{n}, tile {tile})", **matmul_tolerance(k))


@pytest.mark.check("tiled.exact_tiles", hint="Loop over i, j and k tiles and accumulate each tile product.")
def test_exact_tiles(student, rng):
    """tiled_matmul equals np.matmul when sizes are multiples of the tile"""
    _case(student, rng, 64, 32, 48, 16)
    _case(student, rng, 128, 128, 128, 64)


@pytest.mark.check("tiled.ragged_edges", hint=HINT_EDGES)
def test_ragged_edges(student, rng):
    """tiled_matmul is right when sizes are not multiples of the tile (13x7 @ 7x5, tile 4)"""
    _case(student, rng, 13, 7, 5, 4)
    _case(student, rng, 70, 45, 33, 16)


@pytest.mark.check("tiled.tile_sizes", hint=HINT_EDGES)
def test_tile_sizes(student, rng):
    """tiled_matmul is right for tile sizes from 1 to 128"""
    for tile in (1, 2, 3, 7, 16, 33, 64, 100, 128):
        m, k, n = (int(v) for v in rng.integers(5, 40, size=3))
        _case(student, rng, m, k, n, tile)


@pytest.mark.check("tiled.errors", hint="Raise ValueError when tile_size < 1 and when the inner dimensions differ.")
def test_errors(student, rng):
    """ValueError for a tile size under 1 and for mismatched shapes"""
    a = rng.standard_normal((8, 6), dtype=np.float32)
    b = rng.standard_normal((6, 4), dtype=np.float32)
    assert_raises(student, "ValueError", "tiled_matmul", a, b, tile_size=0, why="with tile_size=0")
    assert_raises(student, "ValueError", "tiled_matmul", a, b, tile_size=-3, why="with tile_size=-3")
    assert_raises(student, "ValueError", "tiled_matmul", a, a, tile_size=4, why="for (8,6) @ (8,6)")


@pytest.mark.check("tiled.shape_errors", hint="Check that a.shape[1] == b.shape[0] before multiplying.")
def test_shape_errors(student, rng):
    """ValueError for mismatched inner dimensions (the only error TinyTorch 2025 asks of tiled_matmul)"""
    a = rng.standard_normal((8, 6), dtype=np.float32)
    assert_raises(student, "ValueError", "tiled_matmul", a, a, why="for (8,6) @ (8,6)")
    assert_raises(student, "ValueError", "tiled_matmul", a, a.T[:5], why="for (8,6) @ (5,8)")


@pytest.mark.check("tiled.strict_args", hint="Tiling is defined for 2-D matrices and a whole number of rows per "
                   "tile: reject other input ranks and a tile_size that is not an int >= 1.")
def test_strict_args(student, rng):
    """tiled_matmul rejects non-2-D inputs and a tile_size that is not an int of at least 1 (TinyTorch 2026)"""
    a = rng.standard_normal((8, 6), dtype=np.float32)
    b = rng.standard_normal((6, 4), dtype=np.float32)
    rejected = ("ValueError", "TypeError")
    assert_raises(student, rejected, "tiled_matmul", a[None], b, why="for a 3-D a")
    assert_raises(student, rejected, "tiled_matmul", a, b[0], why="for a 1-D b")
    assert_raises(student, rejected, "tiled_matmul", a, b, tile_size=2.5, why="with tile_size=2.5")
