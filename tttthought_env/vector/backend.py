"""The thin array layer under :mod:`tttthought_env.vector`: one kernel, NumPy or PyTorch arrays.

The vector env's logic is written once against the Python array API (``xp``: NumPy 2 itself, or
``array_api_compat.torch`` for PyTorch) plus the Python operators (``& | ~ << >> == +``) and integer-array
indexing, which NumPy arrays and PyTorch tensors share. What the array API lacks or where one library has a
much faster route lives here: random numbers (each backend has its own generator), gathers, unpacking
bit-words into columns, and conversions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

BACKENDS: tuple[str, ...] = ("numpy", "torch")

#: ``BYTE_BITS[b, j]`` = bit ``j`` of byte ``b``: unpacks a byte into 8 columns with one gather.
BYTE_BITS = ((np.arange(256)[:, None] >> np.arange(8)[None, :]) & 1).astype(np.uint8)


class Backend:
    """Arrays, random numbers and a few fast paths for one array library (and device).

    ``backend="numpy"`` runs on the CPU with a ``numpy.random.Generator``; ``backend="torch"`` runs on
    ``device`` (``"cpu"``, ``"cuda"``, ...) with a ``torch.Generator`` on that device.
    """

    def __init__(self, name: str = "numpy", device: Any = None) -> None:
        if name not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")
        self.name = name
        self.is_numpy = name == "numpy"
        # Typed Any: the same attributes hold numpy or torch objects (the array API has no common stub).
        self.xp: Any
        self.device: Any
        self.rng: Any
        self.torch: Any = None
        if self.is_numpy:
            if device not in (None, "cpu"):
                raise ValueError(f"backend='numpy' runs on the CPU only; got device={device!r} (use backend='torch')")
            self.xp, self.device, self.rng = np, "cpu", np.random.default_rng()  # NumPy 2 is an array API
        else:
            try:
                import torch
            except ImportError as err:  # pragma: no cover - torch is an optional dependency
                raise ImportError("backend='torch' needs PyTorch: pip install torch") from err
            import array_api_compat.torch as torch_xp

            self.xp, self.torch = torch_xp, torch
            self.device = torch.device("cpu" if device is None else device)
            self.rng = torch.Generator(device=self.device)
            self.rng.seed()
        xp = self.xp
        self.bool, self.float32, self.float64 = xp.bool, xp.float32, xp.float64
        self.int8, self.int16, self.int32, self.int64 = xp.int8, xp.int16, xp.int32, xp.int64
        self._byte_bits: dict[Any, Any] = {}  # BYTE_BITS by output dtype
        self._byte_shifts = self.arange(8, self.int64) * 8

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, Any]:
        """The backend by name, device and generator state: ``xp`` and ``torch`` are modules, which do not
        pickle, so :meth:`__setstate__` imports them again (and a copy draws what the original would)."""
        if self.is_numpy or self.rng is None:
            rng = self.rng
        else:
            rng = self.rng.get_state()
        return {"name": self.name, "device": str(self.device), "rng": rng}

    def __setstate__(self, state: dict[str, Any]) -> None:
        Backend.__init__(self, state["name"], state["device"])
        rng = state["rng"]
        if self.is_numpy or rng is None:
            self.rng = rng
        else:
            self.rng.set_state(rng)

    # ------------------------------------------------------------------ arrays
    def asarray(self, value: Any, dtype: Any = None) -> Any:
        """``value`` (a numpy array, a tensor, a list) as an array of this backend on its device."""
        if self.is_numpy:
            if not isinstance(value, np.ndarray) and type(value).__module__.startswith("torch"):
                value = value.detach().cpu().numpy()
            return np.asarray(value, dtype=dtype)
        if isinstance(value, self.torch.Tensor):
            return value.to(device=self.device, dtype=dtype)
        tensor = self.torch.as_tensor(np.asarray(value), device=self.device)
        return tensor if dtype is None else tensor.to(dtype=dtype)

    def to_numpy(self, value: Any) -> np.ndarray:
        return np.asarray(value) if self.is_numpy else value.detach().cpu().numpy()

    def zeros(self, shape: Any, dtype: Any) -> Any:
        return self.xp.zeros(shape, dtype=dtype, device=self.device)

    def full(self, shape: Any, value: Any, dtype: Any) -> Any:
        return self.xp.full(shape, value, dtype=dtype, device=self.device)

    def arange(self, n: int, dtype: Any) -> Any:
        return self.xp.arange(n, dtype=dtype, device=self.device)

    def take(self, table: Any, idx: Any) -> Any:
        """``table[idx]`` along the first axis (torch wants int32/int64 indices)."""
        if self.is_numpy:
            return np.take(table, idx, axis=0)  # much faster than table[idx] for 2-D tables
        if idx.dtype not in (self.torch.int64, self.torch.int32):
            idx = idx.to(self.torch.int64)
        return table[idx]

    def item_any(self, x: Any) -> bool:
        return bool(self.xp.any(x))

    def nonzero(self, x: Any) -> Any:
        return self.xp.nonzero(x)[0]

    # ------------------------------------------------------------------ random
    def seed(self, seed: int | None) -> None:
        if self.is_numpy:
            self.rng = np.random.default_rng(seed)
        elif self.rng is None:
            if seed is not None:
                self.torch.manual_seed(int(seed))
        elif seed is None:
            self.rng.seed()
        else:
            self.rng.manual_seed(int(seed))

    def uniform(self, n: int) -> Any:
        """``n`` uniform floats in ``[0, 1)`` (float32) from this backend's generator.

        On the torch backend ``rng = None`` draws from torch's default generator of the device instead (what
        CUDA graphs and ``torch.compile`` handle best).
        """
        if self.is_numpy:
            return self.rng.random(n, dtype=np.float32)
        return self.torch.rand(n, generator=self.rng, device=self.device, dtype=self.torch.float32)

    # ------------------------------------------------------------------ bit columns
    def unpack_words(self, words: list, width: int, dtype: Any) -> Any:
        """``(B, width)`` array whose column ``c`` is bit ``c % 64`` of ``words[c // 64]`` (int64 arrays).

        A bit becomes ``1`` of ``dtype`` (float32 observations, bool masks), through one table gather per
        byte: contiguous, and the same code on both backends. NumPy reads the bytes with a free view.
        """
        nbytes = (width + 7) // 8
        cols = [self._bytes(word, min(8, nbytes - 8 * i)) for i, word in enumerate(words[:(nbytes + 7) // 8])]
        byte_idx = cols[0] if len(cols) == 1 else self.xp.concat(cols, axis=1)
        b = byte_idx.shape[0]
        if self.is_numpy:
            if dtype == self.bool or width % 8:
                # unpackbits writes (B, width) 0/1 bytes straight away (bools already); slicing a wider result
                # instead would need a strided copy, which numpy does slowly for short rows.
                bits = np.unpackbits(byte_idx, axis=1, count=width, bitorder="little")
                return bits.view(np.bool_) if dtype == self.bool else bits.astype(dtype)
            return np.take(self._table_for(dtype), byte_idx, axis=0).reshape(b, width)
        out = self._table_for(dtype)[byte_idx.to(self.torch.int64)].reshape(b, nbytes * 8)
        return out[:, :width].contiguous() if nbytes * 8 != width else out

    def _table_for(self, dtype: Any) -> Any:
        key = str(dtype)
        if key not in self._byte_bits:
            self._byte_bits[key] = self.xp.astype(self.asarray(BYTE_BITS), dtype)
        return self._byte_bits[key]

    def _bytes(self, word: Any, take: int) -> Any:
        """The low ``take`` bytes of int64 ``word`` as a ``(B, take)`` index array."""
        if self.is_numpy:
            return np.ascontiguousarray(word, dtype="<i8").view(np.uint8).reshape(-1, 8)[:, :take]
        return (word.to(self.torch.int64)[:, None] >> self._byte_shifts[None, :take]) & 255
