"""Train and evaluate a linear classifier on your own CSV file.

    python examples/csv_train_evaluate.py data.csv --label species

The CSV needs a header and a label column (any label type: strings work); every other column
is a numeric feature. Without a path, the script writes scikit-learn's wine data as a CSV first,
so it runs anywhere. The model is saved with ``lingrad.io`` (no pickle) and loaded back.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from sklearn.metrics import classification_report

from lingrad import LinearClassifier, datasets, io


def wine_csv(folder: Path) -> Path:
    """scikit-learn's wine data as a CSV with a string label column, as a user's file might be."""
    from sklearn.datasets import load_wine

    bunch = load_wine()
    path = folder / "wine.csv"
    header = ",".join([*bunch.feature_names, "label"])
    rows = [
        ",".join([*(f"{v:g}" for v in x), bunch.target_names[t]])
        for x, t in zip(bunch.data, bunch.target, strict=True)
    ]
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def main(argv=None) -> float:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("csv", nargs="?", help="a .csv file with a header (default: wine)")
    p.add_argument("--label", default="label", help="the label column")
    p.add_argument("--loss", default="softmax")
    p.add_argument("--epochs", type=int, default=100)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.csv) if args.csv else wine_csv(Path(tmp))
        data = datasets.load(str(path), label=args.label, preprocess="standardize", seed=0)
        print(
            f"{path.name}: {data.X_train.shape[0]} train / {data.X_test.shape[0]} test rows, "
            f"{data.n_features} features, classes {list(data.class_names)}"
        )
        model = LinearClassifier(args.loss, max_iter=args.epochs, random_state=0)
        model.fit(data.X_train, np.asarray(data.class_names)[data.y_train])
        y_test = np.asarray(data.class_names)[data.y_test]
        accuracy = model.score(data.X_test, y_test)
        print(classification_report(y_test, model.predict(data.X_test), digits=4))
        saved = io.save(model, Path(tmp) / "model.npz", preprocessing=data.preprocessing)
        again = io.load(saved)
        assert (again.predict(data.X_test) == model.predict(data.X_test)).all()
        print(f"saved and reloaded {saved.name}: identical predictions")
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
