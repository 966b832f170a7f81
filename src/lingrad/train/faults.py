"""Fault injection for the crash-safety tests: a process that kills itself at a chosen point.

The trainer and ``lingrad train`` call :func:`fault_point` at the points where a crash matters:
after each epoch (``"epoch"``), around each checkpoint write (``"checkpoint:start"``,
``"checkpoint:temp"``, the temp file written but not yet renamed, and ``"checkpoint:done"``),
after ``config.json`` is written (``"config"``) and before the run's final files
(``"finish"``). With the environment variable ``LINGRAD_KILL_AT=k`` the process sends itself
``SIGKILL`` at its k-th fault point (no cleanup, no ``finally``: a real crash); with
``LINGRAD_FAULT_TRACE=FILE`` it first appends the point's name to FILE. Without
``LINGRAD_KILL_AT`` a fault point does nothing (one dictionary look-up).
"""

from __future__ import annotations

import os
import signal

#: the environment variable: the 1-based index of the fault point to die at
KILL_AT = "LINGRAD_KILL_AT"
#: the environment variable: a file that gets the name of the fault point died at
TRACE = "LINGRAD_FAULT_TRACE"

_passed = 0  # fault points passed in this process while KILL_AT was set


def fault_point(stage: str) -> None:
    """A point where the process may be killed: SIGKILL itself at the ``LINGRAD_KILL_AT``-th
    call (counted from the first call made with the variable set); otherwise nothing.

    Examples:
        >>> fault_point("epoch") is None  # LINGRAD_KILL_AT unset: nothing happens
        True
    """
    global _passed
    at = os.environ.get(KILL_AT)
    if not at:
        return
    _passed += 1
    if _passed != int(at):
        return
    trace = os.environ.get(TRACE)
    if trace:
        with open(trace, "a") as f:
            f.write(f"{stage}\n")
    os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
