"""lingrad inside scikit-learn: a Pipeline with StandardScaler, tuned by GridSearchCV.

    python examples/sklearn_pipeline.py [--dataset breast_cancer] [--quick]

The estimator is a drop-in scikit-learn classifier (its default ``optimizer="auto"`` solves
each fit exactly); the grid searches the loss (softmax vs the multi-class SVM) and the
regularisation strength with 3-fold cross-validation, then the best pipeline is scored on a
held-out test set beside scikit-learn's LogisticRegression. ``LinearClassifierCV`` does the
lambda search itself along a warm-started path (as LogisticRegressionCV does).
"""

from __future__ import annotations

import argparse

from sklearn import datasets as sk_datasets
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from lingrad import LinearClassifier, LinearClassifierCV


def main(argv=None) -> float:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--dataset", default="breast_cancer", choices=["breast_cancer", "digits", "wine"]
    )
    p.add_argument("--quick", action="store_true", help="a smaller grid")
    args = p.parse_args(argv)
    X, y = getattr(sk_datasets, f"load_{args.dataset}")(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=0
    )
    pipe = make_pipeline(StandardScaler(), LinearClassifier(random_state=0))
    grid = {
        "linearclassifier__loss": ["softmax", "hinge"],
        "linearclassifier__lam": [1e-4, 1e-2] if args.quick else [1e-5, 1e-4, 1e-3, 1e-2],
    }
    search = GridSearchCV(pipe, grid, cv=3).fit(X_train, y_train)
    best = {k.split("__")[1]: v for k, v in search.best_params_.items()}
    print(f"best parameters {best}, cross-validated accuracy {search.best_score_:.4f}")
    ours = search.score(X_test, y_test)
    ref = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    theirs = ref.fit(X_train, y_train).score(X_test, y_test)
    print(f"test accuracy: lingrad {ours:.4f}, scikit-learn LogisticRegression {theirs:.4f}")
    path = make_pipeline(StandardScaler(), LinearClassifierCV(lams=5 if args.quick else 10, cv=3))
    path.fit(X_train, y_train)
    cv = path[-1]
    print(
        f"LinearClassifierCV: lam_ = {cv.lam_:.3g} of {len(cv.lams_)}, "
        f"test accuracy {path.score(X_test, y_test):.4f}"
    )
    return ours


if __name__ == "__main__":
    main()
