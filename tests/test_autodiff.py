"""The autodiff engine: every primitive's VJP against the numerical gradient and PyTorch,
random expression graphs, the engine's guarantees, and the errors."""

from __future__ import annotations

import gc
import sys
import zlib

import numpy as np
import pytest
from conftest import random_targets, require
from hypothesis import given, settings
from hypothesis import strategies as st

from lingrad import losses
from lingrad.autodiff import PRIMITIVES, Tensor, defprimitive, no_grad
from lingrad.autodiff import functions as F
from lingrad.grad import autodiff as ad_method
from lingrad.grad import numerical_gradient, relative_error

# ------------------------------------------------------------------------------------------
# Helpers: d/d inputs of sum(V * f(inputs)) by the engine and by centred differences
# ------------------------------------------------------------------------------------------


def engine_grads(fn, arrays, V):
    ts = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = fn(*ts)
    out.backward(V)
    # an input the output does not depend on keeps grad None (as in PyTorch): its gradient is 0
    return out.data, [np.zeros_like(t.data) if t.grad is None else t.grad for t in ts]


def numeric_grads(fn, arrays, V):
    grads = []
    for k in range(len(arrays)):

        def f(a, k=k):
            args = [Tensor(a if j == k else x) for j, x in enumerate(arrays)]
            return float(np.sum(V * fn(*args).data))

        grads.append(numerical_gradient(f, arrays[k], h=1e-6))
    return grads


def draw(shape, domain, rng):
    if domain == "pos":
        return rng.uniform(0.5, 2.0, shape)
    if domain == "nonzero":  # away from the kinks at 0
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2.0, shape)
    if domain == "distinct":  # no ties for max
        return rng.permutation(np.arange(np.prod(shape), dtype=float)).reshape(shape) * 0.37
    return rng.standard_normal(shape)


def torch_constant(array):
    return require("torch").as_tensor(array)


IDX = np.array([2, 0, 2, 1])  # a gather that picks row 2 twice: its gradients must add
LABELS = np.array([1, 0, 3])
MASK = np.array([[True, False, True, False], [False, True, True, False], [True] * 4])

# id, autodiff function, PyTorch function (or None), inputs as (shape, domain)
CASES = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, [((3, 4), "any"), ((4,), "any")]),
    ("add_scalar", lambda a: 2.5 + a, lambda a: 2.5 + a, [((3, 4), "any")]),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, [((3, 1), "any"), ((1, 4), "any")]),
    ("rsub", lambda a: 1.0 - a, lambda a: 1.0 - a, [((3,), "any")]),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, [((3, 4), "any"), ((3, 4), "any")]),
    ("div", lambda a, b: a / b, lambda a, b: a / b, [((3, 4), "any"), ((3, 1), "nonzero")]),
    ("rdiv", lambda a: 2.0 / a, lambda a: 2.0 / a, [((5,), "nonzero")]),
    ("neg", lambda a: -a, lambda a: -a, [((2, 3), "any")]),
    ("pow", lambda a: a**3, lambda a: a**3, [((2, 3), "any")]),
    ("pow_exponent", lambda a, p: a**p, lambda a, p: a**p, [((4,), "pos"), ((4,), "any")]),
    ("matmul", lambda a, b: a @ b, lambda a, b: a @ b, [((3, 4), "any"), ((4, 2), "any")]),
    ("matmul_vec_mat", lambda a, b: a @ b, lambda a, b: a @ b, [((4,), "any"), ((4, 2), "any")]),
    ("matmul_mat_vec", lambda a, b: a @ b, lambda a, b: a @ b, [((3, 4), "any"), ((4,), "any")]),
    ("matmul_dot", lambda a, b: a @ b, lambda a, b: a @ b, [((4,), "any"), ((4,), "any")]),
    (
        "matmul_batched",
        lambda a, b: a @ b,
        lambda a, b: a @ b,
        [((2, 3, 4), "any"), ((4, 5), "any")],
    ),
    ("exp", F.exp, "exp", [((3, 4), "any")]),
    ("log", F.log, "log", [((3, 4), "pos")]),
    ("log1p", F.log1p, "log1p", [((3, 4), "pos")]),
    ("maximum", lambda a: F.maximum(a, 0.3), None, [((3, 4), "nonzero")]),
    ("abs", F.abs, "abs", [((3, 4), "nonzero")]),
    ("relu", F.relu, "relu", [((3, 4), "nonzero")]),
    ("sigmoid", F.sigmoid, "sigmoid", [((3, 4), "any")]),
    ("softplus", F.softplus, "nn.functional.softplus", [((3, 4), "any")]),
    ("sum_all", lambda a: a.sum(), "sum", [((3, 4), "any")]),
    ("sum_axis", lambda a: a.sum(axis=1), lambda a: a.sum(dim=1), [((3, 4), "any")]),
    (
        "sum_keepdims_f64",
        lambda a: a.sum(axis=0, keepdims=True, dtype=np.float64),
        lambda a: a.sum(dim=0, keepdim=True),
        [((3, 4), "any")],
    ),
    ("mean_all", lambda a: a.mean(), "mean", [((3, 4), "any")]),
    ("mean_axis", lambda a: a.mean(axis=0), lambda a: a.mean(dim=0), [((3, 4), "any")]),
    ("max_axis", lambda a: a.max(axis=1), lambda a: a.max(dim=1).values, [((3, 4), "distinct")]),
    ("max_all", lambda a: a.max(), "max", [((3, 4), "distinct")]),
    ("reshape", lambda a: a.reshape(4, 3), lambda a: a.reshape(4, 3), [((3, 4), "any")]),
    (
        "transpose",
        lambda a: a.transpose((2, 0, 1)),
        lambda a: a.permute(2, 0, 1),
        [((2, 3, 4), "any")],
    ),
    ("T", lambda a: a.T, lambda a: a.T, [((3, 4), "any")]),
    ("getitem_slice", lambda a: a[1:, ::2], lambda a: a[1:, ::2], [((3, 4), "any")]),
    ("getitem_gather", lambda a: a[IDX], lambda a: a[IDX], [((3, 4), "any")]),
    ("getitem_mask", lambda a: a[MASK], lambda a: a[MASK], [((3, 4), "any")]),
    (
        "pick",
        lambda a: F.pick(a, LABELS),
        lambda a: a.gather(1, torch_constant(LABELS)[:, None])[:, 0],
        [((3, 4), "any")],
    ),
    (
        "where",
        lambda a, b: F.where(MASK, a, b),
        lambda a, b: a.where(torch_constant(MASK), b),
        [((3, 4), "any"), ((4,), "any")],
    ),
    (
        "logsumexp",
        lambda a: F.logsumexp(a, axis=1),
        lambda a: a.logsumexp(dim=1),
        [((3, 4), "any")],
    ),
    (
        "logsumexp_keepdims",
        lambda a: F.logsumexp(a, axis=0, keepdims=True),
        lambda a: a.logsumexp(dim=0, keepdim=True),
        [((3, 4), "any")],
    ),
    ("softmax", lambda a: F.softmax(a, axis=1), lambda a: a.softmax(dim=1), [((3, 4), "any")]),
    (
        "log_softmax",
        lambda a: F.log_softmax(a, axis=1),
        lambda a: a.log_softmax(dim=1),
        [((3, 4), "any")],
    ),
]
CASE_IDS = [c[0] for c in CASES]


@pytest.mark.parametrize(("name", "fn", "torch_fn", "inputs"), CASES, ids=CASE_IDS)
def test_vjp_matches_numerical_gradient(name, fn, torch_fn, inputs):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    arrays = [draw(shape, domain, rng) for shape, domain in inputs]
    out = fn(*[Tensor(a) for a in arrays]).data
    V = rng.standard_normal(out.shape)
    _, got = engine_grads(fn, arrays, V)
    for g, n, a in zip(got, numeric_grads(fn, arrays, V), arrays, strict=True):
        assert g.shape == a.shape and g.dtype == a.dtype
        # relative error 1e-6, with an absolute floor for the rounding of tiny entries
        assert (relative_error(g, n) < 1e-6 + 1e-9 / np.maximum(np.abs(n), 1e-300)).all()


# edge values: large offsets, saturation, tiny arguments (id, function, inputs, tolerance)
EDGES = [
    ("logsumexp_huge", lambda a: F.logsumexp(a, axis=1), [np.array([[1e3, 1e3 + 1, 1e3 - 2]])]),
    ("softmax_huge", lambda a: F.softmax(a, axis=1), [np.array([[-1e3, -1e3 + 1, -1e3 + 0.5]])]),
    ("log_softmax_huge", lambda a: F.log_softmax(a, axis=1), [np.array([[1e3, 1e3 - 1]])]),
    ("sigmoid_saturated", F.sigmoid, [np.array([-30.0, -12.0, 12.0, 30.0])]),
    ("softplus_saturated", F.softplus, [np.array([-40.0, -15.0, 15.0, 40.0])]),
    ("exp_small", F.exp, [np.array([-30.0, -20.0])]),
    ("log_small", F.log, [np.array([1e-3, 2e-3])]),
    ("div_small", lambda a, b: a / b, [np.array([1.0, -2.0]), np.array([1e-2, -3e-2])]),
    ("pow_at_zero", lambda a: a**2, [np.array([0.0, 1e-8])]),
]


@pytest.mark.parametrize(("name", "fn", "arrays"), EDGES, ids=[e[0] for e in EDGES])
def test_vjp_at_edge_values(name, fn, arrays):
    out = fn(*[Tensor(a) for a in arrays]).data
    assert np.isfinite(out).all()
    V = np.linspace(0.5, 1.5, out.size).reshape(out.shape)
    _, got = engine_grads(fn, arrays, V)
    for g, n in zip(got, numeric_grads(fn, arrays, V), strict=True):
        assert np.isfinite(g).all()
        assert np.allclose(g, n, rtol=1e-5, atol=1e-9), (g, n)


def test_kinks_use_the_losses_subgradient():
    x = Tensor(np.array([0.0, 0.3, -1.0, 2.0]), requires_grad=True)
    (F.relu(x) + F.abs(x) + F.maximum(x, 0.3)).sum().backward()
    assert np.array_equal(x.grad, [0.0, 2.0, -1.0, 3.0])
    m = Tensor(np.array([[1.0, 3.0, 3.0]]), requires_grad=True)
    m.max(axis=1).sum().backward()  # a tie goes to the first maximum, like np.argmax
    assert np.array_equal(m.grad, [[0.0, 1.0, 0.0]])


TORCH_CASES = [c for c in CASES if c[2] is not None]


@pytest.mark.parametrize(
    ("name", "fn", "torch_fn", "inputs"), TORCH_CASES, ids=[c[0] for c in TORCH_CASES]
)
def test_vjp_matches_pytorch(name, fn, torch_fn, inputs):
    torch = require("torch")
    if isinstance(torch_fn, str):  # a dotted name in torch, e.g. "nn.functional.softplus"
        op = torch
        for part in torch_fn.split("."):
            op = getattr(op, part)
        torch_fn = op
    rng = np.random.default_rng(7)
    arrays = [draw(shape, domain, rng) for shape, domain in inputs]
    ref_in = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    ref_out = torch_fn(*ref_in)
    V = rng.standard_normal(tuple(ref_out.shape))
    out, got = engine_grads(fn, arrays, V)
    (ref_out * torch.as_tensor(V)).sum().backward()
    np.testing.assert_allclose(out, ref_out.detach().numpy(), rtol=1e-12, atol=1e-12)
    for g, r in zip(got, ref_in, strict=True):
        np.testing.assert_allclose(g, r.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_every_primitive_is_in_a_test_table():
    tested = {"add", "sub", "mul", "div", "neg", "pow", "matmul", "exp", "log", "log1p"}
    tested |= {"maximum", "abs", "relu", "sigmoid", "softplus", "sum", "mean", "max"}
    tested |= {"reshape", "transpose", "getitem", "pick", "where", "logsumexp", "softmax"}
    tested |= {"log_softmax", "argmax", "sign", "greater"}
    assert set(PRIMITIVES) == tested


# ------------------------------------------------------------------------------------------
# Random expression graphs (Hypothesis): the engine equals the numerical gradient
# ------------------------------------------------------------------------------------------

UNARY = {
    "sigmoid": F.sigmoid,
    "softplus": F.softplus,
    "neg": lambda a: -a,
    "scale": lambda a: 0.7 * a,
    "square": lambda a: a**2,
    "exp_bounded": lambda a: F.exp(F.sigmoid(a)),
    "log_positive": lambda a: F.log(1.0 + a * a),
    "lse_broadcast": lambda a: a - F.logsumexp(a, axis=-1, keepdims=True),
    "sum_broadcast": lambda a: a * a.sum(axis=-1, keepdims=True),
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (1.0 + b * b),
    "matmul_square": lambda a, b: (a @ b.T) @ b * 0.1,
}


@st.composite
def expressions(draw_, n_inputs=2, depth=6):
    """A random program over the inputs: a list of (op, operand indices) steps."""
    steps = []
    n_values = n_inputs
    for _ in range(draw_(st.integers(1, depth))):
        if draw_(st.booleans()):
            op = draw_(st.sampled_from(sorted(UNARY)))
            steps.append((op, (draw_(st.integers(0, n_values - 1)),)))
        else:
            op = draw_(st.sampled_from(sorted(BINARY)))
            args = (draw_(st.integers(0, n_values - 1)), draw_(st.integers(0, n_values - 1)))
            steps.append((op, args))
        n_values += 1
    return steps


def run_program(steps, *inputs):
    values = list(inputs)
    for op, args in steps:
        fn = UNARY.get(op) or BINARY[op]
        values.append(fn(*(values[k] for k in args)))
    return values[-1].sum() + 0.5 * (values[-1] * values[0]).sum()  # uses an input


@settings(max_examples=40, deadline=None)
@given(program=expressions(), seed=st.integers(0, 2**32 - 1))
def test_random_graphs_match_numerical_gradient(program, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-1.5, 1.5, (2, 3)) for _ in range(2)]
    V = np.ones(())
    _, got = engine_grads(lambda a, b: run_program(program, a, b), arrays, V)
    want = numeric_grads(lambda a, b: run_program(program, a, b), arrays, V)
    for g, n in zip(got, want, strict=True):
        np.testing.assert_allclose(g, n, rtol=1e-5, atol=1e-7)


# ------------------------------------------------------------------------------------------
# The engine's guarantees
# ------------------------------------------------------------------------------------------


def test_backward_twice_gives_the_same_gradients_unless_accumulating():
    w = Tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
    y = (F.sigmoid(w) * w).sum() + (w * w).sum()
    y.backward()
    first = w.grad.copy()
    y.backward()
    np.testing.assert_array_equal(w.grad, first)
    y.backward(accumulate=True)
    np.testing.assert_array_equal(w.grad, 2 * first)


def test_fan_out_sums_and_is_deterministic():
    x = Tensor(np.array([0.3, -0.7]), requires_grad=True)
    grads = []
    for _ in range(3):
        a = x * x
        b = F.exp(a) + a * x + a  # a is used three times
        b.sum().backward()
        grads.append(x.grad.copy())
    xv = x.data
    np.testing.assert_allclose(grads[0], 2 * xv * np.exp(xv**2) + 3 * xv**2 + 2 * xv)
    assert all(np.array_equal(g, grads[0]) for g in grads)  # bit for bit


def test_deep_chain_of_100k_nodes():
    limit = sys.getrecursionlimit()
    x = Tensor(np.array([0.5]), requires_grad=True)
    y = x
    for _ in range(50_000):
        y = y * 1.0 + 0.0  # two nodes per step
    y.sum().backward()
    assert sys.getrecursionlimit() == limit
    np.testing.assert_array_equal(x.grad, [1.0])
    del y  # freeing a 100k-node chain must not overflow the C stack either
    gc.collect()


def test_broadcasting_is_undone_by_the_engine():
    a = Tensor(np.ones((3, 1)), requires_grad=True)
    b = Tensor(np.ones((1, 4)), requires_grad=True)
    c = Tensor(np.ones(4), requires_grad=True)
    (a * b + c).sum().backward()
    assert a.grad.shape == (3, 1) and np.all(a.grad == 4)
    assert b.grad.shape == (1, 4) and np.all(b.grad == 3)
    assert c.grad.shape == (4,) and np.all(c.grad == 3)


def test_float32_stays_float32():
    W = Tensor(np.ones((3, 2), dtype=np.float32), requires_grad=True)
    X = np.ones((5, 2), dtype=np.float32)
    S = X @ W[:-1] + W[-1]
    assert S.dtype == np.float32
    loss = F.log_softmax(S * 0.5, axis=1).sum(dtype=np.float64)
    assert loss.dtype == np.float64
    loss.backward()
    assert W.grad.dtype == np.float32


def test_no_grad_and_detach():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with no_grad():
        y = F.exp(x) * x
    assert not y.requires_grad and y.is_leaf
    z = (x.detach() * x).sum()  # d/dx of c * x with c = x held constant
    z.backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])
    assert (x * 2.0).requires_grad  # recording is back on after the block


def test_nondifferentiable_primitives_make_constants():
    x = Tensor(np.array([[1.0, 3.0], [4.0, 2.0]]), requires_grad=True)
    assert not F.sign(x).requires_grad and not F.argmax(x, axis=1).requires_grad
    np.testing.assert_array_equal(F.argmax(x, axis=1).data, [1, 0])


# ------------------------------------------------------------------------------------------
# Every loss of lingrad.losses, written with the primitives
# ------------------------------------------------------------------------------------------


def loss_case(name, rng, N=6, C=4):
    spec = losses.spec(name)
    C = 1 if spec.binary_only else C
    y = random_targets(name, rng, N, C)
    S = 2 * rng.standard_normal((N, C))
    return S, spec.prepare(y, N, C, S.dtype)


LOSS_CASES = [(name, {}) for name in losses.NAMES] + [
    ("hinge", {"margin": 0.5}),
    ("squared_hinge", {"margin": 0.5}),
    ("crammer_singer", {"margin": 2.0}),
    ("one_vs_all_hinge", {"margin": 0.3}),
    ("softmax_cross_entropy", {"label_smoothing": 0.2}),
]


@pytest.mark.parametrize(
    ("name", "params"), LOSS_CASES, ids=[f"{n}-{p}" if p else n for n, p in LOSS_CASES]
)
def test_each_loss_through_the_engine_equals_its_kernel(name, params):
    spec = losses.spec(name)
    S, T = loss_case(name, np.random.default_rng(3))
    want_losses, want_dS = spec.kernel(S, T, **params)
    St = Tensor(S, requires_grad=True)
    per_example = ad_method.FORMS.get(name)(St, T, **params)
    np.testing.assert_allclose(per_example.data, want_losses, rtol=1e-13, atol=1e-13)
    per_example.sum().backward()
    np.testing.assert_allclose(St.grad, want_dS, rtol=1e-12, atol=1e-13)


def test_every_loss_has_an_autodiff_version():
    assert set(ad_method.FORMS.names()) == set(losses.NAMES)
    assert ad_method.FORMS.get("softmax") is ad_method.softmax_cross_entropy


# ------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------


def test_backward_of_a_non_scalar_needs_a_seed():
    y = Tensor(np.ones(3), requires_grad=True) * 2.0
    with pytest.raises(ValueError, match=r"grad: expected a seed gradient of shape \(3,\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"grad: expected a seed of shape \(3,\).*got \(2,\)"):
        y.backward(np.ones(2))


def test_backward_of_a_constant_is_refused():
    with pytest.raises(RuntimeError, match="backward: expected an output that depends"):
        Tensor(np.ones(()) * 2.0).backward()


def test_matmul_shape_mismatch_names_both_shapes():
    a = Tensor(np.ones((3, 4)), requires_grad=True)
    with pytest.raises(ValueError, match=r"matmul: expected .*got shapes \(3, 4\) and \(5, 2\)"):
        a @ np.ones((5, 2))


def test_missing_vjp_names_the_primitive():
    c = Tensor(np.array(0.5), requires_grad=True)
    y = F.maximum(Tensor(np.array([1.0, 0.0])), c).sum()  # maximum only has a rule for x
    with pytest.raises(NotImplementedError, match="primitive 'maximum' has no VJP for argument 1"):
        y.backward()
    square_no_rule = defprimitive("square_without_vjp", np.square, None)
    x = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(NotImplementedError, match="'square_without_vjp'"):
        square_no_rule(x).sum().backward()


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="requires_grad: expected a floating-point tensor"):
        Tensor(np.arange(3), requires_grad=True)
