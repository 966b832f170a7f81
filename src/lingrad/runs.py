"""Run folders and atomic files.

A run writes one folder ``runs/<name>/``:

=================  ==========================================================================
``config.json``    everything needed to reproduce the run exactly (dataset, loss, optimiser,
                   hyperparameters, seeds)
``metrics.json``   the final figures (accuracies, losses, why training stopped, diagnostics)
``history.json``   the per-epoch history of :func:`lingrad.train.fit`
``model.npz``      the weights ``W`` of shape ``(D + 1, C)`` under the key ``"W"``
``checkpoint.npz`` the trainer's last checkpoint (see :mod:`lingrad.train`)
=================  ==========================================================================

Every file is written atomically: into a temporary file in the same folder, flushed to disk,
then renamed over the target with :func:`os.replace`. A run killed mid-write leaves the
previous version intact. Nothing is pickled: ``.npz`` files hold plain arrays and are read with
``allow_pickle=False``; JSON holds the rest.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

from lingrad._validation import check_weights, fail

MODEL = "model.npz"
CONFIG = "config.json"
METRICS = "metrics.json"
HISTORY = "history.json"
CHECKPOINT = "checkpoint.npz"

#: A file or folder name: a string or a path object.
PathLike = str | os.PathLike[str]


def atomic_write(path: PathLike, write: Callable[[IO[bytes]], object]) -> Path:
    """Write ``path`` through ``write(file)`` atomically (temp file + fsync + ``os.replace``).

    If ``write`` raises (or the process dies) the temp file is removed and ``path`` keeps its
    previous content.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     p = atomic_write(Path(tmp) / "note.txt", lambda f: f.write(b"hello"))
        ...     p.read_bytes()
        b'hello'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def save_npz(path: PathLike, arrays: Mapping[str, npt.ArrayLike]) -> Path:
    """Save plain arrays to an ``.npz`` atomically (no object arrays, so no pickle).

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     p = save_npz(Path(tmp) / "a.npz", {"x": np.arange(3)})
        ...     load_npz(p)["x"]
        array([0, 1, 2])
    """
    for key, value in arrays.items():
        if np.asarray(value).dtype == object:
            fail(key, "a numeric or string array (never pickled)", "an object array", TypeError)
    return atomic_write(path, lambda f: np.savez(f, allow_pickle=False, **arrays))


def load_npz(path: PathLike) -> dict[str, NDArray[Any]]:
    """All arrays of an ``.npz`` file, read with ``allow_pickle=False``.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     arrays = load_npz(save_npz(Path(tmp) / "a.npz", {"W": np.eye(2)}))
        >>> sorted(arrays), arrays["W"].shape
        (['W'], (2, 2))
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _plain(obj: object) -> object:
    """JSON-ready: NumPy scalars and arrays to Python, non-finite floats to ``None``."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, np.generic):
        return _plain(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_json(path: PathLike, obj: object) -> Path:
    """Write ``obj`` as indented, strict JSON atomically (NaN and inf become ``null``).

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     p = write_json(Path(tmp) / "m.json", {"loss": float("nan"), "epochs": 3})
        ...     read_json(p)
        {'loss': None, 'epochs': 3}
    """
    text = json.dumps(_plain(obj), indent=2, allow_nan=False) + "\n"
    return atomic_write(path, lambda f: f.write(text.encode()))


def read_json(path: PathLike) -> Any:
    """The object stored in the JSON file ``path`` (written by :func:`write_json`).

    Raises ``FileNotFoundError`` naming the path if there is no such file.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     read_json(write_json(Path(tmp) / "c.json", {"loss": "svm"}))
        {'loss': 'svm'}
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    return json.loads(path.read_text())


def save_model(path: PathLike, W: npt.ArrayLike, trajectory: npt.ArrayLike | None = None) -> Path:
    """Save the weights ``W`` ``(D + 1, C)`` as ``.npz`` with the key ``"W"``, and optionally the
    weights along the way as ``"trajectory"`` ``(T, D + 1, C)`` (for the loss landscape).

    The one function that writes a model file; :func:`load_model` reads it back.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = Path(tmp) / "model.npz"
        ...     p = save_model(path, np.zeros((3, 2)), trajectory=np.zeros((4, 3, 2)))
        ...     {k: v.shape for k, v in load_npz(p).items()}
        {'W': (3, 2), 'trajectory': (4, 3, 2)}
    """
    arrays = {"W": check_weights(W)}
    if trajectory is not None:
        arrays["trajectory"] = np.asarray(trajectory)
    return save_npz(path, arrays)


def load_model(path: PathLike) -> NDArray[np.floating]:
    """The weights ``W`` of a model file written by :func:`save_model`.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     load_model(save_model(Path(tmp) / "model.npz", np.eye(2)))
        array([[1., 0.],
               [0., 1.]])
    """
    arrays = load_npz(path)
    if "W" not in arrays:
        fail(str(path), "an .npz file with an array 'W'", f"keys {sorted(arrays)}")
    return arrays["W"]


def new_run_dir(root: PathLike = "runs", name: str | None = None) -> Path:
    """Create and return ``root/name``; by default ``name`` is a UTC timestamp, made unique
    with a ``-2``, ``-3``... suffix if it exists.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     a = new_run_dir(tmp, name="exp")
        ...     b = new_run_dir(tmp, name="exp")
        ...     a.name, b.name, a.is_dir()
        ('exp', 'exp-2', True)
    """
    root = Path(root)
    base = name or datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    if name is not None and (os.sep in name or name in ("", ".", "..")):
        fail("name", "a plain folder name", repr(name))
    for i in range(1, 10_000):
        path = root / (base if i == 1 else f"{base}-{i}")
        try:
            path.mkdir(parents=True, exist_ok=False)
            return path
        except FileExistsError:
            continue
    fail("name", "a run name not already used", repr(base))


def save_run(
    run_dir: PathLike,
    *,
    config: dict[str, Any],
    metrics: dict[str, Any],
    history: dict[str, Any],
    W: npt.ArrayLike,
    trajectory: npt.ArrayLike | None = None,
) -> Path:
    """Write the four files of a run folder (see the module docstring); return the folder.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     d = save_run(Path(tmp) / "run", config={"loss": "svm"},
        ...                  metrics={"val_accuracy": 0.5},
        ...                  history={"loss": [1.0, 0.5]}, W=np.zeros((3, 2)))
        ...     sorted(p.name for p in d.iterdir())
        ['config.json', 'history.json', 'metrics.json', 'model.npz']
    """
    run_dir = Path(run_dir)
    write_json(run_dir / CONFIG, config)
    write_json(run_dir / HISTORY, history)
    save_model(run_dir / MODEL, W, trajectory)
    write_json(run_dir / METRICS, metrics)
    return run_dir
