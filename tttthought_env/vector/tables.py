"""Lookup tables of the vector env: built once per configuration (numpy), then moved to the backend.

Generic tables work for every board up to 64 cells. Size-specialised ones replace a loop over the cells
or the lines by one gather where the board is small; each is checked against the generic form in
``tests/test_vector_tables.py``, and each pays for itself at batch 16,384 (docs/performance.md):

* boards of up to :data:`BIT_TABLE_CELLS` cells: popcount, "holds a line" and rank-select by bitboard;
* up to :data:`SOLVER_TABLE_CELLS` cells: the solver's optimal moves and the heuristic's candidates by
  base-3 key (the minimax opponent and the oracle/potential shaping need them: there is no other form);
* up to :data:`POSITION_TABLE_CELLS` cells: the same answers indexed by the position directly;
* :func:`build_obs_table`: whole observation rows by gather, for the usual layouts (3x3 Full-v0);
* :func:`build_sampler_table`: ``sample_actions`` by proposition when every state has as many thoughts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tttthought_env.config import Config
from tttthought_env.layout import Layout
from tttthought_env.opponents import HeuristicTables, heuristic_candidates, heuristic_tables

from .backend import Backend

#: Boards up to this many cells use lookup tables indexed by bitboard (popcount, wins, k-th set bit).
BIT_TABLE_CELLS = 16
#: Boards up to this many cells have a complete solver table (``Solver.tables()``).
SOLVER_TABLE_CELLS = 12
#: Boards up to this many cells index solver and heuristic answers by position (2**(2N+1) entries).
POSITION_TABLE_CELLS = 9

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


def np_popcount(x: np.ndarray) -> np.ndarray:
    """Set bits of each int64 (a loop over the bits, for table builds only)."""
    x = x.astype(np.int64)
    count = np.zeros(x.shape, np.int64)
    while np.any(x):
        count += x & 1
        x = x >> 1
    return count


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
    code_bits: int  # bits of one packed store field (entry code + 1)
    count_bits: int  # bits of one packed marker counter
    packed: bool  # store and marker counts packed into one integer per game
    store_np: Any
    mcount_np: Any
    len_np: Any
    tleft_np: Any
    count_np: Any
    ones: int = 0  # packed: a 1 in the lowest bit of every field
    highs: int = 0  # packed: the top bit of every field
    field: int = 0  # packed: one field's mask

    def bit(self, cell: int) -> int:
        """``1 << cell`` as a value of the bitboard dtype."""
        return signed(1 << cell, self.board_bits)


def _store_dtypes(n: int, memory: int, markers: int, code_bits: int, count_bits: int, packed: bool) -> tuple[Any, Any]:
    """numpy dtypes of the store and of the packed marker counters."""
    if not packed:
        return int_dtype_for(2 * n + max(markers, 1)), None
    store = np.int32 if memory * code_bits <= 31 else np.int64
    return store, int_dtype_for(max(1 << (markers * count_bits), 2) - 1)


def build_layouts(cfg: Config, layout: Layout) -> Layouts:
    n = layout.n_cells
    memory = cfg.memory_size or n
    markers = cfg.num_markers if "marker" in cfg.channels else 0
    board_np = np.int16 if n <= 15 else np.int32 if n <= 31 else np.int64
    board_bits = np.dtype(board_np).itemsize * 8
    # The thought store: entry code + 1 (0 = empty) in fields of code_bits bits of one integer, oldest lowest,
    # when it fits in 62 bits (3x3: 9 entries x 5 bits); otherwise an (S,) array of codes (-1 = empty).
    code_bits = (2 * n + markers).bit_length()
    count_bits = memory.bit_length()  # one marker count (<= S) per field of the packed marker counters
    packed = memory * code_bits <= 62 and markers * count_bits <= 62
    len_np = int_dtype_for(memory)
    store_np, mcount_np = _store_dtypes(n, memory, markers, code_bits, count_bits, packed)
    out = Layouts(
        n=n, actions=layout.action_size, memory=memory, markers=markers, max_thoughts=cfg.max_thoughts,
        thinking=cfg.thinking, board_np=board_np, board_bits=board_bits, full=signed((1 << n) - 1, board_bits),
        code_bits=code_bits, count_bits=count_bits, packed=packed, store_np=store_np,
        mcount_np=mcount_np if packed else len_np, len_np=len_np, tleft_np=int_dtype_for(max(cfg.max_thoughts, 1)),
        count_np=int_dtype_for(max(n * cfg.max_thoughts, 1)),
    )
    if packed:
        out.ones = sum(1 << (code_bits * i) for i in range(memory))
        out.highs = out.ones << (code_bits - 1)
        out.field = (1 << code_bits) - 1
    return out


class Tables:
    """Every lookup table of one configuration, as arrays of the backend (``None`` where not built)."""

    def __init__(self, cfg: Config, layout: Layout, lay: Layouts, be: Backend, *, opponent: Any,
                 needs_solver: bool, draw_reward: float) -> None:
        self.be = be
        n = lay.n
        self._action_tables(layout, lay)
        self._store_tables(lay)
        # reward_game by outcome code + 1 (none, win, draw, loss).
        self.reward_game = be.asarray(np.array([0.0, 1.0, draw_reward, -1.0], np.float64))
        self.marker_codes = be.asarray(np.arange(2 * n, 2 * n + lay.markers, dtype=np.int64)) if lay.markers else None
        # Generic forms, every board: shifts for the bit columns, the winning lines as signed words.
        self.shifts = be.arange(n, be.int64)
        self.line_masks = be.asarray(np.array([signed(m, 64) for m in layout.line_masks], np.int64))
        self.heuristic: HeuristicTables = heuristic_tables(cfg.rows, cfg.cols, cfg.k, lay.board_bits)
        self.small = n <= BIT_TABLE_CELLS
        if self.small:
            self._bit_tables(layout, lay)
        self.opt = self.pow3 = self.heur = self.opt_pos = self.heur_pos = None
        self._answer_tables(cfg, lay, opponent, needs_solver)

    def _answer_tables(self, cfg: Config, lay: Layouts, opponent: Any, needs_solver: bool) -> None:
        """The solver's and the heuristic's answers by base-3 key, and by position on the smallest boards."""
        n = lay.n
        if needs_solver:
            self._solver_table(cfg, lay)
        if n <= SOLVER_TABLE_CELLS and (needs_solver or opponent == "heuristic"):
            idx = np.arange(1 << n, dtype=np.int64)
            pow3 = sum(((idx >> c) & 1) * 3 ** c for c in range(n))
            self.pow3 = self.be.asarray(np.asarray(pow3, np.int64).astype(np.int32))
        if opponent == "heuristic" and n <= SOLVER_TABLE_CELLS:
            self._heuristic_table(cfg, lay)
        if n <= POSITION_TABLE_CELLS:
            self._position_tables(lay)

    def _action_tables(self, layout: Layout, lay: Layouts) -> None:
        """Per action id: channel code, argument, bitboard bit and the store code it appends (-1: none)."""
        be, n, A = self.be, lay.n, lay.actions
        chan = np.zeros(A, np.int8)
        arg = np.zeros(A, np.int64)
        bits = np.zeros(A, np.int64)
        add = np.full(A, -1, np.int64)
        first_code = {"propose": 0, "negate": n, "marker": 2 * n}
        for a, (channel, x) in enumerate(layout.decode):
            chan[a] = CHANNEL_CODES[channel]
            arg[a] = x
            if channel != "marker":
                bits[a] = lay.bit(x)
            if channel in first_code:
                add[a] = first_code[channel] + x
        self.chan = be.asarray(chan)
        self.arg = be.asarray(arg)
        self.bit = be.asarray(bits.astype(lay.board_np))
        self.add = be.asarray(add)
        self.add1 = be.asarray(add + 1)
        self.cell_bit = be.asarray(np.array([lay.bit(c) for c in range(n)], dtype=np.int64).astype(lay.board_np))
        # ok[chan * 3 + s]: thought of channel chan legal when the proposition's state is s (0 absent, 1 +, 2 -).
        ok = np.zeros(15, bool)
        for s in range(3):
            ok[CH_PROPOSE * 3 + s] = s != 1
            ok[CH_NEGATE * 3 + s] = s != 2
            ok[CH_FORGET * 3 + s] = s != 0
            ok[CH_MARKER * 3 + s] = True
        self.ok = be.asarray(ok)

    def _store_tables(self, lay: Layouts) -> None:
        n, M = lay.n, lay.markers
        # code_bit[code + 1]: the proposition bit of a store code (0 for markers and for "no code").
        code_bit = np.zeros(2 * n + M + 1, np.int64)
        for code in range(2 * n):
            code_bit[code + 1] = lay.bit(code % n)
        self.code_bit = self.be.asarray(code_bit.astype(lay.board_np))
        self.mc_delta = None
        if lay.packed and M:  # mc_delta[code + 1]: what an entry adds to the packed marker counters
            delta = np.zeros(2 * n + M + 1, np.int64)
            for m in range(M):
                delta[2 * n + m + 1] = 1 << (lay.count_bits * m)
            self.mc_delta = self.be.asarray(delta.astype(lay.mcount_np))

    def _bit_tables(self, layout: Layout, lay: Layouts) -> None:
        """Boards of up to 16 cells: popcount, "holds a line" and rank-select by bitboard value."""
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
        from tttthought_env.solver import get_solver

        try:
            tables = get_solver(cfg.rows, cfg.cols, cfg.k).tables()
        except ValueError as err:  # SolverLimitError included
            raise ValueError(f"the vector env needs the solver's table for this board: {err}") from err
        self.opt = self.be.asarray(tables["optimal_bits"].astype(lay.board_np))

    def _heuristic_table(self, cfg: Config, lay: Layouts) -> None:
        """The heuristic's candidates over every base-3 key: the opponents' own rule, on numpy arrays."""
        n = lay.n
        keys = np.arange(3 ** n, dtype=np.int64)
        x = np.zeros(keys.size, np.int64)
        o = np.zeros(keys.size, np.int64)
        rest = keys.copy()
        for c in range(n):
            digit = rest % 3
            rest //= 3
            x |= (digit == 1).astype(np.int64) << c
            o |= (digit == 2).astype(np.int64) << c
        cand = heuristic_candidates(x, o, heuristic_tables(cfg.rows, cfg.cols, cfg.k), np_popcount)
        self.heur = self.be.asarray(cand.astype(lay.board_np))

    def _position_tables(self, lay: Layouts) -> None:
        """Boards of up to 9 cells: the solver's and the heuristic's answers indexed directly by the position
        (learner bits | opponent bits << N | learner side << 2N), one lookup instead of a base-3 key first."""
        n, be = lay.n, self.be
        if self.opt is None and self.heur is None:
            return
        idx = np.arange(1 << (2 * n + 1), dtype=np.int64)
        me, opp, side = idx & ((1 << n) - 1), (idx >> n) & ((1 << n) - 1), idx >> (2 * n)
        valid = (me & opp) == 0
        pow3 = be.to_numpy(self.pow3).astype(np.int64)
        key = np.where(valid, pow3[me] * (1 + side) + pow3[opp] * (2 - side), 0)
        if self.opt is not None:
            self.opt_pos = be.asarray(np.where(valid, be.to_numpy(self.opt)[key], 0).astype(lay.board_np))
        if self.heur is not None:
            self.heur_pos = be.asarray(np.where(valid, be.to_numpy(self.heur)[key], 0).astype(lay.board_np))


@dataclass
class ObsTable:
    """Whole observation rows by one gather (see :func:`build_obs_table`)."""

    groups: int
    bits_in_last: int
    radices: list[int]
    rows: Any  # numpy: (R,) void32 rows; torch: (R, 8) float32
    byte_shifts: Any


def build_obs_table(layout: Layout, lay: Layouts, be: Backend) -> ObsTable | None:
    """One gather table that writes whole observation rows, for the usual layouts (3x3 Full-v0 among them).

    The observation is cut into groups of 8 columns. A group of bit columns (marks, +p, -p) is one byte
    of the packed bits: row ``byte`` of the 256 rows ``T8`` (its 8 bits as 0.0/1.0). The last group also
    holds the scalar columns (marker counts, thoughts left, entries): it gets its own rows, one per
    (its bits, scalar values) combination, each value written as the core computes it. Used when the
    width is a multiple of 8, the bits fit one int64 and that table stays small (3x3 Full-v0: 64,000 rows).
    """
    n, S, M, maxT = lay.n, lay.memory, lay.markers, lay.max_thoughts
    width = layout.obs_size
    nbits = 4 * n
    if not lay.thinking or width % 8 or nbits > 64:
        return None
    groups = width // 8
    first_last = 8 * (groups - 1)
    if nbits < first_last:  # scalar columns spill over more than one group
        return None
    bits_in_last = nbits - first_last
    radices = [S + 1] * M + [maxT + 1, S + 1]
    rows = (1 << bits_in_last) * int(np.prod(radices))
    if rows > 1 << 17:
        return None
    t8 = ((np.arange(256)[:, None] >> np.arange(8)[None, :]) & 1).astype(np.float32)
    last = np.zeros((rows, 8), np.float32)
    idx = np.arange(rows)
    low = idx & ((1 << bits_in_last) - 1)
    code = idx >> bits_in_last
    for j in range(bits_in_last):
        last[:, j] = (low >> j) & 1
    values = []
    for radix in reversed(radices):  # mixed radix: the last scalar is the lowest digit
        values.append(code % radix)
        code = code // radix
    values.reverse()
    denominators = [S] * M + [maxT, S]
    for j, (digit, den) in enumerate(zip(values, denominators)):
        last[:, bits_in_last + j] = (digit / den).astype(np.float32)  # the float32 of the core's Python c / den
    table = np.concatenate([t8, last])
    return ObsTable(groups, bits_in_last, radices, table.view("V32").reshape(-1) if be.is_numpy else be.asarray(table),
                    be.asarray(np.arange(groups - 1, dtype=np.int64) * 8))


def build_sampler_table(layout: Layout, lay: Layouts, be: Backend) -> tuple[int, Any]:
    """``(k, table)`` for sampling by proposition: ``table[state * k + j]`` is the action offset of the
    ``j``-th legal thought channel of a proposition in ``state``; ``(0, None)`` where it does not apply."""
    if not lay.thinking or lay.n > 31:
        return 0, None
    offsets = {channel: start for channel, (start, _) in layout.blocks.items()}
    per_state = _thought_channels_by_state(offsets)
    k = len(per_state[0])
    if k == 0 or any(len(chs) != k for chs in per_state):
        return 0, None
    return k, be.asarray(np.array([offsets[c] for chs in per_state for c in chs], np.int32))


def _thought_channels_by_state(offsets: dict[str, int]) -> list[list[str]]:
    """The legal thought channels of a proposition per state, in action order."""
    # state 0 (absent): propose, negate; 1 (+p in the store): negate, forget; 2 (-p): propose, forget
    legal_by_state = (("propose", "negate"), ("negate", "forget"), ("propose", "forget"))
    return [[c for c in channels if c in offsets] for channels in legal_by_state]
