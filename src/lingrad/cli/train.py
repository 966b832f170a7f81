"""``lingrad train``: train a linear classifier on a dataset and report its accuracy."""

from __future__ import annotations

import argparse

import numpy as np

from lingrad import datasets, losses, regularizers
from lingrad.model import predict
from lingrad.objective import Objective
from lingrad.train import sgd


def register(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train a linear classifier and print train/validation/test accuracy",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--dataset", default="digits", choices=datasets.NAMES)
    p.add_argument("--loss", default="softmax", help=f"one of {', '.join(losses.NAMES)}")
    p.add_argument("--reg", default="l2", choices=regularizers.NAMES, help="regulariser")
    p.add_argument("--lam", type=float, default=1e-3, help="regularisation strength")
    p.add_argument("--lr", type=float, default=0.1, help="initial learning rate")
    p.add_argument("--decay", type=float, default=0.97, help="learning-rate factor per epoch")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None, help="local copy / download cache (cifar10)")
    p.set_defaults(func=run)


def accuracy(W, X, y) -> float:
    return float(np.mean(predict(W, X) == y))


def run(args) -> int:
    spec = losses.spec(args.loss)
    if spec.task != "classification" or spec.binary_only or spec.name == "kl_divergence":
        raise ValueError(f"--loss: expected a multi-class classification loss, got {args.loss!r}")
    data = datasets.load(args.dataset, seed=args.seed, data_dir=args.data_dir)
    scaler = datasets.Standardizer().fit(data.X_train)
    X_train, X_val, X_test = (scaler.transform(X) for X in (data.X_train, data.X_val, data.X_test))
    objective = Objective(spec.name, X_train, data.y_train, regularizer=args.reg, lam=args.lam)
    result = sgd(
        objective,
        data.n_classes,
        learning_rate=args.lr,
        decay=args.decay,
        batch_size=args.batch_size,
        epochs=args.epochs,
        rng=np.random.default_rng(args.seed),
    )
    print(
        f"{args.dataset}: {data.X_train.shape[0]} train / {data.X_val.shape[0]} validation / "
        f"{data.X_test.shape[0]} test examples, {data.n_features} features, "
        f"{data.n_classes} classes"
    )
    print(
        f"{spec.name} + {args.reg} (lam={args.lam:g}), SGD lr={args.lr:g} decay={args.decay:g} "
        f"batch={args.batch_size}, {args.epochs} epochs: "
        f"loss {result.history['loss'][0]:.4f} -> {result.history['loss'][-1]:.4f}"
    )
    print(f"train accuracy: {accuracy(result.W, X_train, data.y_train):.4f}")
    print(f"validation accuracy: {accuracy(result.W, X_val, data.y_val):.4f}")
    print(f"test accuracy: {accuracy(result.W, X_test, data.y_test):.4f}")
    return 0
