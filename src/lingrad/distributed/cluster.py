"""Getting a ``dask.distributed`` client: the caller's, the current default, a new
``LocalCluster`` on loopback, or an existing scheduler.

lingrad writes no cluster code of its own: this module only picks a :class:`distributed.Client`
and sets up the worker processes' environment the way NumPy work needs it.

Worker environment. A nanny spawns each worker process with the variables of
``distributed.nanny.pre-spawn-environ``. lingrad sets there (see :data:`WORKER_ENVIRON`):

* ``OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = MKL_NUM_THREADS = 1``: a worker runs one task per
  thread, and BLAS threads on top of that oversubscribe the cores;
* no ``MALLOC_TRIM_THRESHOLD_``: the nanny's default (65536) makes glibc give memory back after
  every large free, which slowed a NumPy SGD loop about 3 x (measured, see ``NOTES.md``).

On machines started by hand (``dask worker``) the same settings go in the worker's Dask
configuration (see the README's "Scaling out on Dask" section).
"""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING, Any

import dask

if TYPE_CHECKING:
    from distributed import Client

from lingrad._validation import check_int, fail

#: What the nanny puts in a worker's environment before it starts (``None`` removes a
#: variable that Dask's defaults would set).
WORKER_ENVIRON: dict[str, str | None] = {
    "MALLOC_TRIM_THRESHOLD_": None,
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}

_LOCAL = re.compile(r"local:(\d+)")
_ADDRESS = re.compile(r"(tcp|tls|inproc|ucx)://\S+")


def worker_config() -> dict[str, dict[str, str | None]]:
    """The Dask configuration that gives worker processes :data:`WORKER_ENVIRON`.

    Dask's own ``pre-spawn-environ`` entries are kept unless :data:`WORKER_ENVIRON` overrides
    them; use it as ``with dask.config.set(worker_config()): ...`` around the cluster's start.

    Examples:
        >>> environ = worker_config()["distributed.nanny.pre-spawn-environ"]
        >>> environ["OPENBLAS_NUM_THREADS"]
        '1'
    """
    key = "distributed.nanny.pre-spawn-environ"
    environ = dict(dask.config.get(key, default={}) or {})
    environ.update(WORKER_ENVIRON)
    return {key: environ}


def local_client(
    n_workers: int = 2, *, threads_per_worker: int = 1, **cluster_kwargs: Any
) -> Client:
    """A client on a new ``LocalCluster`` of ``n_workers`` worker *processes* on 127.0.0.1.

    The cluster belongs to the client: ``client.close()`` stops it. Extra keyword arguments go
    to :class:`distributed.LocalCluster` (e.g. ``memory_limit="2GB"``). The scheduler's HTTP
    server takes a free port; it serves the dashboard when ``bokeh`` is installed.

    Starting a cluster takes seconds, so the example only shows the argument check
    (``client = local_client(2)`` starts one; ``client.close()`` stops it):

    Examples:
        >>> local_client(0)
        Traceback (most recent call last):
            ...
        ValueError: n_workers: expected an integer >= 1, got 0
    """
    from distributed import Client

    n_workers = check_int("n_workers", n_workers)
    threads_per_worker = check_int("threads_per_worker", threads_per_worker)
    kwargs = {
        "n_workers": n_workers,
        "threads_per_worker": threads_per_worker,
        "processes": True,
        "host": "127.0.0.1",
        "dashboard_address": "127.0.0.1:0",  # a free port: never the shared 8787
        **cluster_kwargs,
    }
    with dask.config.set(worker_config()):
        return Client(**kwargs)


def connect(
    spec: Client | str | None = None, *, timeout: float = 10.0, **cluster_kwargs: Any
) -> Client:
    """A :class:`distributed.Client` from a user's specification.

    Args:
        spec: ``None`` (the current default client), a ``Client`` (returned as is),
            ``"local:N"`` (a new ``LocalCluster`` of N worker processes bound to 127.0.0.1,
            see :func:`local_client`) or a scheduler address ``"tcp://HOST:PORT"``.
        timeout: seconds to wait for a scheduler at an address.
        cluster_kwargs: passed to :func:`local_client` for ``"local:N"``.

    Raises:
        ValueError: a malformed ``spec``, no default client, or a scheduler that does not answer
            within ``timeout`` (the message names the address).

    ``connect("local:2")`` starts a cluster; the example shows the spec check only:

    Examples:
        >>> connect("localhost")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        ValueError: dask: expected 'local:N' (N worker processes) or a schedul...
    """
    from distributed import Client

    if spec is None:
        return default_client()
    if isinstance(spec, Client):
        return spec
    if not isinstance(spec, str):
        fail(
            "dask",
            "'local:N', 'tcp://HOST:PORT' or a distributed.Client",
            type(spec).__name__,
            TypeError,
        )
    local = _LOCAL.fullmatch(spec)
    if local:
        return local_client(int(local.group(1)), **cluster_kwargs)
    if not _ADDRESS.fullmatch(spec):
        fail(
            "dask",
            "'local:N' (N worker processes) or a scheduler address 'tcp://HOST:PORT'",
            repr(spec),
        )
    try:
        return Client(spec, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        fail(
            "dask",
            f"a Dask scheduler answering at {spec} within {timeout:g} s",
            f"{type(exc).__name__}: {exc}",
        )


def default_client() -> Client:
    """The current default client (``distributed.get_client`` semantics, no new cluster).

    With no client running (``connect("local:2")`` would start one):

    Examples:
        >>> default_client()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        ValueError: client: expected a distributed.Client (client=...) or a ru...
    """
    from distributed import default_client as _default

    try:
        return _default()
    except ValueError:
        fail(
            "client",
            "a distributed.Client (client=...) or a running default client "
            "(lingrad.distributed.connect('local:2'))",
            "none",
        )


def workers(client: Client) -> dict[str, dict[str, Any]]:
    """The scheduler's record of every worker, keyed by address (``memory_limit``, ...).

    ``client`` is a ``distributed.Client`` (anything with its ``scheduler_info``):

    Examples:
        >>> class Stub:
        ...     def scheduler_info(self, n_workers=5):
        ...         return {"workers": {"tcp://127.0.0.1:4001": {"memory_limit": 2**30}}}
        >>> workers(Stub())
        {'tcp://127.0.0.1:4001': {'memory_limit': 1073741824}}
    """
    try:
        info = client.scheduler_info(n_workers=-1)  # recent versions list 5 unless asked
    except TypeError:
        info = client.scheduler_info()
    return dict(info.get("workers", {}))


def dashboard(client: Client | None) -> str | None:
    """The dashboard's address, or ``None`` when the scheduler serves none (it needs
    ``bokeh`` installed where the scheduler runs).

    No client, or a client whose scheduler serves no dashboard, gives ``None``:

    Examples:
        >>> dashboard(None) is None
        True
    """
    if client is None:
        return None
    with contextlib.suppress(Exception):
        link = client.dashboard_link
        if link and client.run_on_scheduler(_has_dashboard):
            return link
    return None


def _has_dashboard() -> bool:
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None
