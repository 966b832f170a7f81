"""Sparse X end to end (issue 20): a ``scipy.sparse`` CSR matrix through check_X, the
objective (every loss and regulariser, mini-batch rows, Hessian-vector products), every solver
and SGD, the estimators and the Standardizer gives the numbers of the same data dense (the
oracle), never densified: a fit on a matrix whose dense form is 1.6 TB stays within a small
multiple of its CSR arrays."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import random_targets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lingrad import _sparse_kernels, losses, model, optim, train
from lingrad._validation import check_sparse, check_X
from lingrad.datasets import Standardizer
from lingrad.estimators import LinearClassifier, LinearRegressor
from lingrad.model_selection import LinearClassifierCV
from lingrad.objective import Objective

pytestmark = pytest.mark.timeout(120)
REGULARIZERS = ["none", "l2", "l1", "elastic_net"]


def sparse_data(seed=0, N=60, D=12, density=0.3, dtype=np.float64):
    """A seeded CSR matrix (with a few empty rows) and its dense twin."""
    rng = np.random.default_rng(seed)
    A = sp.random_array(
        (N, D),
        density=density,
        format="csr",
        dtype=dtype,
        rng=rng,
        data_sampler=rng.standard_normal,
    )
    A = A.tocsr()
    return A, A.toarray()


def problem(loss, seed=0, N=60, D=12, C=3):
    rng = np.random.default_rng(seed + 100)
    A, X = sparse_data(seed, N, D)
    C = losses.spec(loss).n_columns(C) if losses.spec(loss).target is losses.Target.LABELS else C
    C = 1 if loss == "logistic" else C
    y = random_targets(loss, rng, N, C)
    W = rng.normal(size=(D + 1, C))
    return A, X, y, W, rng.uniform(0.2, 2.0, N)


# -- check_X: the rule and the bad input -------------------------------------------------------


@pytest.mark.parametrize("kind", [sp.csr_array, sp.csr_matrix, sp.csc_array, sp.coo_matrix])
def test_check_X_gives_canonical_csr_of_the_same_values(kind):
    A, X = sparse_data(1)
    B = check_X(kind(A))
    assert isinstance(B, sp.csr_array) and B.has_canonical_format
    np.testing.assert_array_equal(B.toarray(), X)
    assert check_X(kind(A.astype(np.float32))).dtype == np.float32
    assert check_X(kind(A.astype(np.int64))).dtype == np.float64


def test_csr_input_is_shared_not_copied_and_never_modified():
    A, _ = sparse_data(2)
    m = sp.csr_matrix(A)
    B = check_X(m)
    assert np.shares_memory(B.data, m.data)  # canonical CSR: wrapped, not copied
    unsorted = sp.csr_array((np.array([1.0, 2.0, 4.0]), np.array([2, 0, 2]), np.array([0, 3])),
                            shape=(1, 3))  # fmt: skip
    before = unsorted.indices.copy()
    C = check_X(unsorted)
    # duplicates summed (as SciPy does), indices sorted, on a copy
    assert C.indices.tolist() == [0, 2] and C.data.tolist() == [2.0, 5.0]
    np.testing.assert_array_equal(unsorted.indices, before)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_the_stored_values_is_refused_with_the_count(bad):
    A, _ = sparse_data(3)
    A = A.copy()
    A.data[[0, 5]] = bad
    with pytest.raises(ValueError, match=r"^X: expected finite values, got 2 NaN or inf among"):
        check_X(A)
    with pytest.raises(ValueError, match=r"^X: expected finite"):
        Objective("softmax", A, np.zeros(A.shape[0], dtype=int))


@pytest.mark.parametrize("index", [-1, "bound", 10**6])
@pytest.mark.parametrize("kind", ["csr", "csc", "coo"])
def test_negative_or_out_of_range_indices_are_refused(kind, index):
    A, _ = sparse_data(4)
    B = A.asformat(kind).copy()
    if index == "bound":  # the first index past the end: D columns (CSR, COO), N rows (CSC)
        index = A.shape[0] if kind == "csc" else A.shape[1]
    if kind == "coo":
        B.coords[1][0] = index
    else:
        B.indices[0] = index
    with pytest.raises(ValueError, match=r"^X: expected a well-formed sparse matrix .*indices"):
        check_X(B)


def test_empty_and_non_numeric_sparse_input_is_refused():
    with pytest.raises(ValueError, match=r"^X: expected a non-empty array, got shape \(0, 3\)"):
        check_X(sp.csr_array((0, 3)))
    with pytest.raises(ValueError, match=r"^M: expected a non-empty array, got shape \(2, 0\)"):
        check_sparse(sp.csr_matrix((2, 0)), "M")
    with pytest.raises(TypeError, match=r"^X: expected a numeric array, got dtype complex128"):
        check_X(sp.csr_array(np.eye(2, dtype=complex)))


def test_an_all_zero_sparse_matrix_is_valid_data():
    A = sp.csr_array((3, 4))
    J = Objective("softmax", A, [0, 1, 1])
    assert J.value(np.zeros((5, 2))) == pytest.approx(np.log(2), rel=1e-15)


# -- the objective: CSR equals dense ---------------------------------------------------------


def _rows(N):
    return [None, slice(5, 31), np.array([7, 0, 59, 7, 33, 12])][:N]


@pytest.mark.parametrize("reg", REGULARIZERS)
@pytest.mark.parametrize("loss", losses.NAMES)
def test_every_loss_and_regularizer_equals_the_dense_objective(loss, reg):
    A, X, y, W, w = problem(loss)
    for kwargs in ({}, {"sample_weight": w}, {"fit_intercept": False}):
        Js = Objective(loss, A, y, regularizer=reg, lam=0.3, **kwargs)
        Jd = Objective(loss, X, y, regularizer=reg, lam=0.3, **kwargs)
        assert Js.sparse and not Jd.sparse
        for rows in _rows(3):
            vs, gs = Js.value_and_grad(W, rows)
            vd, gd = Jd.value_and_grad(W, rows)
            assert vs == pytest.approx(vd, rel=1e-12, abs=1e-12)
            np.testing.assert_allclose(gs, gd, rtol=1e-12, atol=1e-12)
        (es, Ss), (ed, Sd) = Js.evaluate(Js.check_weights(W)), Jd.evaluate(Jd.check_weights(W))
        assert es == pytest.approx(ed, rel=1e-12)
        np.testing.assert_allclose(Ss, Sd, rtol=1e-12, atol=1e-12)


def test_the_gathered_minibatch_ignores_the_dense_buffer_and_matches():
    A, X, y, W, _ = problem("softmax")
    Js, Jd = Objective("softmax", A, y), Objective("softmax", X, y)
    rows = np.array([3, 9, 9, 41])
    Js.check_weights(W), Jd.check_weights(W)
    buffer = np.full((8, X.shape[1]), np.nan)
    vs, gs = Js.value_and_grad_unchecked(W, rows, out=buffer)
    vd, gd = Jd.value_and_grad_unchecked(W, rows, out=np.empty_like(buffer))
    assert np.isnan(buffer).all()  # the CSR path never writes a dense gather buffer
    assert vs == pytest.approx(vd, rel=1e-12)
    np.testing.assert_allclose(gs, gd, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("loss", ["softmax", "logistic", "squared_error", "squared_hinge"])
def test_hessian_vector_products_equal_the_dense_ones(loss):
    A, X, y, W, w = problem(loss, seed=5)
    V = np.random.default_rng(6).normal(size=W.shape)
    for kwargs in ({"sample_weight": w}, {"fit_intercept": False}, {"block_rows": 7}):
        Hs = Objective(loss, A, y, lam=0.1, **kwargs).hessian(W)
        Hd = Objective(loss, X, y, lam=0.1, **kwargs).hessian(W)
        np.testing.assert_allclose(Hs(V), Hd(V), rtol=1e-12, atol=1e-13)


def test_float32_stays_float32_and_nbytes_counts_the_csr_arrays():
    A, X = sparse_data(7, dtype=np.float32)
    J = Objective("softmax", A, np.arange(A.shape[0]) % 3)
    value, grad = J.value_and_grad(np.zeros((A.shape[1] + 1, 3), np.float32))
    assert grad.dtype == np.float32 and J.X.dtype == np.float32
    assert value == pytest.approx(np.log(3), rel=1e-6)  # all scores 0: ln C
    assert model.scores(np.ones((A.shape[1] + 1, 2)), A).dtype == np.float32
    csr = J.X.data.nbytes + J.X.indices.nbytes + J.X.indptr.nbytes
    assert J.nbytes == csr + np.asarray(J.y).nbytes + J.targets(3).nbytes
    assert csr < X.nbytes


def test_model_scores_and_predict_on_csr_equal_dense():
    A, X, _, W, _ = problem("softmax", seed=8)
    np.testing.assert_allclose(model.scores(W, A), model.scores(W, X), rtol=1e-13)
    np.testing.assert_array_equal(model.predict(W, sp.csc_matrix(A)), model.predict(W, X))
    np.testing.assert_allclose(model.predict_proba(W, A), model.predict_proba(W, X), rtol=1e-12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    N=st.integers(1, 30),
    D=st.integers(1, 15),
    density=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**31 - 1),
    loss=st.sampled_from(["softmax", "hinge", "logistic", "squared_error"]),
)
def test_random_sparse_matrices_give_the_dense_value_and_gradient(N, D, density, seed, loss):
    rng = np.random.default_rng(seed)
    A = sp.random_array((N, D), density=density, format="coo", rng=rng,
                        data_sampler=lambda size: rng.integers(-3, 4, size))  # fmt: skip
    X = A.toarray().astype(np.float64)
    C = 1 if loss == "logistic" else 3
    y = random_targets(loss, rng, N, C)
    W = rng.normal(size=(D + 1, C))
    vs, gs = Objective(loss, A, y, lam=0.1).value_and_grad(W)
    vd, gd = Objective(loss, X, y, lam=0.1).value_and_grad(W)
    assert vs == pytest.approx(vd, rel=1e-12, abs=1e-14)
    np.testing.assert_allclose(gs, gd, rtol=1e-12, atol=1e-13)


# -- solvers and SGD: the same weights ---------------------------------------------------------

SOLVERS = [
    ("lbfgs", "softmax", "l2"),
    ("saga", "softmax", "l2"),
    ("saga", "logistic", "l2"),
    ("newton", "logistic", "l2"),
    ("fista", "softmax", "l1"),
    ("continuation", "hinge", "l2"),
    ("dualcd", "hinge", "l2"),
    ("dualcd", "crammer_singer", "l2"),
    ("sgd", "softmax", "l2"),
    ("adam", "squared_hinge", "elastic_net"),
]


@pytest.mark.parametrize(("name", "loss", "reg"), SOLVERS)
def test_every_solver_reaches_the_dense_weights(name, loss, reg):
    A, X, y, _, w = problem(loss, seed=9, N=80)
    C = 1 if loss == "logistic" else 3
    results = []
    for data in (A, X):
        J = Objective(loss, data, y, regularizer=reg, lam=0.05, sample_weight=w)
        line = optim.entry(name)
        opt = optim.get(name, tol=1e-10) if line.rate_param is None else optim.get(name, 0.05)
        batch = train.batch_size_for(name, J.n_samples, 16)
        results.append(
            train.fit(J, opt, n_columns=C, epochs=25, batch_size=batch,
                      rng=np.random.default_rng(0), W0=np.zeros((X.shape[1] + 1, C)))
        )  # fmt: skip
    sparse, dense = results
    if name == "continuation":  # its polish decides kinks within a band: a piece at the band's
        # edge may fall either side from the products' rounding (CSR's against BLAS's sums), a
        # round more or fewer; the certified optimum is the same
        assert sparse.n_iter > 0 and dense.n_iter > 0 and abs(sparse.n_iter - dense.n_iter) <= 3
    else:
        assert sparse.n_iter == dense.n_iter > 0
    np.testing.assert_allclose(sparse.W, dense.W, rtol=0, atol=1e-8)


# -- estimators ------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # sgd, max_iter=5
def test_classifier_fit_predict_and_partial_fit_on_csr_equal_dense():
    A, X, _, _, w = problem("softmax", seed=10, N=90)
    y = np.array(["a", "b", "c"])[np.arange(90) % 3]
    for kwargs in ({}, {"optimizer": "sgd", "max_iter": 5}):
        s = LinearClassifier(random_state=0, **kwargs).fit(sp.csr_matrix(A), y, sample_weight=w)
        d = LinearClassifier(random_state=0, **kwargs).fit(X, y, sample_weight=w)
        np.testing.assert_allclose(s.W_, d.W_, rtol=0, atol=1e-10)
        np.testing.assert_array_equal(s.predict(A), d.predict(X))
        np.testing.assert_allclose(s.predict_proba(A), d.predict_proba(X), rtol=1e-10)
        np.testing.assert_allclose(s.decision_function(A), d.decision_function(X), rtol=1e-10)
    s, d = LinearClassifier(random_state=0), LinearClassifier(random_state=0)
    for _ in range(2):
        s.partial_fit(A.tocsc(), y, classes=["a", "b", "c"])
        d.partial_fit(X, y, classes=["a", "b", "c"])
    np.testing.assert_allclose(s.W_, d.W_, rtol=0, atol=1e-12)


def test_regressor_and_cv_estimator_on_csr_equal_dense():
    A, X, _, _, _ = problem("squared_error", seed=11, N=70)
    t = X @ np.linspace(-1, 1, X.shape[1]) + 0.5
    s, d = LinearRegressor().fit(A, t), LinearRegressor().fit(X, t)
    np.testing.assert_allclose(s.W_, d.W_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(s.predict(A), d.predict(X), rtol=0, atol=1e-10)
    y = (t > 0.5).astype(int)
    cs = LinearClassifierCV(lams=[1e-2, 1e-1], cv=3).fit(A, y)
    cd = LinearClassifierCV(lams=[1e-2, 1e-1], cv=3).fit(X, y)
    assert cs.lam_ == cd.lam_
    np.testing.assert_allclose(cs.W_, cd.W_, rtol=0, atol=1e-8)


def test_the_estimators_declare_sparse_input():
    for est in (LinearClassifier(), LinearRegressor(), LinearClassifierCV()):
        assert est.__sklearn_tags__().input_tags.sparse is True


# -- Standardizer and Dask -------------------------------------------------------------------


def test_standardizer_scales_sparse_x_without_centring():
    _, X = sparse_data(12)
    X[:, 3] = 0.0  # a column of zeros: scale 1
    A = sp.csr_array(X)
    before = A.data.copy()
    s = Standardizer().fit(A)
    std = X.std(axis=0)
    np.testing.assert_allclose(s.scale, np.where(std > 0, std, 1.0), rtol=1e-12)
    assert not s.mean.any()
    B = s.transform(A)
    assert sp.issparse(B) and B.nnz == A.nnz
    np.testing.assert_allclose(B.toarray(), X / s.scale, rtol=1e-13)
    np.testing.assert_array_equal(A.data, before)  # the input is not modified
    dense_fit = Standardizer().fit(X)
    with pytest.raises(ValueError, match=r"^X: expected dense data for a Standardizer fitted"):
        dense_fit.transform(A)


def test_dask_arrays_of_sparse_chunks_are_refused_clearly():
    import dask.array as da

    from lingrad.distributed import as_row_chunks, predict

    _, X = sparse_data(13)
    chunks = da.from_array(X, chunks=(20, -1)).map_blocks(sp.csr_matrix)
    with pytest.raises(TypeError, match=r"^X: expected a dask array of dense NumPy chunks .*"
                                        r"got a dask array of scipy\.sparse"):  # fmt: skip
        as_row_chunks(chunks, np.arange(60) % 2)
    with pytest.raises(TypeError, match=r"dense NumPy chunks"):
        predict(np.zeros((13, 2)), chunks)
    as_row_chunks(da.from_array(X, chunks=(20, -1)), np.arange(60) % 2)  # dense chunks pass


# -- never densified: the memory bound -------------------------------------------------------


def test_a_fit_on_a_matrix_too_large_to_densify_stays_near_its_csr_size():
    """200,000 x 1,000,000 (1.6 TB dense), 30 non-zeros per row, 2 classes (logistic, one
    score column): two L-BFGS iterations of the estimator. The peak allocated during fit
    (tracemalloc) plus the CSR arrays is at most 4 x (CSR arrays + W) plus what L-BFGS keeps by
    design: its ``m`` pairs ``(s, y)`` of W's size in float64, copied once per iteration
    (``4 m`` W: the solver's memory, not the data's)."""
    N, D, per_row, K = 200_000, 1_000_000, 30, 2
    rng = np.random.default_rng(20)
    y = np.arange(N) % K
    cols = rng.integers(0, D, size=(N, per_row), dtype=np.int32)
    cols[:, :3] = y[:, None] * 1000 + np.arange(3)  # a few features that tell the classes
    cols.sort(axis=1)
    indptr = np.arange(0, N * per_row + 1, per_row, dtype=np.int32)
    A = sp.csr_array((rng.random(N * per_row), cols.ravel(), indptr), shape=(N, D))
    A.sum_duplicates()  # canonical before the measurement (duplicates summed)
    del cols
    csr_bytes = A.data.nbytes + A.indices.nbytes + A.indptr.nbytes
    W_bytes = (D + 1) * 1 * 8
    solver_bytes = 4 * optim.LBFGS().memory * W_bytes
    assert 10_000 * csr_bytes < N * D * 8  # the dense form: 1.6 TB
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        with pytest.warns(Warning):  # ConvergenceWarning: max_iter=2 before tol
            clf = LinearClassifier(loss="logistic", max_iter=2).fit(A, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert clf.W_.shape == (D + 1, 1) and clf.n_iter_ == 2
    assert clf.loss_curve_[-1] < 0.9 * np.log(K)  # it learned something
    bound = 4 * (csr_bytes + W_bytes) + solver_bytes
    assert csr_bytes + peak <= bound, (peak / 2**20, csr_bytes / 2**20, bound / 2**20)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("gradient", ["autodiff", "symbolic"])
def test_dense_only_gradient_methods_refuse_sparse_x_clearly(gradient):
    A, X, y, _, _ = problem("softmax", seed=14)
    message = rf"^gradient: expected one of \['analytic', 'numerical'\] for sparse X .*'{gradient}'"
    with pytest.raises(ValueError, match=message):
        LinearClassifier(gradient=gradient, optimizer="sgd", max_iter=1).fit(A, y)
    LinearClassifier(gradient=gradient, optimizer="sgd", max_iter=1).fit(X, y)  # dense: fine


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_numerical_gradient_trains_on_csr_as_on_dense():
    A, X, y, _, _ = problem("softmax", seed=15, N=30, D=5)
    fits = [LinearClassifier(gradient="numerical", optimizer="sgd", max_iter=2, random_state=0)
            .fit(data, y) for data in (A, X)]  # fmt: skip
    np.testing.assert_allclose(fits[0].W_, fits[1].W_, rtol=0, atol=1e-8)


def test_class_and_sample_weights_in_the_trainer_keep_csr_and_fit_intercept():
    A, X, y, _, w = problem("softmax", seed=16)
    fits = []
    for data in (A, X):
        J = Objective("softmax", data, y, lam=0.1, fit_intercept=False)
        weighted = train.weighted_objective(J, 3, "balanced", w)
        assert weighted.sparse == (data is A) and weighted.fit_intercept is False
        assert weighted.X is J.X  # no copy, no second check of X
        fits.append(train.fit(J, optim.get("lbfgs", tol=1e-10), n_columns=3, epochs=50,
                              rng=np.random.default_rng(0), class_weight="balanced",
                              sample_weight=w, W0=np.zeros((X.shape[1] + 1, 3))))  # fmt: skip
    np.testing.assert_allclose(fits[0].W, fits[1].W, rtol=0, atol=1e-8)
    assert not fits[0].W[-1].any()  # the bias stays fixed at 0


def test_early_stopping_validates_on_csr_rows_as_on_dense():
    A, X, _, _, _ = problem("softmax", seed=17, N=120)
    y = np.arange(120) % 3
    fits = [LinearClassifier(optimizer="adam", early_stopping=True, max_iter=8, random_state=0,
                             n_iter_no_change=3).fit(data, y) for data in (A, X)]  # fmt: skip
    np.testing.assert_allclose(fits[0].validation_loss_history_,
                               fits[1].validation_loss_history_, rtol=1e-10)  # fmt: skip
    np.testing.assert_allclose(fits[0].W_, fits[1].W_, rtol=0, atol=1e-10)


@pytest.mark.parametrize("binary", [False, True], ids=["3 classes", "2 classes (logistic)"])
def test_auto_fits_a_smooth_loss_on_large_sparse_data_with_saga_at_lbfgs_s_optimum(binary):
    """On CSR data with enough non-zeros and lam N / L >= SAGA_MIN_CONDITION (0.01) the default
    is SAGA (two classes: the logistic loss on one column); its fit is the optimum (L-BFGS at a
    tight tol) to 1e-6 relative; at a tiny lam it stays L-BFGS, with an L1 part FISTA."""
    from lingrad import defaults
    from lingrad.estimators import LinearClassifier
    from lingrad.objective import Objective

    rng = np.random.default_rng(4)
    X = sp.random_array((2000, 300), density=0.05, format="csr", rng=4)
    X = sp.csr_array(X.multiply(1.0 / np.sqrt(X.multiply(X).sum(axis=1))[:, None]))
    planted = rng.normal(size=(300, 3)) * 3
    y = np.argmax(X @ planted + rng.gumbel(size=(2000, 3)), axis=1)
    y = (y == 1).astype(int) if binary else y
    assert X.nnz >= 20_000 and defaults.saga_condition(X, 1e-3, "softmax") == pytest.approx(2.0)
    fit = LinearClassifier(lam=1e-3).fit(X, y)
    ref = LinearClassifier(lam=1e-3, optimizer="lbfgs", tol=1e-10).fit(X, y)
    assert fit.optimizer_ == "saga" and ref.n_iter_ > 1
    J = Objective("softmax", X, y, lam=1e-3)
    assert J.value(fit.W_) - J.value(ref.W_) <= 1e-6 * J.value(ref.W_)
    assert np.mean(fit.predict(X) == ref.predict(X)) >= 0.99
    assert LinearClassifier(lam=1e-8).fit(X, y).optimizer_ == "lbfgs"
    assert LinearClassifier(lam=1e-3, regularizer="l1").fit(X, y).optimizer_ == "fista"


@pytest.mark.parametrize("loss", ["hinge", "crammer_singer", "one_vs_all_hinge"])
def test_auto_fits_a_hinge_on_sparse_data_with_a_solver_that_reads_it(loss):
    """Dual coordinate descent, auto's choice on dense data, is its choice on CSR too (its
    compiled block reads CSR rows), and it reaches the dense fit's objective."""
    import warnings

    from lingrad.estimators import LinearClassifier
    from lingrad.objective import Objective

    rng = np.random.default_rng(3)
    X = rng.normal(size=(80, 6)) * (rng.random((80, 6)) < 0.5)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dense = LinearClassifier(loss=loss, lam=1e-2).fit(X, y)
        csr = LinearClassifier(loss=loss, lam=1e-2).fit(sp.csr_array(X), y)
    J = Objective(loss, X, y, lam=1e-2)
    assert csr.n_iter_ >= 1 and csr.optimizer_ == dense.optimizer_ == "dualcd"
    assert J.value(csr.W_) == pytest.approx(J.value(dense.W_), rel=1e-4)


@pytest.mark.parametrize("method", ["autodiff", "symbolic"])
def test_dense_only_gradient_methods_refuse_sparse_x_by_name(method):
    """Called directly (not only through the trainer), autodiff and symbolic refuse a CSR X
    with one line naming the method; analytic and numerical agree on it."""
    from lingrad import grad
    from lingrad.objective import Objective

    X = sp.csr_array(np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0]]))
    J = Objective("softmax", X, [0, 1, 0], lam=0.1)
    with pytest.raises(ValueError, match=rf"^gradient: .*for sparse X \(the {method} method"):
        grad.get(method)(J)
    W = np.arange(6.0).reshape(3, 2) / 10
    analytic = grad.get("analytic")(J)(W)[1]
    np.testing.assert_allclose(grad.get("numerical")(J)(W)[1], analytic, atol=1e-7)


# -- the compiled CSR products (lingrad._sparse_kernels) --------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_the_compiled_csr_products_equal_scipys(dtype, index_dtype):
    A, _ = sparse_data(3, N=301, D=47, density=0.05, dtype=dtype)  # a few empty rows
    A.indices, A.indptr = A.indices.astype(index_dtype), A.indptr.astype(index_dtype)
    rng = np.random.default_rng(4)
    W, G = rng.normal(size=(48, 5)).astype(dtype), rng.normal(size=(301, 5)).astype(dtype)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    S = _sparse_kernels.scores(A, W[:-1], W[-1])
    assert S.dtype == dtype and (np.diff(A.indptr) == 0).any()
    np.testing.assert_allclose(S, A @ W[:-1] + W[-1], rtol=tol, atol=tol)
    out = np.ones((47, 5), dtype=dtype)
    _sparse_kernels.accumulate(A, G, out)
    np.testing.assert_allclose(out, 1 + A.T @ G, rtol=tol, atol=tol)


@pytest.mark.parametrize("loss", losses.NAMES)
def test_the_compiled_sparse_pass_equals_the_dense_objective(loss, monkeypatch):
    monkeypatch.setattr(_sparse_kernels, "MIN_NNZ", 0)  # the kernels on every CSR pass
    A, X, y, W, w = problem(loss)
    for kwargs in ({}, {"sample_weight": w}, {"fit_intercept": False}):
        Js = Objective(loss, A, y, lam=0.3, **kwargs)
        Jd = Objective(loss, X, y, lam=0.3, **kwargs)
        assert _sparse_kernels.usable(Js.X, Js.check_weights(W))
        for rows in _rows(3):
            vs, gs = Js.value_and_grad(W, rows)
            vd, gd = Jd.value_and_grad(W, rows)
            assert vs == pytest.approx(vd, rel=1e-12, abs=1e-12)
            np.testing.assert_allclose(gs, gd, rtol=1e-12, atol=1e-12)


def test_the_compiled_pass_is_used_on_large_csr_and_agrees_with_scipys():
    A, X = sparse_data(5, N=2_000, D=300, density=0.05)  # 30,000 non-zeros >= MIN_NNZ
    y = np.random.default_rng(5).integers(0, 7, 2_000)
    W = np.random.default_rng(6).normal(size=(301, 7))
    fast, scipy_only = Objective("softmax", A, y, lam=0.1), Objective("softmax", A, y, lam=0.1)
    scipy_only._compiled = False
    assert _sparse_kernels.usable(fast.X, fast.check_weights(W))
    (vf, gf), (vs, gs) = fast.value_and_grad(W), scipy_only.value_and_grad(W)
    vd, gd = Objective("softmax", X, y, lam=0.1).value_and_grad(W)
    assert vf == pytest.approx(vs, rel=1e-12) and vf == pytest.approx(vd, rel=1e-12)
    np.testing.assert_allclose(gf, gs, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gf, gd, rtol=1e-12, atol=1e-14)


# -- lazy sparse SGD steps (lingrad.train.sparse_steps) --------------------------------------


def _sgd_runs(loss, optimizer, *, dtype=np.float64, epochs=3, **kwargs):
    """The same seeded SGD run on CSR and on the dense twin (W0 non-zero, batches of 8)."""
    rng = np.random.default_rng(11)
    A, X = sparse_data(2, N=90, D=40, density=0.08, dtype=dtype)
    C = 1 if loss == "logistic" else 3
    y = random_targets(loss, rng, 90, C)
    W0 = rng.normal(size=(41, C)).astype(dtype)
    runs = []
    for data in (A, X):
        J = Objective(loss, data, y, **kwargs)
        r = train.fit(
            J,
            optimizer,
            n_columns=C,
            W0=W0.copy(),
            epochs=epochs,
            batch_size=8,
            rng=np.random.default_rng(3),
        )
        runs.append(r)
    return runs, W0


@pytest.mark.parametrize(
    "loss, kwargs",
    [
        ("softmax", {"lam": 0.0}),
        ("softmax", {"lam": 0.3}),
        ("softmax", {"lam": 0.3, "regularizer": "none"}),
        ("hinge", {"lam": 0.05}),
        ("logistic", {"lam": 0.2, "fit_intercept": False}),
        ("squared_error", {"lam": 0.1, "sample_weight": np.linspace(0.5, 2.0, 90)}),
    ],
)
def test_lazy_sgd_steps_equal_the_dense_steps(loss, kwargs):
    (sparse, dense), _ = _sgd_runs(loss, optim.SGD(0.05), **kwargs)
    np.testing.assert_allclose(sparse.W, dense.W, rtol=1e-12, atol=1e-12)
    for key in ("loss", "grad_norm"):
        np.testing.assert_allclose(
            sparse.step_history[key], dense.step_history[key], rtol=1e-12, atol=1e-12
        )
    np.testing.assert_allclose(sparse.history["loss"], dense.history["loss"], rtol=1e-12)
    assert sparse.n_iter == dense.n_iter == 3 * 12


def test_lazy_sgd_is_what_the_runner_takes_and_leaves_w0_alone():
    A, _ = sparse_data(2, N=90, D=40, density=0.08)
    J = Objective("softmax", A, np.arange(90) % 3, lam=0.1)
    guard = train.DivergenceGuard(100.0, 1e8)
    for opt, lazy in [
        (optim.SGD(0.1), True),
        (optim.SGD(0.1, momentum=0.9), False),
        (optim.Adam(0.1), False),
    ]:
        runner = train.runner_for(J, opt, batch_size=8, gradient="analytic", guard=guard)
        assert (runner.lazy is not None) is lazy
    full = train.runner_for(J, optim.SGD(0.1), batch_size=90, gradient="analytic", guard=guard)
    assert full.lazy is None  # one batch of all rows: the dense step
    l1 = Objective("softmax", A, np.arange(90) % 3, regularizer="l1", lam=0.1)
    assert (
        train.runner_for(l1, optim.SGD(0.1), batch_size=8, gradient="analytic", guard=guard).lazy
        is None
    )
    W0 = np.ones((41, 3))
    train.fit(
        J, optim.SGD(0.1), n_columns=3, W0=W0, epochs=1, batch_size=8, rng=np.random.default_rng(0)
    )
    assert (W0 == 1.0).all()


def test_lazy_sgd_with_a_schedule_float32_and_a_vanishing_scale_equals_dense():
    from lingrad.optim.schedules import step_decay

    (s, d), _ = _sgd_runs("softmax", optim.SGD(step_decay(0.5, step_size=5)), lam=0.4)
    np.testing.assert_allclose(s.W, d.W, rtol=1e-12, atol=1e-12)
    # rate * lam = 0.96: a falls by 25 x a step, below RESCALE within an epoch
    (s, d), _ = _sgd_runs("softmax", optim.SGD(0.8), lam=1.2, epochs=2)
    np.testing.assert_allclose(s.W, d.W, rtol=1e-12, atol=1e-12)
    (s, d), _ = _sgd_runs("softmax", optim.SGD(0.05), dtype=np.float32, lam=0.3)
    assert s.W.dtype == np.float32
    np.testing.assert_allclose(s.W, d.W, rtol=1e-5, atol=1e-5)


def test_momentum_and_adam_on_csr_keep_the_dense_step_and_its_numbers():
    for opt in (optim.SGD(0.05, momentum=0.9), optim.Adam(0.05)):
        (s, d), _ = _sgd_runs("softmax", opt, lam=0.3)
        np.testing.assert_allclose(s.W, d.W, rtol=1e-12, atol=1e-12)


def test_lbfgs_keeps_its_gram_matrices_equal_to_the_pairs_products(monkeypatch):
    """The ``(2, m, m)`` ``S Y^T`` / ``Y Y^T`` kept with the pairs (a wrapped ring of 3 on a
    CSR problem) equal the products of the stored pairs, and the direction equals the one
    computed without them (the compact form: small problems take the compiled recursion)."""
    from lingrad.optim.solvers import lbfgs
    from lingrad.optim.solvers.lbfgs import LBFGS, two_loop

    monkeypatch.setattr(lbfgs, "RECURSION_MAX_SIZE", 0)
    A, _, y, W, _ = problem("softmax")
    J = Objective("softmax", A, y, lam=0.01)
    solver, W = LBFGS(tol=1e-10, memory=3), J.check_weights(np.zeros_like(W))
    state = solver.init(W)
    for _ in range(7):
        step, state = solver.update(None, state, W, objective=J)
        W = W + step
    assert state.pairs > 3 and state.gram is not None
    np.testing.assert_allclose(state.gram[0], state.S @ state.Y.T, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(state.gram[1], state.Y @ state.Y.T, rtol=1e-12, atol=1e-15)
    g = state.grad.ravel()
    with_gram = two_loop(g, state.S, state.Y, state.pairs, state.gram)
    np.testing.assert_allclose(with_gram, two_loop(g, state.S, state.Y, state.pairs), rtol=1e-10)


@pytest.mark.parametrize("n_parts", [1, 2, 3])
def test_the_python_sources_of_the_compiled_csr_products_equal_scipys(n_parts):
    """``_scores_py`` and ``_accumulate_py`` are the loops Numba compiles (threaded over row
    parts); run as Python on a small CSR matrix they give SciPy's ``X W + b`` and ``X^T G``,
    for every split of the rows into parts (part 0 sums into ``out`` itself)."""
    rng = np.random.default_rng(n_parts)
    X = sp.random_array((17, 9), density=0.3, format="csr", rng=rng)
    W, b, G = rng.standard_normal((9, 4)), rng.standard_normal(4), rng.standard_normal((17, 4))
    S = np.empty((17, 4))
    _sparse_kernels._scores_py(X.indptr, X.indices, X.data, W, b, S)
    np.testing.assert_allclose(S, X @ W + b, rtol=1e-12, atol=1e-12)
    out = np.ones((9, 4))
    _sparse_kernels._accumulate_py(X.indptr, X.indices, X.data, G, out, n_parts)
    np.testing.assert_allclose(out, 1.0 + X.T @ G, rtol=1e-12, atol=1e-12)
