"""Your data in: 2-D points with integer labels from CSV text, validated line by line.

Each line is ``x1,x2,label`` (spaces allowed; a first line that is not numbers is a header and
skipped; blank lines are skipped). Labels are integers in ``[0, max_classes)`` and at least two
classes must appear; coordinates are finite numbers with ``|x| <= MAX_COORD`` (the page keeps
points to 3 decimals as int16 thousandths in its URL). The text is capped at
``LIMITS["max_csv_bytes"]`` characters and ``LIMITS["max_points"]`` points. Every refusal is a
``ValueError`` naming ``text`` and the line: ``text: expected ..., got ... on line 3``.
"""

from __future__ import annotations

import numpy as np

from lingrad._validation import fail
from lingrad.playground import schema

#: The largest |coordinate| accepted (the URL stores int16 thousandths: +-32.767).
MAX_COORD = 32.0


def _row(line: str, number: int, max_classes: int) -> tuple[float, float, int]:
    """One ``x1,x2,label`` line as numbers, refused by line number."""
    cells = [cell.strip() for cell in line.split(",")]
    if len(cells) != 3:
        fail("text", "3 comma-separated values (x1,x2,label)", f"{len(cells)} on line {number}")
    try:
        x1, x2 = float(cells[0]), float(cells[1])
    except ValueError:
        fail("text", "numbers for x1 and x2", f"{cells[0]!r}, {cells[1]!r} on line {number}")
    if not (np.isfinite(x1) and np.isfinite(x2)) or max(abs(x1), abs(x2)) > MAX_COORD:
        fail(
            "text", f"finite coordinates with |x| <= {MAX_COORD:g}", f"{x1}, {x2} on line {number}"
        )
    if not cells[2].isdigit() or int(cells[2]) >= max_classes:
        fail("text", f"a label in 0..{max_classes - 1}", f"{cells[2]!r} on line {number}")
    return x1, x2, int(cells[2])


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def parse(text: str) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` from CSV text: ``X`` float64 ``(N, 2)`` rounded to 3 decimals, ``y`` ``(N,)``.

    Examples:
        >>> X, y = parse("x1,x2,label\\n0.5,1,0\\n-2,0.25,1\\n")
        >>> X.tolist(), y.tolist()
        ([[0.5, 1.0], [-2.0, 0.25]], [0, 1])
        >>> parse("0,0,0\\n1,1,zero\\n")
        Traceback (most recent call last):
            ...
        ValueError: text: expected a label in 0..5, got 'zero' on line 2
    """
    limit, max_points = schema.LIMITS["max_csv_bytes"], schema.LIMITS["max_points"]
    if len(text) > limit:
        fail("text", f"at most {limit} characters", len(text))
    lines = [(i + 1, line) for i, line in enumerate(text.splitlines()) if line.strip()]
    if lines and not _is_number(lines[0][1].split(",")[0]):
        lines = lines[1:]  # a header such as "x1,x2,label"
    if len(lines) > max_points:
        fail("text", f"at most {max_points} points", len(lines))
    max_classes = int(schema.LIMITS["max_classes"])
    rows = [_row(line, number, max_classes) for number, line in lines]
    y = np.array([row[2] for row in rows], dtype=np.intp)
    if len(np.unique(y)) < 2:
        fail("text", "points of at least 2 classes", f"{len(np.unique(y))} class(es)")
    X = np.round(np.array([row[:2] for row in rows], dtype=np.float64), 3)
    return X, y
