"""``lingrad export --onnx MODEL [-o FILE]``: a saved model as an ONNX graph.

MODEL is a ``lingrad train`` run folder or a model file (``.npz``). The graph (see
:mod:`lingrad.onnx_export`) takes ``X`` ``(N, D)`` with the raw features, applies the model's
standardisation, and outputs ``label``, ``probabilities`` (the probabilistic losses) and
``scores`` for a classifier, ``prediction`` for a regressor: what ``lingrad predict`` writes.
Needs the ``onnx`` extra: ``pip install 'lingrad[onnx]'``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lingrad.cli.common import SubParsers, add_command, reading, writing


def register(sub: SubParsers) -> None:
    """Add the ``export`` command to ``sub``; its ``func`` default is :func:`run`."""
    p = add_command(sub, "export", description=__doc__)
    p.add_argument("model", metavar="MODEL", help="a run folder or a model file (.npz)")
    fmt = p.add_mutually_exclusive_group(required=True)
    fmt.add_argument("--onnx", action="store_true", help="write an ONNX graph")
    p.add_argument(
        "-o",
        "--output",
        default=None,
        help="the file to write (default: model.onnx in the run folder, or the model file's "
        "name with .onnx)",
    )
    p.add_argument(
        "--dtype",
        choices=["float32", "float64"],
        default="float32",
        help="the dtype of the graph's input X and float outputs",
    )
    p.add_argument("--opset", type=int, default=None, help="the ONNX opset (default: 17)")
    p.set_defaults(func=run)


def _default_output(model: str) -> Path:
    path = Path(model)
    return path / "model.onnx" if path.is_dir() else path.with_suffix(".onnx")


def run(args: argparse.Namespace) -> int:
    """Run ``lingrad export`` with the parsed ``args``; return the exit status (0).

    Bad input (no such folder, a damaged model file, no ONNX installed) raises an error that
    :func:`lingrad.cli.main` prints as ``lingrad: error: ...`` with exit status 2.
    """
    from lingrad import io, runs

    try:
        import onnx  # noqa: F401  (checked here for a clear message)

        from lingrad import onnx_export
    except ModuleNotFoundError as exc:
        raise ValueError(
            f"--onnx: needs the package {exc.name!r}, not installed: pip install 'lingrad[onnx]'"
        ) from exc
    with reading(args.model):
        model = io.load(args.model)
    proto = onnx_export.to_onnx(model, target_opset=args.opset, dtype=args.dtype)
    output = Path(args.output) if args.output is not None else _default_output(args.model)
    data = proto.SerializeToString()
    with writing(output, "-o/--output"):
        runs.atomic_write(output, lambda f: f.write(data))
    names = ", ".join(o.name for o in proto.graph.output)
    print(f"wrote {output} (input X: {args.dtype} (N, {model.n_features_in_}); outputs: {names})")
    return 0
