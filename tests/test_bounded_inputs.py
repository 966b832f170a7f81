"""Bounded cost of every input (issue 16): a small file that declares a huge payload is refused
before it is expanded, with memory well under 100 MB, and the error names the file. One test per
format: model file, run ``model.npz``, checkpoint, NPZ data, CIFAR-10 batch, CSV. And the mode
files are written with (the umask's, not ``0600``).

A decompression bomb here is a real one: a zip member of 1 GiB of zeros, deflated to about
1 MB (built from independent deflate segments, so making it costs a second, not a minute).
"""

from __future__ import annotations

import io as stdio
import os
import pickle
import stat
import struct
import subprocess
import sys
import tracemalloc
import zipfile
import zlib
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from lingrad import datasets, io, runs
from lingrad.estimators import LinearClassifier
from lingrad.optim import SGD
from lingrad.train import TrainState

#: The most memory (above what was in use before) reading a bomb may take.
LIMIT_MB = 100
#: The zeros a bomb member expands to.
BOMB = 2**30
_CHUNK = 2**22


@cache
def _zero_stream() -> bytes:
    """A raw deflate stream of ``BOMB`` zero bytes (the segments are fully flushed, so each
    stands alone and one can be repeated)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = c.compress(bytes(_CHUNK)) + c.flush(zlib.Z_FULL_FLUSH)
    return segment * (BOMB // _CHUNK)


def _npy_header(shape: tuple[int, ...], descr: str) -> bytes:
    out = stdio.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(out, header)
    return out.getvalue()


@cache
def _bomb_member(shape: tuple[int, ...] | None = None, descr: str = "|u1") -> tuple:
    """``(compressed bytes, CRC, uncompressed size)`` of an ``.npy`` of ``BOMB`` zero bytes."""
    shape = (BOMB,) if shape is None else shape
    header = _npy_header(shape, descr)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(header) + c.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = zlib.crc32(header)
    chunk = bytes(_CHUNK)
    for _ in range(BOMB // _CHUNK):
        crc = zlib.crc32(chunk, crc)
    return head + _zero_stream() + final, crc, len(header) + BOMB


def _write_zip(path: Path, stored: dict[str, bytes], bombs: dict[str, tuple]) -> Path:
    """A zip of ``stored`` members (raw bytes, uncompressed) and deflated ``bombs``."""
    out = bytearray()
    central = bytearray()
    entries = [(n, 0, d, zlib.crc32(d), len(d)) for n, d in stored.items()]
    entries += [(n, 8, *b) for n, b in bombs.items()]
    for name, method, data, crc, size in entries:
        raw = name.encode()
        offset = len(out)
        out += struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(data), size, len(raw), 0
        )
        out += raw + data
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            0,
            method,
            0,
            0x21,
            crc,
            len(data),
            size,
            len(raw),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += raw
    start = len(out)
    out += central
    out += struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), start, 0
    )
    path.write_bytes(bytes(out))
    return path


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _refused(read, path: Path) -> tuple[str, float]:
    """``read()`` raises a ValueError naming ``path``; returns the message and the peak memory
    (MB) traced while it ran."""
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as info:
            read()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert str(path) in message
    assert "\n" not in message
    return message, peak


# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model():
    X = np.array([[0.0, 1.0], [1.0, 0.0], [3.0, 4.0], [4.0, 3.0]])
    return LinearClassifier(max_iter=3, random_state=0).fit(X, ["a", "a", "b", "b"])


def test_the_bomb_is_a_real_one(tmp_path):
    path = _write_zip(tmp_path / "b.npz", {}, {"x.npy": _bomb_member()})
    assert path.stat().st_size < 2**21  # about 1 MB on disk...
    with zipfile.ZipFile(path) as z, z.open("x.npy") as f:
        assert np.lib.format.read_magic(f) == (1, 0)
        assert np.lib.format.read_array_header_1_0(f)[0] == (BOMB,)  # ...1 GiB inside
        assert f.read(_CHUNK) == bytes(_CHUNK)


def test_model_file_with_an_extra_bomb_member(model, tmp_path):
    path = io.save(model, tmp_path / "model.npz")
    _write_zip(path, _members(path), {"extra.npy": _bomb_member()})
    message, peak = _refused(lambda: io.load(path), path)
    assert "decompression bomb" in message
    assert peak < LIMIT_MB


def test_model_file_with_weights_replaced_by_a_bomb(model, tmp_path):
    path = io.save(model, tmp_path / "model.npz")
    members = _members(path)
    del members["W.npy"]
    _write_zip(path, members, {"W.npy": _bomb_member((BOMB // 8,), "<f8")})
    message, peak = _refused(lambda: io.load(path), path)
    assert "decompression bomb" in message
    assert peak < LIMIT_MB


def test_model_file_member_not_in_the_metadata_is_never_read(model, tmp_path):
    # 12 MB of zeros: within the size budget of any file, refused by name before it is read.
    path = io.save(model, tmp_path / "model.npz")
    extra = np.zeros(12 * 2**20, np.uint8)
    buf = stdio.BytesIO()
    np.lib.format.write_array(buf, extra)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = buf.getvalue()
    member = (c.compress(data) + c.flush(), zlib.crc32(data), len(data))
    _write_zip(path, _members(path), {"extra.npy": member})
    message, peak = _refused(lambda: io.load(path), path)
    assert "checksums for the arrays" in message and "extra" in message
    assert peak < 4  # metadata only


def test_run_model_file_bomb(tmp_path):
    run = runs.save_run(
        tmp_path / "run", config={"loss": "softmax"}, metrics={}, history={}, W=np.zeros((3, 2))
    )
    path = run / runs.MODEL
    _write_zip(path, _members(path), {"trajectory.npy": _bomb_member()})
    message, peak = _refused(lambda: runs.load_model(path), path)
    assert "decompression bomb" in message and peak < LIMIT_MB
    message, peak = _refused(lambda: io.load(run), path)
    assert peak < LIMIT_MB
    # an unexpected name is refused before anything is read
    np.savez(path, W=np.zeros((3, 2)), other=np.zeros(3))
    message, _ = _refused(lambda: runs.load_model(path), path)
    assert "expected arrays named W and trajectory, got ['W', 'other']" in message


def test_checkpoint_bomb(tmp_path):
    W = np.zeros((3, 2))
    state = TrainState(W, SGD(0.1).init(W), np.random.default_rng(0), epoch=2)
    path = state.save(tmp_path / "checkpoint.npz", SGD(0.1))
    _write_zip(path, _members(path), {"previous_W.npy": _bomb_member((BOMB // 8,), "<f8")})
    fresh = TrainState(W, SGD(0.1).init(W), np.random.default_rng(1))
    message, peak = _refused(lambda: TrainState.load(path, fresh, SGD(0.1)), path)
    assert "decompression bomb" in message and peak < LIMIT_MB


def test_truncated_checkpoint_is_one_value_error(tmp_path):
    W = np.zeros((3, 2))
    state = TrainState(W, SGD(0.1).init(W), np.random.default_rng(0))
    path = state.save(tmp_path / "checkpoint.npz", SGD(0.1))
    path.write_bytes(path.read_bytes()[:100])
    message, _ = _refused(lambda: runs.load_npz(path), path)
    assert "corrupt or truncated" in message


def test_npz_data_bomb(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, y=np.zeros(4))
    _write_zip(path, _members(path), {"X.npy": _bomb_member((BOMB // 8 // 4, 4), "<f8")})
    message, peak = _refused(lambda: datasets.read_file(path), path)
    assert "decompression bomb" in message and peak < LIMIT_MB
    message, peak = _refused(lambda: datasets.load(str(path)), path)
    assert peak < LIMIT_MB


def test_npz_header_must_agree_with_its_size(tmp_path):
    # a header declaring more than the member holds is refused before the array is allocated
    path = tmp_path / "data.npz"
    data = _npy_header((10**12,), "<f8") + bytes(64)
    _write_zip(path, {"X.npy": data}, {})
    message, peak = _refused(lambda: datasets.read_file(path, task="regression"), path)
    assert "header declares" in message and peak < 4


def _cifar_folder(tmp_path: Path, batch: bytes) -> Path:
    folder = tmp_path / datasets.CIFAR10_DIR
    folder.mkdir()
    for name in (*datasets.CIFAR10_TRAIN, datasets.CIFAR10_TEST):
        (folder / name).write_bytes(batch)
    meta = pickle.dumps({b"label_names": [str(i).encode() for i in range(10)]}, protocol=2)
    (folder / "batches.meta").write_bytes(meta)
    return folder


def test_cifar_batch_with_shared_nested_labels(tmp_path):
    n = 20
    nested: object = [1] * 10
    for _ in range(6):  # 10**7 integers per label, 2 * 10**8 in all: 1.6 GB as an array
        nested = [nested] * 10
    batch = pickle.dumps({b"data": np.zeros((n, 3072), np.uint8), b"labels": [nested] * n}, 2)
    assert len(batch) < 100_000
    folder = _cifar_folder(tmp_path, batch)
    message, peak = _refused(lambda: datasets.load("cifar10", data_dir=tmp_path), folder)
    assert "data_batch_1: expected b'labels': a flat list of integer labels, got a list" in message
    assert peak < LIMIT_MB


def test_cifar_labels_out_of_range_name_the_file(tmp_path):
    batch = pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}, 2)
    folder = _cifar_folder(tmp_path, batch)
    message, _ = _refused(lambda: datasets.load("cifar10", data_dir=tmp_path), folder)
    assert f"{folder}/data_batch_1: expected labels in [0, 10)" in message


def _rss_over_baseline_mb(code: str) -> tuple[str, float]:
    """Run ``code`` (which prints one line) in a fresh interpreter; its output and how far its
    peak resident memory rose above what the imports took (tracemalloc would slow a
    million-row parse twentyfold)."""
    program = (
        "import resource, sys\n"
        "from lingrad import datasets\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        f"{code}\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(datasets.__file__).parents[1])}
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    message, kb = done.stdout.strip().rsplit("\n", 1)
    return message, int(kb) / 1024


def test_csv_with_a_stray_quote(tmp_path):
    # 12 MB of numbers (3 million values), then a quote that never closes: one ValueError
    # naming the file and the line, the rows before it held as floats (8 bytes a value), not
    # as Python strings (some 60 bytes a value, 180 MB).
    path = tmp_path / "big.csv"
    row = ",".join(["0.5"] * 16) + ",a\n"
    n = 12 * 2**20 // len(row)
    header = ",".join(f"f{i}" for i in range(16)) + ",label\n"
    path.write_text(header + row * n + '0.5,"oops\n' + row * 2000)
    code = (
        "try:\n"
        f"    datasets.read_file({str(path)!r})\n"
        "except ValueError as exc:\n"
        "    print(str(exc).replace(chr(10), ' '))\n"
    )
    message, peak = _rss_over_baseline_mb(code)
    assert message.startswith(f"{path}: line {n + 2}: expected well-formed CSV (a stray quote?)")
    assert peak < LIMIT_MB


def test_csv_with_one_endless_line(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("a,label\n" + "1," * (16 * 2**20) + "x\n")
    message, peak = _refused(lambda: datasets.read_file(path), path)
    assert f"{path}: line 2: expected rows of at most" in message
    assert peak < LIMIT_MB


def test_csv_still_reads_the_same(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text('a,label,b\n1,"x",2\n3,y,4.5\n')
    X, y, classes, names = datasets.read_file(path)
    np.testing.assert_array_equal(X, [[1.0, 2.0], [3.0, 4.5]])
    assert y.tolist() == [0, 1] and classes == ("x", "y") and names == ("a", "b")
    X, names = datasets.read_features(path)
    assert X.shape == (2, 2) and names == ("a", "b")


# ------------------------------------------------------------------------------------------
# File modes: the umask's, not mkstemp's 0600
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_written_files_get_the_umask_mode(model, tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        written = [
            io.save(model, tmp_path / "model.npz"),
            runs.atomic_write(tmp_path / "predictions.csv", lambda f: f.write(b"y\n1\n")),
            runs.save_npz(tmp_path / "checkpoint.npz", {"W": np.zeros(2)}),
        ]
        run = runs.save_run(tmp_path / "run", config={}, metrics={}, history={}, W=np.zeros((3, 2)))
        written += sorted(run.iterdir())
        # replacing a file gives the same mode
        written.append(io.save(model, tmp_path / "model.npz"))
    finally:
        os.umask(old)
    assert len(written) == 8
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == mode, path
    assert not list(tmp_path.rglob("*.tmp"))
