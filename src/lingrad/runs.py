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
previous version intact; the file gets the mode the umask gives any new file (``0o644`` under
umask ``022``). Nothing is pickled: ``.npz`` files hold plain arrays and are read with
``allow_pickle=False``; JSON holds the rest.

Reading an ``.npz`` costs memory bounded by the file's size: before any array is read, every
member must be an ``.npy`` array (no Python objects) whose header agrees with its declared size,
and all members together may declare at most :data:`MAX_EXPANSION` times the file's size
(at least :data:`MIN_BUDGET`), so that a small compressed file cannot expand to gigabytes.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import zipfile
import zlib
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, NoReturn

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

#: The most uncompressed bytes an ``.npz`` may declare per byte of its size on disk. Files
#: lingrad writes are stored uncompressed (about 1); real compressed data stays far below this,
#: a decompression bomb (deflate reaches about 1000 on zeros) far above.
MAX_EXPANSION = 100
#: The uncompressed bytes any ``.npz``, however small, may declare.
MIN_BUDGET = 16 * 2**20


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
    fd, tmp = _create_temp(path)
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


def _create_temp(path: Path) -> tuple[int, str]:
    """A new temporary file beside ``path``, opened for writing, created with mode ``0o666``
    so that the kernel applies the umask as to any new file (``tempfile.mkstemp`` makes it
    ``0o600``, and that mode would survive the rename)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"{path.parent}: no free temporary file name for {path.name}")


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


def _names(keys: Collection[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    keys = sorted(keys)
    return keys[0] if len(keys) == 1 else f"{', '.join(keys[:-1])} and {keys[-1]}"


def _npz_fail(path: Path, what: str, got: str) -> NoReturn:
    fail(str(path), what, got)


def _members(
    archive: zipfile.ZipFile, path: Path, what: str, max_bytes: int | None
) -> dict[str, tuple[zipfile.ZipInfo, tuple[int, ...], np.dtype]]:
    """Every member's name, zip entry, shape and dtype, checked without reading any data."""
    infos = archive.infolist()
    size = path.stat().st_size
    budget = max(MAX_EXPANSION * size, MIN_BUDGET) if max_bytes is None else max_bytes
    total = sum(info.file_size for info in infos)
    if total > budget:
        _npz_fail(
            path,
            what,
            f"arrays declaring {total:,} bytes uncompressed, more than the {budget:,} allowed "
            f"for a file of {size:,} bytes (a decompression bomb? large data is best saved "
            "uncompressed, with np.savez)",
        )
    members: dict[str, tuple[zipfile.ZipInfo, tuple[int, ...], np.dtype]] = {}
    for info in infos:
        name = info.filename
        if not name.endswith(".npy") or name[:-4] in members:
            raise ValueError(f"{name!r} is not a (unique) .npy array")
        with archive.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"{name}: unsupported .npy format version {version}")
            offset = f.tell()
        if dtype.hasobject:
            raise ValueError(f"{name}: Object arrays cannot be loaded when allow_pickle=False")
        nbytes = math.prod(shape) * dtype.itemsize
        if offset + nbytes != info.file_size:
            raise ValueError(
                f"{name}: its header declares {dtype} {shape} ({nbytes:,} bytes), the zip "
                f"{info.file_size - offset:,} bytes"
            )
        members[name[:-4]] = (info, shape, dtype)
    return members


@contextlib.contextmanager
def _open_npz(path: Path, what: str):
    """The open zip archive; damage of any kind becomes one ValueError naming ``path``."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        with zipfile.ZipFile(path) as archive:
            yield archive
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        if isinstance(exc, ValueError) and str(exc).startswith(str(path)):
            raise
        _npz_fail(path, what, f"a corrupt or truncated file ({type(exc).__name__}: {exc})")


def npz_members(
    path: PathLike, *, what: str = "an .npz file of plain arrays", max_bytes: int | None = None
) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """The shape and dtype of every array in an ``.npz``, read from the headers only.

    The checks of :func:`load_npz` are made (the file is a zip of ``.npy`` arrays without
    Python objects, each header agrees with its declared size, the declared total stays within
    ``max_bytes``: by default :data:`MAX_EXPANSION` times the file's size, at least
    :data:`MIN_BUDGET`); no array is read. Errors are ``ValueError`` naming the file and
    ``what`` it should have been.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     p = save_npz(Path(tmp) / "a.npz", {"x": np.zeros((2, 3), np.float32)})
        ...     npz_members(p)
        {'x': ((2, 3), dtype('float32'))}
    """
    path = Path(path)
    with _open_npz(path, what) as archive:
        members = _members(archive, path, what, max_bytes)
    return {name: (shape, dtype) for name, (_, shape, dtype) in members.items()}


def load_npz(
    path: PathLike,
    keys: Collection[str] | None = None,
    *,
    only: Collection[str] | None = None,
    what: str = "an .npz file of plain arrays",
    max_bytes: int | None = None,
) -> dict[str, NDArray[Any]]:
    """All arrays of an ``.npz`` file, read with ``allow_pickle=False`` at a bounded cost.

    ``keys``: the names the file may hold (another name is refused before anything is read;
    ``None``: any). ``only``: read just these of the arrays present. The checks of
    :func:`npz_members` come first, so that memory stays within ``max_bytes`` (by default
    :data:`MAX_EXPANSION` times the file's size). Every failure is a ``ValueError`` naming the
    file and ``what`` it should have been.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     arrays = load_npz(save_npz(Path(tmp) / "a.npz", {"W": np.eye(2)}))
        >>> sorted(arrays), arrays["W"].shape
        (['W'], (2, 2))
    """
    path = Path(path)
    with _open_npz(path, what) as archive:
        members = _members(archive, path, what, max_bytes)
        if keys is not None and not set(members) <= set(keys):
            _npz_fail(path, f"arrays named {_names(keys)}", str(sorted(members)))
        arrays = {}
        for name, (info, _, _) in members.items():
            if only is None or name in only:
                with archive.open(info) as f:
                    arrays[name] = np.lib.format.read_array(f, allow_pickle=False)
    return arrays


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
    arrays = load_npz(path, {"W", "trajectory"}, what="a model file (arrays W and trajectory)")
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
