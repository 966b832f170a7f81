"""lingrad's estimators against scikit-learn's solvers: test accuracy (R^2) and fit time.

Each shipped dataset is split 80/20 (stratified for classification, random_state=0) and
standardised on the training split. lingrad trains the same objective as the scikit-learn
model (lam = 1 / (C N) for C = 1; Ridge: lam = 2 alpha / N) by full-batch gradient descent,
and, as a second row, with its defaults (Adam, mini-batches of 200, 100 epochs). BLAS is held
to one thread for both sides (small problems; see NOTES.md).
Run: ``python benchmarks/accuracy.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

from _timing import machine, measure, parser, repeats, table
from sklearn import datasets as sk
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from lingrad.estimators import LinearClassifier, LinearRegressor

CLASSIFICATION = {
    "digits": sk.load_digits,
    "iris": sk.load_iris,
    "wine": sk.load_wine,
    "breast_cancer": sk.load_breast_cancer,
}


def split(loader, stratify=True):
    X, y = loader(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y if stratify else None, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def full_batch(N, epochs, learning_rate=1.0):
    return dict(
        lam=1.0 / N, optimizer="gd", learning_rate=learning_rate, schedule="constant",
        max_iter=epochs, random_state=0,
    )  # fmt: skip


def compare(name, ours, theirs, X_train, X_test, y_train, y_test, n):
    rows = []
    for label, make_ours in ours:
        a, b = make_ours(), theirs()
        t_a = measure(lambda m=a: m.fit(X_train, y_train), n)["median"]
        t_b = measure(lambda m=b: m.fit(X_train, y_train), n)["median"]
        rows.append(
            {
                "dataset": name,
                "lingrad": label,
                "scikit-learn": type(b).__name__,
                "lingrad_score": round(a.score(X_test, y_test), 4),
                "sklearn_score": round(b.score(X_test, y_test), 4),
                "lingrad_fit_ms": t_a * 1e3,
                "sklearn_fit_ms": t_b * 1e3,
            }
        )
    return rows


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    n = repeats(args)
    epochs = 200 if args.quick else 1000
    names = ["iris", "breast_cancer"] if args.quick else list(CLASSIFICATION)
    print(f"machine: {machine()}")
    print(f"full-batch rows: {epochs} epochs; fit times are medians over {n} repeats\n")
    rows = []
    with threadpool_limits(1):
        for name in names:
            X_train, X_test, y_train, y_test = split(CLASSIFICATION[name])
            N = len(X_train)
            for loss, reference in [
                ("softmax", lambda: LogisticRegression(max_iter=5000)),
                ("hinge", lambda: LinearSVC()),
            ]:
                ours = [
                    (f"{loss} gd", lambda loss=loss, N=N: LinearClassifier(
                        loss, **full_batch(N, epochs))),
                    (f"{loss} default", lambda loss=loss: LinearClassifier(
                        loss, random_state=0)),
                ]  # fmt: skip
                rows += compare(name, ours, reference, X_train, X_test, y_train, y_test, n)
        X_train, X_test, y_train, y_test = split(sk.load_diabetes, stratify=False)
        N = len(X_train)
        ours = [
            ("squared_error gd", lambda: LinearRegressor(
                **{**full_batch(N, 2 * epochs, 0.2), "lam": 2.0 / N})),
            ("squared_error default", lambda: LinearRegressor(random_state=0)),
        ]  # fmt: skip
        rows += compare("diabetes (R^2)", ours, lambda: Ridge(1.0), X_train, X_test, y_train,
                        y_test, n)  # fmt: skip
    columns = ["dataset", "lingrad", "scikit-learn", "lingrad_score", "sklearn_score"]
    print(table(rows, [*columns, "lingrad_fit_ms", "sklearn_fit_ms"]))
    print()
    for r in rows:
        print(
            f"{r['dataset']}: lingrad {r['lingrad']} score - {r['scikit-learn']} score = "
            f"{r['lingrad_score'] - r['sklearn_score']:+.4f}; fit time lingrad / "
            f"{r['scikit-learn']} = {r['lingrad_fit_ms'] / r['sklearn_fit_ms']:.2f}"
        )


if __name__ == "__main__":
    main()
