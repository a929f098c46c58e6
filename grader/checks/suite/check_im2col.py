"""The im2col family (TinyTorch 2026): im2col, col2im, im2col_conv2d and Im2colConv2dFunction.

Every expected value is computed in the trusted process, by direct float64 loops over
kernel offsets: nothing is taken from the reference worker or from the student's other functions.
"""
import numpy as np
import pytest

from grader.checks.expect import as_array, assert_close, assert_raises, conv64

HINT_ORDER = ("Rows are (image, output row, output column); columns are (channel, kernel row, kernel "
              "column), so that cols @ weight.reshape(out_channels, -1).T is the convolution.")
HINT_COL2IM = ("col2im undoes im2col's copying by adding: every column entry goes back to the input pixel "
               "it came from, and pixels covered by several patches sum their entries (use +=, not =).")
HINT_CONV = "Pad, im2col, one matmul with weight.reshape(out_channels, -1), add bias per channel, reshape to NCHW."
HINT_FUNCTION = ("forward(self, x, weight, bias=None) works on arrays and reads self.stride/self.padding; "
                 "backward(self, grad_output) returns (grad_x, grad_weight[, grad_bias]).")

# (batch, channels, height, width, kernel, stride, padding): overlapping, strided, padded and
# rectangular cases, including a kernel as large as the padded input.
GRID = [
    (1, 1, 4, 4, 1, 1, 0), (1, 1, 5, 5, 3, 1, 0), (2, 3, 6, 5, 3, 1, 1), (2, 2, 7, 7, 3, 2, 0),
    (1, 3, 6, 6, 2, 2, 1), (2, 1, 5, 8, 2, 1, 0), (1, 2, 4, 4, 4, 1, 0), (3, 2, 5, 5, 3, 2, 2),
]


# --- the yardsticks: float64, written for clarity rather than speed ------------------------
def _out_size(size: int, k: int, s: int, p: int) -> int:
    return (size + 2 * p - k) // s + 1


def _im2col64(x: np.ndarray, k: int, s: int, p: int) -> np.ndarray:
    n, c, h, w = x.shape
    oh, ow = _out_size(h, k, s, p), _out_size(w, k, s, p)
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (p, p), (p, p)))
    cols = np.empty((n, oh, ow, c, k, k))
    for i in range(oh):
        for j in range(ow):
            cols[:, i, j] = xp[:, :, i * s:i * s + k, j * s:j * s + k]
    return cols.reshape(n * oh * ow, c * k * k)


def _col2im64(cols: np.ndarray, shape: tuple, k: int, s: int, p: int) -> np.ndarray:
    n, c, h, w = shape
    oh, ow = _out_size(h, k, s, p), _out_size(w, k, s, p)
    patches = cols.astype(np.float64).reshape(n, oh, ow, c, k, k)
    xp = np.zeros((n, c, h + 2 * p, w + 2 * p))
    for i in range(oh):
        for j in range(ow):
            xp[:, :, i * s:i * s + k, j * s:j * s + k] += patches[:, i, j]
    return xp[:, :, p:p + h, p:p + w]


def _inputs(rng, n, c, h, w, oc=3, k=3, bias=True):
    x = rng.standard_normal((n, c, h, w), dtype=np.float32)
    weight = (rng.standard_normal((oc, c, k, k)) / np.sqrt(c * k * k)).astype(np.float32)
    b = rng.standard_normal(oc, dtype=np.float32) if bias else None
    return x, weight, b


def _tolerance(fan_in: int) -> dict[str, float]:
    # float32 sums of fan_in products, as for matmul
    return {"rtol": 1e-4, "atol": 1e-5 * max(1.0, float(fan_in)) ** 0.5 * 10}


# --- im2col ------------------------------------------------------------------------------
@pytest.mark.check("im2col.hand_patches", hint=HINT_ORDER)
def test_hand_patches(student):
    """im2col of a 3x3 image with a 2x2 kernel gives the four patches written out by hand"""
    x = np.arange(1, 10, dtype=np.float32).reshape(1, 1, 3, 3)
    expected = np.array([[1, 2, 4, 5], [2, 3, 5, 6], [4, 5, 7, 8], [5, 6, 8, 9]], dtype=np.float64)
    assert_close(student.im2col(x, 2), expected, "im2col(1x1x3x3 image, kernel 2)")
    # two channels: a row holds channel 0's patch, then channel 1's
    x2 = np.stack([x[0, 0], 10 * x[0, 0]])[None]
    expected2 = np.hstack([expected, 10 * expected])
    assert_close(student.im2col(x2, 2), expected2, "im2col(1x2x3x3 image, kernel 2)")
    # padding 1, stride 2: the border patches see zeros, the last one none
    expected3 = np.array([[0, 0, 0, 1], [0, 0, 2, 3], [0, 4, 0, 7], [5, 6, 8, 9]], dtype=np.float64)
    assert_close(student.im2col(x, 2, stride=2, padding=1), expected3, "im2col(3x3 image, kernel 2, stride 2, padding 1)")


@pytest.mark.check("im2col.grid", hint=HINT_ORDER)
def test_grid(student, rng):
    """im2col equals a direct loop over kernel sizes, strides, paddings, channels and batches"""
    for n, c, h, w, k, s, p in GRID:
        x = rng.standard_normal((n, c, h, w), dtype=np.float32)
        out = student.im2col(x, k, stride=s, padding=p)
        assert_close(out, _im2col64(x, k, s, p), f"im2col(x {x.shape}, kernel {k}, stride {s}, padding {p})")


@pytest.mark.check("im2col.errors", hint="Raise ValueError for input that is not 4-D (N, C, H, W), a kernel_size "
                   "or stride under 1, a negative padding, and a kernel larger than the padded input.")
def test_im2col_errors(student, rng):
    """ValueError for a non-4-D input and for a bad kernel size, stride or padding"""
    x = rng.standard_normal((1, 2, 5, 5), dtype=np.float32)
    assert_raises(student, "ValueError", "im2col", x[0], 3, why="for a 3-D input (C, H, W)")
    assert_raises(student, "ValueError", "im2col", x, 0, why="with kernel_size=0")
    assert_raises(student, "ValueError", "im2col", x, 3, stride=0, why="with stride=0")
    assert_raises(student, "ValueError", "im2col", x, 3, padding=-1, why="with padding=-1")
    assert_raises(student, "ValueError", "im2col", x, 6, why="with a 6x6 kernel on a 5x5 image")


# --- col2im ------------------------------------------------------------------------------
@pytest.mark.check("col2im.adjoint", hint=HINT_COL2IM)
def test_adjoint(student, rng):
    """col2im is im2col's adjoint: <im2col(x), y> == <x, col2im(y)> over the grid"""
    for n, c, h, w, k, s, p in GRID:
        x = rng.standard_normal((n, c, h, w))
        y = rng.standard_normal(_im2col64(x, k, s, p).shape).astype(np.float32)
        got = as_array(student.col2im(y, (n, c, h, w), k, stride=s, padding=p), "col2im")
        what = f"col2im(cols {y.shape}, x_shape {(n, c, h, w)}, kernel {k}, stride {s}, padding {p})"
        assert_close(got, _col2im64(y, (n, c, h, w), k, s, p), what, **_tolerance(k * k))
        lhs = float(np.sum(_im2col64(x, k, s, p) * y))
        rhs = float(np.sum(x * got.astype(np.float64)))
        assert abs(lhs - rhs) <= 1e-4 * max(1.0, abs(lhs)) * np.sqrt(y.size), (
            f"{what}: <im2col(x), y> = {lhs:.6g} but <x, col2im(y)> = {rhs:.6g}")


@pytest.mark.check("col2im.overlap", hint=HINT_COL2IM)
def test_overlap(student):
    """col2im of all-ones columns counts how many patches cover each pixel"""
    shape = (1, 1, 4, 4)
    cols = np.ones((4, 9), dtype=np.float32)  # 3x3 kernel, stride 1: 2x2 positions
    expected = np.array([[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]], dtype=np.float64)[None, None]
    assert_close(student.col2im(cols, shape, 3), expected, "col2im(ones (4, 9), (1, 1, 4, 4), kernel 3)")
    cols = np.ones((9, 4), dtype=np.float32)  # 2x2 kernel, stride 1, padding 1 on a 2x2 image
    assert_close(student.col2im(cols, (1, 1, 2, 2), 2, padding=1), np.full((1, 1, 2, 2), 4.0),
                 "col2im(ones (9, 4), (1, 1, 2, 2), kernel 2, padding 1)")


# --- im2col_conv2d ----------------------------------------------------------------------
def _conv_case(student, rng, shape, oc, k, s, p, bias):
    x, weight, b = _inputs(rng, *shape, oc=oc, k=k, bias=bias)
    args = (x, weight, b) if bias else (x, weight)
    out = student.call("im2col_conv2d", *args, stride=s, padding=p).value
    what = f"im2col_conv2d(x {x.shape}, weight {weight.shape}, {'bias' if bias else 'no bias'}, stride {s}, padding {p})"
    assert_close(out, conv64(x, weight, b, s, p), what, **_tolerance(weight[0].size))


@pytest.mark.check("conv.values", hint=HINT_CONV)
def test_conv_values(student, rng):
    """im2col_conv2d without bias equals a direct float64 convolution (stride 1 and 2, padding 0 and 1)"""
    _conv_case(student, rng, (2, 3, 8, 8), 4, 3, 1, 0, bias=False)
    _conv_case(student, rng, (1, 2, 9, 7), 5, 3, 2, 1, bias=False)
    _conv_case(student, rng, (3, 1, 6, 6), 2, 1, 1, 0, bias=False)


@pytest.mark.check("conv.bias", hint="Add bias[o] to every output pixel of channel o (broadcast over N, H, W).")
def test_conv_bias(student, rng):
    """im2col_conv2d with a bias adds it per output channel"""
    _conv_case(student, rng, (2, 3, 8, 8), 4, 3, 1, 1, bias=True)
    _conv_case(student, rng, (1, 2, 7, 9), 3, 2, 2, 0, bias=True)


@pytest.mark.check("conv.errors", hint="Raise ValueError for a non-4-D input or weight and when the weight's "
                   "input channels differ from the image's.")
def test_conv_errors(student, rng):
    """ValueError for a non-4-D input and for a channel mismatch"""
    x, weight, _ = _inputs(rng, 1, 3, 6, 6, oc=2, k=3, bias=False)
    assert_raises(student, "ValueError", "im2col_conv2d", x[0], weight, why="for a 3-D input")
    assert_raises(student, "ValueError", "im2col_conv2d", x[:, :2], weight,
                  why="for a 2-channel image and a 3-channel weight")


# --- Im2colConv2dFunction: driven as Function.apply drives it -----------------------------
FUNCTION = "Im2colConv2dFunction"


def _loss_grads64(x, weight, b, g, s, p, eps=1e-6):
    """Central finite differences of <conv(x, w, b), g> in float64, for every input element."""
    arrays = [x.astype(np.float64), weight.astype(np.float64)] + ([b.astype(np.float64)] if b is not None else [])

    def loss(xs):
        return float(np.sum(conv64(xs[0], xs[1], xs[2] if len(xs) > 2 else None, s, p) * g))

    grads = []
    for which, arr in enumerate(arrays):
        grad = np.empty_like(arr)
        for idx in np.ndindex(arr.shape):
            plus = [a.copy() for a in arrays]
            minus = [a.copy() for a in arrays]
            plus[which][idx] += eps
            minus[which][idx] -= eps
            grad[idx] = (loss(plus) - loss(minus)) / (2 * eps)
        grads.append(grad)
    return grads


@pytest.mark.check("function.forward", hint=HINT_FUNCTION)
def test_function_forward(student, rng):
    """Im2colConv2dFunction.apply(x, w, b, stride=, padding=) gives the convolution and records the graph"""
    for s, p in ((1, 1), (2, 0)):
        x, weight, b = _inputs(rng, 2, 2, 6, 6, oc=3, k=3)
        reply = student.autograd(FUNCTION, x, weight, b, stride=s, padding=p)
        out, _ = reply.value
        assert_close(out, conv64(x, weight, b, s, p),
                     f"{FUNCTION}.apply(x {x.shape}, w {weight.shape}, b, stride={s}, padding={p})",
                     **_tolerance(weight[0].size))
        assert reply.meta.get("recorded"), (
            f"{FUNCTION}.apply returned a Tensor with no _grad_fn although its inputs require grad")


@pytest.mark.check("function.backward", hint=HINT_FUNCTION)
def test_function_backward(student, rng):
    """backward gives grad_x, grad_weight and grad_bias equal to finite differences (2 grads without bias)"""
    for s, p, bias in ((1, 1, True), (2, 0, True), (1, 0, False)):
        x, weight, b = _inputs(rng, 2, 2, 5, 5, oc=2, k=3, bias=bias)
        inputs = (x, weight, b) if bias else (x, weight)
        g = rng.standard_normal(conv64(x, weight, b, s, p).shape).astype(np.float32)
        _, grads = student.autograd(FUNCTION, *inputs, grad=g, stride=s, padding=p).value
        call = f"{FUNCTION} ({'with' if bias else 'no'} bias, stride {s}, padding {p})"
        grads = [gr for gr in grads if gr is not None]
        assert len(grads) == len(inputs), (
            f"{call}: backward returned {len(grads)} gradients, expected {len(inputs)} "
            f"({'grad_x, grad_weight, grad_bias' if bias else 'grad_x, grad_weight'})")
        for name, got, want in zip(("grad_x", "grad_weight", "grad_bias"), grads,
                                   _loss_grads64(x, weight, b, g, s, p)):
            assert_close(got, want, f"{call}: {name}", rtol=1e-3, atol=1e-4 * np.sqrt(g.size))
