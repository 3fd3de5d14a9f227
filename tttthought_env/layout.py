"""Where things are: the action blocks, the observation slots and the winning lines of a :class:`Config`.

A :class:`Layout` is read-only and shared (:func:`layout_for`); the rules in :mod:`tttthought_env.core`
and the vector env's tables both read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, lru_cache

import numpy as np
from gymnasium import spaces

from tttthought_env.config import Config

#: Every channel name :meth:`Layout.decode` can return, in action-block order.
ACTION_KINDS: tuple[str, ...] = ("move", "propose", "negate", "forget", "marker")

#: Token types of ``obs_mode="tokens"`` (0 is padding): a cell (empty, mine, the opponent's in the full view;
#: occupied, the opponent's last move in the last-move view), a store entry (``+p``, ``-p``, a marker), the budget.
TOKEN_EMPTY, TOKEN_MINE, TOKEN_THEIRS, TOKEN_POSITIVE, TOKEN_NEGATIVE, TOKEN_MARKER, TOKEN_BUDGET = 1, 2, 3, 4, 5, 6, 7
TOKEN_OCCUPIED, TOKEN_LAST_MOVE = 8, 9


@cache
def winning_lines(rows: int, cols: int, k: int) -> tuple[tuple[int, ...], ...]:
    """All segments of ``k`` cells in a row (row, column, both diagonals), as row-major cell tuples."""
    lines = []
    for r in range(rows):
        for c in range(cols):
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                end_r, end_c = r + dr * (k - 1), c + dc * (k - 1)
                if 0 <= end_r < rows and 0 <= end_c < cols:
                    lines.append(tuple((r + dr * i) * cols + (c + dc * i) for i in range(k)))
    return tuple(lines)


def _action_blocks(config: Config) -> dict[str, tuple[int, int]]:
    """``{channel: (first id, width)}``: moves first, then each channel that is on, in fixed order.

    Blocks exist whenever their channel is on, even at ``max_thoughts=0`` (then they are always masked).
    """
    n = config.n_cells
    blocks = {"move": (0, n)}
    start = n
    for channel in config.channels:
        width = config.num_markers if channel == "marker" else n
        blocks[channel] = (start, width)
        start += width
    return blocks


@dataclass(frozen=True, eq=False)
class Layout:
    """Action ids, observation slots and line masks of one :class:`Config`."""

    config: Config
    n_cells: int = field(init=False)
    #: ``{channel: (first action id, block width)}`` for every block present.
    blocks: dict[str, tuple[int, int]] = field(init=False)
    #: ``(channel, first action id)`` of each thought block present, in block order.
    thought_offsets: tuple[tuple[str, int], ...] = field(init=False)
    action_size: int = field(init=False)
    #: ``decode[a] = (channel, arg)`` for every action id.
    decode: tuple[tuple[str, int], ...] = field(init=False)
    #: One bitmask per winning line; ``lines_through[c]``: the masks of the lines through cell ``c``.
    line_masks: tuple[int, ...] = field(init=False)
    lines_through: tuple[tuple[int, ...], ...] = field(init=False)
    all_cells: int = field(init=False)  # (1 << N) - 1
    #: The store's capacity (``memory_size``, ``N`` when None).
    memory_size: int = field(init=False)
    # Observation: 4 planes of N cells, then marker counts, thoughts left, entries.
    marker_slots: int = field(init=False)
    obs_size: int = field(init=False)
    #: No episode has more steps of one player than this: N * (thoughts per turn + 1).
    max_episode_moves_and_thoughts: int = field(init=False)

    def __post_init__(self) -> None:
        cfg = self.config
        n = cfg.n_cells
        blocks = _action_blocks(cfg)
        masks = tuple(sum(1 << c for c in line) for line in winning_lines(cfg.rows, cfg.cols, cfg.k))
        marker_slots = cfg.num_markers if "marker" in cfg.channels else 0
        values = {
            "n_cells": n,
            "blocks": blocks,
            "thought_offsets": tuple((channel, start) for channel, (start, _) in blocks.items() if channel != "move"),
            "action_size": sum(width for _, width in blocks.values()),
            "decode": tuple((channel, i) for channel, (_, width) in blocks.items() for i in range(width)),
            "line_masks": masks,
            "lines_through": tuple(tuple(m for m in masks if m >> c & 1) for c in range(n)),
            "all_cells": (1 << n) - 1,
            "memory_size": n if cfg.memory_size is None else cfg.memory_size,
            "marker_slots": marker_slots,
            "obs_size": 4 * n + marker_slots + 2,
            # With no channel on there are no thoughts, whatever max_thoughts says.
            "max_episode_moves_and_thoughts": n * ((cfg.max_thoughts if cfg.channels else 0) + 1),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def offset(self, channel: str) -> int:
        """First action id of ``channel``'s block."""
        return self.blocks[channel][0]

    def encode_action(self, channel: str, arg: int) -> int:
        """Action id of ``(channel, arg)``; raises ``ValueError`` for a channel that is off or an arg out of range."""
        if channel not in self.blocks:
            raise ValueError(f"channel must be one of {tuple(self.blocks)} in this configuration, got {channel!r}")
        start, width = self.blocks[channel]
        if isinstance(arg, bool) or not isinstance(arg, (int, np.integer)) or not 0 <= arg < width:
            raise ValueError(f"arg of channel {channel!r} must be an int in [0, {width}), got {arg!r}")
        return start + int(arg)

    def check_action(self, action: object) -> int:
        """``action`` as an int, or ``TypeError``/``ValueError`` if it is not an int in ``[0, A)``."""
        if type(action) is int and 0 <= action < self.action_size:  # the common case, first
            return action
        scalar_array = isinstance(action, np.ndarray) and action.shape == () and np.issubdtype(action.dtype, np.integer)
        is_int = isinstance(action, (int, np.integer)) and not isinstance(action, (bool, np.bool_))
        if not (is_int or scalar_array):
            raise TypeError(
                f"action must be an int in [0, {self.action_size}), got {action!r} of type {type(action).__name__}"
            )
        value = int(action)  # type: ignore[call-overload]
        if not 0 <= value < self.action_size:
            raise ValueError(f"action must be an int in [0, {self.action_size}), got {value}")
        return value

    def has_line(self, marks: int, cell: int) -> bool:
        """Whether ``marks`` holds a winning line through ``cell``."""
        for line in self.lines_through[cell]:  # a loop with an early exit: any() of a generator costs twice
            if marks & line == line:
                return True
        return False

    @property
    def token_count(self) -> int:
        """Rows of a token observation: ``N`` cells, ``memory_size`` store slots, the budget."""
        return self.n_cells + self.memory_size + 1

    def token_high(self) -> np.ndarray:
        """int64 ``(L, 3)``: the largest ``(type, value, position)`` of each row (the rows of docs/spec.md)."""
        n, cfg = self.n_cells, self.config
        cells = [(TOKEN_LAST_MOVE, n - 1, n - 1)] * n
        store = [(TOKEN_MARKER, max(n, cfg.num_markers) - 1, self.memory_size - 1)] * self.memory_size
        return np.array([*cells, *store, (TOKEN_BUDGET, cfg.max_thoughts, 0)], np.int64)

    def observation_space(self, obs_mode: str) -> spaces.Space:
        """The float32 vector, ``{"observation", "action_mask"}`` (int8) for ``obs_mode="dict"``, or
        ``{"tokens", "token_mask", "action_mask"}`` for ``obs_mode="tokens"``."""
        mask_space = spaces.Box(0, 1, (self.action_size,), np.int8)
        if obs_mode == "tokens":
            return spaces.Dict({"tokens": spaces.Box(np.zeros((self.token_count, 3), np.int64), self.token_high(),
                                                     dtype=np.int64),
                                "token_mask": spaces.Box(0, 1, (self.token_count,), np.int8),
                                "action_mask": mask_space})
        vector_space = spaces.Box(0.0, 1.0, (self.obs_size,), np.float32)
        if obs_mode == "flat":
            return vector_space
        return spaces.Dict({"observation": vector_space, "action_mask": mask_space})


@lru_cache(maxsize=64)
def layout_for(config: Config) -> Layout:
    """Shared, cached :class:`Layout` of a config."""
    return Layout(config)
