"""The one trainer: an explicit :class:`TrainState`, runners that advance it one epoch, and
callbacks after each epoch.

:func:`fit` minimises an objective with any optimiser. Each epoch a runner
(:mod:`~lingrad.train.runners`) visits the examples: mini-batches of ``batch_size`` from one
permutation per epoch, or the whole batch (``batch_size = N``: gradient descent, the search
optimisers), one optimiser step per batch:

    gradient optimisers:  g = dJ_batch/dW(W);  step, state = opt.update(g, state, W)
    search optimisers:    step, state = opt.update(None, state, W, value_fn=J_batch, rng=rng)
    W <- W + step

where ``J_batch`` is the objective's (weighted) mean over the batch plus ``lam R(W)``. After
the epoch an evaluation pass fills the per-epoch history and the callbacks
(:mod:`~lingrad.train.callbacks`) run: the optimiser observes the watched loss (plateau
reduction), early stopping (restoring the best weights), the user's callbacks, a Rich
progress bar on a terminal, checkpoints. A divergence guard checks every step (a NaN or
infinite loss, a loss grown ``divergence_factor`` times its first value, or an exploding
gradient end the run with a message naming the likely cause; the last good weights are kept).
Why a run stopped is a :class:`Stop` (a :class:`StopReason` and a message). The state is the
checkpoint (:mod:`~lingrad.train.state`): resume continues bit for bit. At the end
:func:`diagnose` says whether the loss was still falling, oscillating or flat.

:mod:`lingrad.distributed` trains on a Dask cluster through the same loop with its own
runner (chunk-local SGD, W moved to the data).
"""

from lingrad.train.callbacks import (
    Callback,
    Checkpoint,
    DivergenceGuard,
    EarlyStopping,
    ObservePlateau,
    ProgressBar,
    Trajectory,
    UserCallbacks,
)
from lingrad.train.diagnostics import diagnose
from lingrad.train.evaluation import Evaluation, RunnerLogs
from lingrad.train.loop import fit, initial_state, result_of, run, sgd
from lingrad.train.runners import (
    SINGLE_THREAD_ELEMENTS,
    FullBatch,
    MiniBatch,
    Runner,
    batch_size_for,
    blas_threads,
    runner_for,
)
from lingrad.train.state import (
    CHECKPOINT_VERSION,
    EPOCH_KEYS,
    STEP_KEYS,
    Best,
    FitResult,
    Stop,
    StopReason,
    TrainState,
)
from lingrad.train.weights import balanced_class_weights, class_weights, weighted_objective

__all__ = [
    "CHECKPOINT_VERSION",
    "EPOCH_KEYS",
    "SINGLE_THREAD_ELEMENTS",
    "STEP_KEYS",
    "Best",
    "Callback",
    "Checkpoint",
    "DivergenceGuard",
    "EarlyStopping",
    "Evaluation",
    "FitResult",
    "FullBatch",
    "MiniBatch",
    "ObservePlateau",
    "ProgressBar",
    "Runner",
    "RunnerLogs",
    "Stop",
    "StopReason",
    "TrainState",
    "Trajectory",
    "UserCallbacks",
    "balanced_class_weights",
    "batch_size_for",
    "blas_threads",
    "class_weights",
    "diagnose",
    "fit",
    "initial_state",
    "result_of",
    "run",
    "runner_for",
    "sgd",
    "weighted_objective",
]
