"""Sizes, dtypes and lookup tables of the vector env: built once per configuration (numpy), then moved to
the backend.

The generic forms in :mod:`~tttthought_env.vector.kernel` work for every board up to 64 cells. A table
stays only where it is the one form there is (the solver's answers) or where a benchmark at batch 16,384
on one core shows it pays (gains measured against the generic form, numpy, registered settings); each is
checked against the generic form in ``tests/tttthought_env/vector/test_tables.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tttthought_env.config import Config
from tttthought_env.layout import Layout
from tttthought_env.opponents import heuristic_tables

from .backend import Backend

#: Boards up to this many cells use lookup tables indexed by bitboard (popcount, wins, k-th set bit).
BIT_TABLE_CELLS = 16
#: Boards up to this many cells have a complete solver table (``Solver.tables()``).
SOLVER_TABLE_CELLS = 12

#: Channel codes of the action table.
CH_MOVE, CH_PROPOSE, CH_NEGATE, CH_FORGET, CH_MARKER = range(5)
CHANNEL_CODES = {"move": CH_MOVE, "propose": CH_PROPOSE, "negate": CH_NEGATE, "forget": CH_FORGET,
                 "marker": CH_MARKER}


def int_dtype_for(bound: int) -> Any:
    """Smallest signed numpy dtype holding ``[-1, bound]``."""
    for dtype in (np.int8, np.int16, np.int32):
        if bound <= np.iinfo(dtype).max:
            return dtype
    return np.int64


def signed(value: int, bits: int) -> int:
    """``value`` (an unsigned bit pattern of ``bits`` bits) as the signed integer with the same bits."""
    return value - (1 << bits) if value >> (bits - 1) & 1 else value


@dataclass
class Layouts:
    """Sizes and dtypes of the state (see :class:`~tttthought_env.vector.state.BatchState`)."""

    n: int  # cells
    actions: int
    memory: int  # S, store entries
    markers: int  # M, 0 when the marker channel is off
    max_thoughts: int
    thinking: bool
    board_np: Any  # numpy dtype of a bitboard: int16 up to 15 cells, int32 up to 31, else int64
    board_bits: int
    full: int  # every cell, as a value of the bitboard dtype (-1 for 64 cells)
    code_bits: int  # bits of one store field (entry code + 1, 0 = empty)
    fields: int  # F, fields per int64 word of the store (at most 62 bits used: no sign, no overflow)
    words: int  # W, int64 words per store
    len_np: Any  # dtype of entry counts (slen, marker counts)
    tleft_np: Any
    count_np: Any

    def __post_init__(self) -> None:
        self.ones = sum(1 << (self.code_bits * i) for i in range(self.fields))  # a 1 in each field's lowest bit
        self.highs = self.ones << (self.code_bits - 1)  # the top bit of every field
        self.field = (1 << self.code_bits) - 1  # one field's mask

    def bit(self, cell: int) -> int:
        """``1 << cell`` as a value of the bitboard dtype."""
        return signed(1 << cell, self.board_bits)


def build_layouts(cfg: Config, layout: Layout) -> Layouts:
    n = layout.n_cells
    memory = cfg.memory_size or n
    markers = cfg.num_markers if "marker" in cfg.channels else 0
    board_np = np.int16 if n <= 15 else np.int32 if n <= 31 else np.int64
    # The store: W int64 words of F fields, one entry code + 1 per field (3x3 Full-v0: one word of 9 x 5 bits).
    # One form for every size; a (B, S) array of codes measured 0.54x the steps/s of Full-v0.
    code_bits = (2 * n + markers).bit_length()
    fields = max(1, min(memory, 62 // code_bits))
    return Layouts(
        n=n, actions=layout.action_size, memory=memory, markers=markers, max_thoughts=cfg.max_thoughts,
        thinking=cfg.thinking, board_np=board_np, board_bits=np.dtype(board_np).itemsize * 8,
        full=signed((1 << n) - 1, np.dtype(board_np).itemsize * 8), code_bits=code_bits, fields=fields,
        words=-(-memory // fields), len_np=int_dtype_for(memory), tleft_np=int_dtype_for(max(cfg.max_thoughts, 1)),
        count_np=int_dtype_for(max(n * cfg.max_thoughts, 1)),
    )


class Tables:
    """Every lookup table of one configuration, as arrays of the backend (``None`` where not built)."""

    def __init__(self, cfg: Config, layout: Layout, lay: Layouts, be: Backend, *, needs_solver: bool,
                 draw_reward: float) -> None:
        self.be = be
        self._action_tables(layout, lay)
        self._store_tables(lay)
        # reward_game by outcome code + 1 (none, win, draw, loss).
        self.reward_game = be.asarray(np.array([0.0, 1.0, draw_reward, -1.0], np.float64))
        # Generic forms, every board: shifts for the bit columns, the winning lines as signed words.
        self.shifts = be.arange(lay.n, be.int64)
        self.line_masks = be.asarray(np.array([signed(m, 64) for m in layout.line_masks], np.int64))
        self.heuristic = heuristic_tables(cfg.rows, cfg.cols, cfg.k, lay.board_bits)  # its masks, as words
        self.small = lay.n <= BIT_TABLE_CELLS
        if self.small:
            self._bit_tables(layout, lay)
        self.opt = self.pow3 = None
        if needs_solver:
            self._solver_table(cfg, lay)
        self.sampler_k, self.sampler = build_sampler_table(layout, lay, be)

    def _action_tables(self, layout: Layout, lay: Layouts) -> None:
        """Per action id: channel code, argument, bitboard bit and the store code + 1 it appends (0: none)."""
        be, n, A = self.be, lay.n, lay.actions
        chan = np.zeros(A, np.int8)
        arg = np.zeros(A, np.int64)
        bits = np.zeros(A, np.int64)
        add1 = np.zeros(A, np.int64)
        first_code = {"propose": 0, "negate": n, "marker": 2 * n}
        for a, (channel, x) in enumerate(layout.decode):
            chan[a], arg[a] = CHANNEL_CODES[channel], x
            if channel != "marker":
                bits[a] = lay.bit(x)
            if channel in first_code:
                add1[a] = first_code[channel] + x + 1
        self.chan, self.arg, self.add1 = be.asarray(chan), be.asarray(arg), be.asarray(add1)
        self.bit = be.asarray(bits.astype(lay.board_np))
        self.cell_bit = be.asarray(np.array([lay.bit(c) for c in range(n)], dtype=np.int64).astype(lay.board_np))
        # ok[chan * 3 + s]: thought of channel chan legal when the proposition's state is s (0 absent, 1 +, 2 -).
        ok = np.zeros(15, bool)
        for s in range(3):
            ok[CH_PROPOSE * 3 + s], ok[CH_NEGATE * 3 + s], ok[CH_FORGET * 3 + s] = s != 1, s != 2, s != 0
            ok[CH_MARKER * 3 + s] = True
        self.ok = be.asarray(ok)

    def _store_tables(self, lay: Layouts) -> None:
        """By store code + 1 (0: no entry): the entry's proposition bit (0 for markers) and its marker counts."""
        n, M = lay.n, lay.markers
        code_bit = np.zeros(2 * n + M + 1, np.int64)
        for code in range(2 * n):
            code_bit[code + 1] = lay.bit(code % n)
        self.code_bit = self.be.asarray(code_bit.astype(lay.board_np))
        marker_of = np.zeros((2 * n + M + 1, max(M, 1)), lay.len_np)  # one-hot row of the entry's marker
        marker_of[2 * n + 1 + np.arange(M), np.arange(M)] = 1
        self.marker_of = self.be.asarray(marker_of)
        self.keep_markers = self.be.asarray(np.array([[-1] * M, [0] * M], lay.len_np))  # by "row is cleared"

    def _bit_tables(self, layout: Layout, lay: Layouts) -> None:
        """Popcount, "holds a line" and rank-select by bitboard value, for boards of up to 16 cells.

        Measured (3x3, numpy, batch 16,384, one core, random play) against the generic forms: Plain-v0's
        steps/s drop to 0.53x without the popcount table, 0.52x without the win table, 0.34x without
        rank-select, 0.23x without all three (Full-v0: 0.35x); both speed floors need them.
        """
        n, size = lay.n, 1 << lay.n
        idx = np.arange(size, dtype=np.int64)
        pop = np.zeros(size, np.int64)
        for c in range(n):
            pop += (idx >> c) & 1
        self.pop = self.be.asarray(pop.astype(np.int8))
        won = np.zeros(size, bool)
        for line in layout.line_masks:
            won |= (idx & line) == line
        self.won = self.be.asarray(won)
        # select[mask * n + r] = the r-th set bit (ascending) of mask.
        sel = np.zeros((size, n), np.int8)
        rank = np.zeros(size, np.int64)
        for c in range(n):
            has = ((idx >> c) & 1).astype(bool)
            sel[idx[has], rank[has]] = c
            rank += has
        self.select = self.be.asarray(sel.reshape(-1))

    def _solver_table(self, cfg: Config, lay: Layouts) -> None:
        """The solver's optimal moves by base-3 key (minimax, oracle, potential: there is no other form)."""
        from tttthought_env.solver import get_solver

        try:
            tables = get_solver(cfg.rows, cfg.cols, cfg.k).tables()
        except ValueError as err:  # SolverLimitError included
            raise ValueError(f"the vector env needs the solver's table for this board: {err}") from err
        self.opt = self.be.asarray(tables["optimal_bits"].astype(lay.board_np))
        idx = np.arange(1 << lay.n, dtype=np.int64)
        pow3 = sum(((idx >> c) & 1) * 3 ** c for c in range(lay.n))  # pow3[bits]: base-3 digits 1 at the bits
        self.pow3 = self.be.asarray(np.asarray(pow3, np.int64).astype(np.int32))


def build_sampler_table(layout: Layout, lay: Layouts, be: Backend) -> tuple[int, Any]:
    """``(k, table)`` for sampling by proposition: ``table[state * k + j]`` is the action offset of the
    ``j``-th legal thought channel of a proposition in ``state``; ``(0, None)`` where it does not apply
    (the states do not all have ``k`` legal channels).

    Measured on Full-v0 (numpy, batch 16,384, one core): ``sample_actions`` in 0.4-0.5 ms instead of 1.0 ms
    for the walk over the action blocks, 1.1x-1.15x the steps/s of random play.
    """
    offsets = {channel: start for channel, (start, _) in layout.blocks.items()}
    per_state = _thought_channels_by_state(offsets)
    k = len(per_state[0])
    if not lay.thinking or lay.n > 31 or k == 0 or any(len(chs) != k for chs in per_state):
        return 0, None
    return k, be.asarray(np.array([offsets[c] for chs in per_state for c in chs], np.int32))


def _thought_channels_by_state(offsets: dict[str, int]) -> list[list[str]]:
    """The legal thought channels of a proposition per state, in action order."""
    # state 0 (absent): propose, negate; 1 (+p in the store): negate, forget; 2 (-p): propose, forget
    legal_by_state = (("propose", "negate"), ("negate", "forget"), ("propose", "forget"))
    return [[c for c in channels if c in offsets] for channels in legal_by_state]
