"""``Embedding``: a lookup table of learnable vectors, one row per token / category index."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from numnet import backend
from numnet.nn import functional as F
from numnet.nn import init
from numnet.nn.module import Module, Parameter
from numnet.tensor import Tensor


class Embedding(Module):
    """Integer indices of any shape (…) → their rows of ``weight`` (num_embeddings, embedding_dim): (…, dim).

    Default initialisation, PyTorch's: weight ~ N(0, 1), with the ``padding_idx`` row (if given) zeroed; that
    row never receives a gradient, so it stays as it is. ``_weight`` gives the initial table instead.
    (PyTorch's ``max_norm``, ``scale_grad_by_freq`` and ``sparse`` are not supported.)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        _weight: Any = None,
        _freeze: bool = False,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        for name, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"Embedding: {name} must be a positive integer, got {value!r}")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx must lie in [-{self.num_embeddings}, "
                    f"{self.num_embeddings - 1}], got {padding_idx}"
                )
            padding_idx = int(padding_idx) % self.num_embeddings
        self.padding_idx = padding_idx
        dtype = backend.get_default_dtype() if dtype is None else np.dtype(dtype)
        if _weight is None:
            self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim), dtype=dtype))
            self.reset_parameters()
        else:
            table = np.array(_weight.data if isinstance(_weight, Tensor) else _weight, dtype=dtype)
            if table.shape != (self.num_embeddings, self.embedding_dim):
                raise ValueError(
                    f"Embedding: _weight must have shape ({self.num_embeddings}, {self.embedding_dim}), "
                    f"got {table.shape}"
                )
            self.weight = Parameter(table, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        """weight ~ N(0, 1); the padding row zeroed."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(
        cls, embeddings: Any, freeze: bool = True, padding_idx: int | None = None
    ) -> Embedding:
        """An ``Embedding`` holding a copy of ``embeddings`` (num_embeddings, dim); ``freeze=True`` keeps it
        fixed (``weight.requires_grad = False``)."""
        table = np.asarray(embeddings.data if isinstance(embeddings, Tensor) else embeddings)
        if table.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape {table.shape}")
        dtype = table.dtype if table.dtype.kind == "f" else None
        return cls(
            table.shape[0],
            table.shape[1],
            padding_idx=padding_idx,
            _weight=table,
            _freeze=freeze,
            dtype=dtype,
        )

    def forward(self, input: Any) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
