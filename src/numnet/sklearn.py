"""scikit-learn estimators backed by numnet: ``MLPClassifier`` and ``MLPRegressor``.

They follow scikit-learn's estimator contract (the constructor stores parameters only; ``fit`` validates
input with scikit-learn's own checks and messages; fitted attributes end with ``_``), so they work in
``Pipeline``, ``GridSearchCV``, ``cross_val_score`` and with pandas DataFrames. scikit-learn is an optional
extra: ``pip install numnet[sklearn]``.

Computation runs in the input's floating dtype: float32 input trains in float32 (fast), anything else in
float64 (as scikit-learn's own MLP).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.preprocessing import LabelEncoder
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("numnet.sklearn needs scikit-learn: pip install numnet[sklearn]") from exc

from numnet import backend, nn, optim
from numnet.data import DataLoader, TensorDataset, train_test_split
from numnet.models import mlp
from numnet.recipe import ACTIVATIONS, OPTIMIZERS
from numnet.tensor import Tensor, no_grad
from numnet.train import EarlyStopping, Trainer

SOLVERS = OPTIMIZERS


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Run with numnet's generator seeded, then give the caller's generator back untouched."""
    saved = backend.get_rng_state()
    backend.manual_seed(seed)
    try:
        yield
    finally:
        backend.set_rng_state(saved)


class _BaseMLP(BaseEstimator):
    """Shared parameters and training; subclasses set the loss, the targets and the outputs."""

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = (100,),
        activation: str = "relu",
        solver: str = "adam",
        learning_rate_init: float = 0.001,
        batch_size: int | str = "auto",
        max_iter: int = 200,
        weight_decay: float = 0.0,
        dropout: float = 0.0,
        momentum: float = 0.9,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        verbose: bool = False,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.momentum = momentum
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.verbose = verbose

    # --- subclass hooks --------------------------------------------------------------------------------
    _score_metric = "accuracy"

    def _loss(self) -> nn.Module:  # pragma: no cover - abstract
        raise NotImplementedError

    def _encode_targets(
        self, y: np.ndarray, dtype: np.dtype, first: bool, classes: Any = None
    ) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    # --- validation ------------------------------------------------------------------------------------
    def _check_params(self) -> list[int]:
        hidden = self.hidden_layer_sizes
        hidden = [hidden] if isinstance(hidden, (int, np.integer)) else list(hidden)
        if any(not isinstance(h, (int, np.integer)) or h < 1 for h in hidden):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}")
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {SOLVERS}, got {self.solver!r}")
        if not self.learning_rate_init > 0:
            raise ValueError(f"learning_rate_init must be > 0, got {self.learning_rate_init}")
        if not isinstance(self.max_iter, (int, np.integer)) or self.max_iter < 1:
            raise ValueError(f"max_iter must be a positive integer, got {self.max_iter!r}")
        if self.batch_size != "auto" and (
            not isinstance(self.batch_size, (int, np.integer)) or self.batch_size < 1
        ):
            raise ValueError(f"batch_size must be 'auto' or a positive integer, got {self.batch_size!r}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be ≥ 0, got {self.weight_decay}")
        if self.early_stopping and not 0 < self.validation_fraction < 1:
            raise ValueError(f"validation_fraction must be in (0, 1), got {self.validation_fraction}")
        return [int(h) for h in hidden]

    def _validate(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            dtype=[np.float64, np.float32],
            multi_output=self._multi_output,
            y_numeric=not self._is_classifier,
        )
        return X, y

    _multi_output = False
    _is_classifier = True

    # --- building and training -------------------------------------------------------------------------
    def _build(self, n_features: int, n_outputs: int, dtype: np.dtype) -> None:
        hidden = self._check_params()
        with backend.default_dtype(dtype):
            self.model_ = mlp(n_features, hidden, n_outputs, self.activation, self.dropout)
        self.optimizer_ = self._make_optimizer()
        self.loss_curve_: list[float] = []
        self.n_iter_ = 0
        self.t_ = 0

    def _make_optimizer(self) -> optim.Optimizer:
        # as scikit-learn's "sgd" solver, both "sgd" and "momentum" use the ``momentum`` parameter (0.9)
        name = "sgd" if self.solver == "momentum" else self.solver
        return optim.create_optimizer(
            name,
            self.model_.parameters(),
            self.learning_rate_init,
            momentum=self.momentum,
            weight_decay=self.weight_decay,
        )

    def _batch_size(self, n: int) -> int:
        return min(200, n) if self.batch_size == "auto" else min(int(self.batch_size), n)

    def _train(self, X: np.ndarray, targets: np.ndarray, epochs: int, seed: int, use_stopping: bool) -> None:
        dtype = self.model_.parameters().__next__().dtype
        X = np.ascontiguousarray(X, dtype=dtype)
        val_loader = None
        callbacks: list[Any] = []
        if use_stopping and self.early_stopping:
            n_val = max(1, round(self.validation_fraction * len(X)))
            if len(X) - n_val < 1:
                raise ValueError(f"early_stopping needs more samples: {len(X)} leave none for training")
            X, X_val, targets, t_val = train_test_split(X, targets, test_size=n_val, seed=seed)
            val_loader = DataLoader(TensorDataset(X_val, t_val), batch_size=1000)
            callbacks.append(
                EarlyStopping(
                    f"val_{self._score_metric}",
                    patience=self.n_iter_no_change,
                    min_delta=self.tol,
                    mode="max",
                )
            )
        elif use_stopping:
            callbacks.append(
                EarlyStopping(
                    "loss",
                    patience=self.n_iter_no_change,
                    min_delta=self.tol,
                    mode="min",
                    restore_best_weights=False,
                )
            )
        loader = DataLoader(
            TensorDataset(X, targets), batch_size=self._batch_size(len(X)), shuffle=self.shuffle, seed=seed
        )
        loader.set_epoch(self.n_iter_)
        metrics = [self._score_metric] if val_loader is not None else None
        trainer = Trainer(
            self.model_,
            self._loss(),
            self.optimizer_,
            loader,
            val_loader,
            metrics,
            callbacks,
            progress=bool(self.verbose),
        )
        trainer.epoch = self.n_iter_
        history = trainer.fit(self.n_iter_ + epochs)
        self.loss_curve_ += history["loss"]
        self.n_iter_ = trainer.epoch
        self.t_ += trainer.step
        if val_loader is not None:
            scores = history[f"val_{self._score_metric}"]
            self.validation_scores_ = list(scores)
            self.best_validation_score_ = max(scores)
        else:
            self.best_loss_ = min(self.loss_curve_)
        self.model_.eval()

    def _fit(self, X: Any, y: Any, partial: bool, classes: Any = None) -> _BaseMLP:
        first = not (partial and hasattr(self, "model_"))
        X, y = self._validate(X, y, reset=first)
        targets = self._encode_targets(y, X.dtype, first, classes)
        if first:
            self._seed_ = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
            with _seeded(self._seed_):
                self._build(X.shape[1], self._n_outputs(targets), X.dtype)
        seed = self._seed_ + self.n_iter_
        with _seeded(seed):
            self._train(X, targets, 1 if partial else self.max_iter, seed, use_stopping=not partial)
        return self

    def fit(self, X: Any, y: Any) -> _BaseMLP:
        """Train a fresh network on X (n_samples, n_features) and y for up to ``max_iter`` epochs."""
        for attribute in ("model_", "classes_"):
            self.__dict__.pop(attribute, None)
        return self._fit(X, y, partial=False)

    def _forward(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        dtype = next(self.model_.parameters()).dtype
        self.model_.eval()
        with no_grad():
            return self.model_(Tensor(np.asarray(X, dtype=dtype))).data

    # --- pickling: the network travels as its JSON architecture and arrays, like numnet.save -----------
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        model = state.pop("model_", None)
        state.pop("optimizer_", None)
        if model is not None:
            state["_model_config"] = nn.config.to_config(model)
            state["_model_state"] = model.state_dict()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        config, weights = state.pop("_model_config", None), state.pop("_model_state", None)
        self.__dict__.update(state)
        if config is not None:
            self.model_ = nn.config.from_config(config)
            self.model_.load_state_dict(weights)
            self.model_.eval()
            # The optimizer's moments are not pickled: partial_fit after unpickling restarts them.
            self.optimizer_ = self._make_optimizer()


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multilayer perceptron classifier trained with numnet (softmax + cross-entropy).

    Parameters follow scikit-learn's ``MLPClassifier`` where they exist (``hidden_layer_sizes``,
    ``activation``, ``solver``, ``learning_rate_init``, ``batch_size``, ``max_iter``, ``momentum``,
    ``shuffle``, ``random_state``, ``tol``, ``n_iter_no_change``, ``early_stopping``,
    ``validation_fraction``), plus ``weight_decay`` (L2, applied by the optimizer) and ``dropout``.
    ``solver``: sgd, momentum, adam, adamw, rmsprop or adagrad.

    Fitted attributes: ``classes_``, ``n_features_in_``, ``feature_names_in_`` (DataFrame input),
    ``loss_curve_`` (per-epoch training loss), ``n_iter_`` (epochs run), ``model_`` (the numnet network),
    ``validation_scores_``/``best_validation_score_`` with early stopping.
    """

    def _loss(self) -> nn.Module:
        return nn.CrossEntropyLoss()

    def _n_outputs(self, targets: np.ndarray) -> int:
        return len(self.classes_)

    def _encode_targets(self, y: np.ndarray, dtype: np.dtype, first: bool, classes: Any = None) -> np.ndarray:
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if first:
            encoder = LabelEncoder().fit(y if classes is None else classes)
            if classes is None and len(encoder.classes_) < 2:
                raise ValueError(
                    f"MLPClassifier needs samples of at least 2 classes to learn, "
                    f"got 1 class: {encoder.classes_[0]!r}"
                )
            self.classes_ = encoder.classes_
        unseen = np.setdiff1d(y, self.classes_)
        if unseen.size:
            raise ValueError(f"y contains labels not seen in the first partial_fit: {unseen.tolist()}")
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> MLPClassifier:
        """One epoch over (X, y); the first call needs ``classes`` (every label that will ever appear)."""
        if not hasattr(self, "model_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        return self._fit(X, y, partial=True, classes=classes)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (n_samples, n_classes), columns in the order of ``classes_``."""
        logits = self._forward(X).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each sample."""
        scores = self._forward(X)  # checks that the model is fitted before classes_ is read
        return self.classes_[scores.argmax(axis=1)]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multilayer perceptron regressor trained with numnet (mean squared error, linear output).

    Same parameters and fitted attributes as ``MLPClassifier`` (no ``classes_``); y may be (n,) or
    (n, n_targets). Early stopping monitors the validation R².
    """

    _score_metric = "r2"
    _multi_output = True
    _is_classifier = False

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _loss(self) -> nn.Module:
        return nn.MSELoss()

    def _n_outputs(self, targets: np.ndarray) -> int:
        return targets.shape[1]

    def _encode_targets(self, y: np.ndarray, dtype: np.dtype, first: bool, classes: Any = None) -> np.ndarray:
        y = np.asarray(y, dtype=dtype)
        if first:
            self._y_ndim_ = y.ndim
        targets = y.reshape(len(y), -1)
        if not first and targets.shape[1] != next(reversed(list(self.model_.parameters()))).shape[0]:
            raise ValueError("y has a different number of targets than in the first partial_fit")
        return targets

    def partial_fit(self, X: Any, y: Any) -> MLPRegressor:
        """One epoch over (X, y), continuing from the current weights."""
        return self._fit(X, y, partial=True)

    def predict(self, X: Any) -> np.ndarray:
        """Predictions (n_samples,) or (n_samples, n_targets), as y was given to fit."""
        out = self._forward(X)
        return out.ravel() if self._y_ndim_ == 1 else out
