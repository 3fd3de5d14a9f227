"""Exact game-theoretic solver for m,n,k games (tic-tac-toe and small relatives).

The "minimax" opponent and reward shaping ask it which moves are optimal. Boards of up to 9 cells are one
complete lookup table; larger boards are searched on demand (memoised alpha-beta with symmetry reduction,
:mod:`tttthought_env.solver_search`).
"""

from __future__ import annotations

import functools
import operator
from typing import Any

import numpy as np

from .config import check_int
from .layout import winning_lines
from .solver_search import Search, SolverLimitError, make_search

__all__ = [
    "COMPLETE_TABLE_CELLS",
    "DEFAULT_MAX_POSITIONS",
    "ILLEGAL",
    "MAX_CELLS",
    "TABLE_MAX_CELLS",
    "UNREACHABLE",
    "Solver",
    "SolverLimitError",
    "get_solver",
    "tractable",
]

#: Move value of an occupied cell (and of every cell of a finished game) in :meth:`Solver.move_values`.
ILLEGAL = -2
#: Entry of :meth:`Solver.tables` ``"value"`` and ``"move_values"`` for a key no legal game reaches.
UNREACHABLE = -3
#: Default cap on the positions the larger-board search may store (about 100 bytes each).
DEFAULT_MAX_POSITIONS = 2_000_000
#: :meth:`Solver.tables` indexes arrays by base-3 key, so it needs ``3 ** (rows * cols)`` entries.
TABLE_MAX_CELLS = 12
#: Boards with at most this many cells are solved completely (every reachable position) on first use.
COMPLETE_TABLE_CELLS = 9
#: Largest board the solver accepts at all; see :func:`tractable` for the finer rule.
MAX_CELLS = 25


def tractable(rows: int, cols: int, k: int) -> bool:
    """Whether the solver accepts a ``rows x cols, k`` game up front (measured: see ``docs/solver.md``).

    Accepted: every board of up to 16 cells (4x4 k=4 included), and boards of up to 25 cells with
    ``k <= 3`` and both sides >= 3, where the first player wins within a few moves. Rejected, for
    example: 4x5 k=4 and 3x7 k=5 (random play needs several million positions, seconds per step),
    5x5 k=4 (about a minute for the empty board alone) and 2x12 k=3 (a draw that is slow to prove).
    Everything accepted is still subject to the ``max_positions`` budget.
    """
    n = rows * cols
    if n <= 16:
        return True
    return n <= MAX_CELLS and k <= 3 and min(rows, cols) >= 3


def get_solver(rows: int = 3, cols: int = 3, k: int = 3, max_positions: int = DEFAULT_MAX_POSITIONS) -> Solver:
    """The shared :class:`Solver` of a board (cached: its tables are built once per process).

    Raises ``TypeError``/``ValueError`` for bad arguments and :class:`SolverLimitError` for a board the
    solver cannot solve exactly in reasonable time (see :func:`tractable`).
    """
    rows = check_int("rows", rows, 1)
    cols = check_int("cols", cols, 1)
    k = check_int("k", k, 1)
    max_positions = check_int("max_positions", max_positions, 1)
    return _cached_solver(rows, cols, k, max_positions)


@functools.lru_cache(maxsize=32)
def _cached_solver(rows: int, cols: int, k: int, max_positions: int) -> Solver:
    return Solver(rows, cols, k, max_positions=max_positions)


def _rebuild_solver(rows: int, cols: int, k: int, max_positions: int, options: dict) -> Solver:
    return Solver(rows, cols, k, max_positions=max_positions, **options)


def _symmetries(rows: int, cols: int) -> list[tuple[int, ...]]:
    """Cell permutations of the board's symmetry group (8 for squares, 4 for rectangles), identity first."""
    maps = [
        lambda r, c: (r, c),
        lambda r, c: (rows - 1 - r, c),
        lambda r, c: (r, cols - 1 - c),
        lambda r, c: (rows - 1 - r, cols - 1 - c),
    ]
    if rows == cols:
        maps += [
            lambda r, c: (c, r),
            lambda r, c: (cols - 1 - c, r),
            lambda r, c: (c, rows - 1 - r),
            lambda r, c: (cols - 1 - c, rows - 1 - r),
        ]
    perms: list[tuple[int, ...]] = []
    for transform in maps:
        perm = []
        for cell in range(rows * cols):
            r, c = transform(*divmod(cell, cols))
            perm.append(r * cols + c)
        if tuple(perm) not in perms:  # e.g. a 1xN board has only 2 distinct symmetries
            perms.append(tuple(perm))
    return perms


def _bits(mask: int) -> list[int]:
    """Cells set in a bitboard, ascending."""
    cells = []
    while mask:
        low = mask & -mask
        cells.append(low.bit_length() - 1)
        mask ^= low
    return cells


class Solver:
    """Exact values and optimal moves of every position of one ``rows x cols, k`` game.

    Values are +1 (win), 0 (draw) or -1 (loss) for the player to move, who is X when both sides have as
    many marks. A finished board is scored from that same side: a line by the previous mover is -1, a full
    board without a line is 0. Use :func:`get_solver` rather than the constructor so that tables are shared.

    Boards of up to :data:`COMPLETE_TABLE_CELLS` cells are solved completely on first use (3x3: 5,478
    reachable positions, well under a second). Larger boards are searched per query with memoised
    alpha-beta over symmetry-reduced positions; the search stores at most ``max_positions`` positions and
    raises :class:`SolverLimitError` rather than guess when it would need more.

    ``complete_table`` forces (True, up to 12 cells) or disables (False) the complete table; the default
    uses it up to 9 cells. ``skip_tractable_check=True`` lifts the up-front :func:`tractable` rejection
    (the budget still applies); it exists for ``scripts/solver_limits.py``.
    """

    def __init__(self, rows: int = 3, cols: int = 3, k: int = 3, *,
                 max_positions: int = DEFAULT_MAX_POSITIONS, complete_table: bool | None = None,
                 skip_tractable_check: bool = False) -> None:
        self.rows = check_int("rows", rows, 1)
        self.cols = check_int("cols", cols, 1)
        self.k = check_int("k", k, 1)
        self.max_positions = check_int("max_positions", max_positions, 1)
        self.n = self.rows * self.cols
        self._check_size(skip_tractable_check)
        # Complete table: every reachable position solved up front (default for boards of <= 9 cells).
        self._use_complete = self.n <= COMPLETE_TABLE_CELLS if complete_table is None else bool(complete_table)
        if self._use_complete and self.n > TABLE_MAX_CELLS:
            raise ValueError(f"complete_table=True needs rows*cols <= {TABLE_MAX_CELLS}, got {self.n} cells")
        self._options = {"complete_table": complete_table, "skip_tractable_check": bool(skip_tractable_check)}
        self._build_geometry()
        # Exact answers, keyed by packed marks ``x | o << n``, by base-3 key, or by the int8 board's bytes.
        self._values: dict[int, int] = {}
        self._opt_by_packed: dict[int, int] = {}
        self._opt_by_key3: dict[int, int] = {}
        self._opt_by_bytes: dict[bytes, int] = {}
        # Complete-table state (lists indexed by base-3 key; -1 in _opt_list marks an unreachable key).
        self._complete = False
        self._value_list: list[int] | None = None
        self._opt_list: list[int] | None = None
        self._tables: dict[str, np.ndarray] | None = None
        # Search state: canonical packed key -> bounds on the value and best move (see _make_search).
        self._tt: dict[int, int] = {}
        self._search = self._make_search()

    def _check_size(self, skip_tractable_check: bool) -> None:
        """ValueError for a ``k`` longer than the board, SolverLimitError for a board beyond the solver."""
        rows, cols, k = self.rows, self.cols, self.k
        if k > max(rows, cols):
            raise ValueError(f"k must be between 1 and max(rows, cols) = {max(rows, cols)}, got k={k!r}")
        if not skip_tractable_check and not tractable(rows, cols, k):
            raise SolverLimitError(
                f"the {rows}x{cols} k={k} game is beyond the exact solver: it accepts boards of "
                f"up to 16 cells, and up to {MAX_CELLS} cells only with k <= 3 and both sides >= 3 "
                "(see docs/solver.md)"
            )
        if self.n > 39:  # base-3 keys must fit in int64
            raise SolverLimitError(f"the solver needs rows*cols <= 39, got {rows}x{cols} = {self.n} cells")

    def _build_geometry(self) -> None:
        """Bit weights, line masks, move order and symmetry tables of the board."""
        n = self.n
        self._full = (1 << n) - 1
        self._shape = (n,)
        self._pow3 = 3 ** np.arange(n, dtype=np.int64)
        self._bit_weights = np.left_shift(np.int64(1), np.arange(n, dtype=np.int64))
        self._line_masks = tuple(sum(1 << c for c in line) for line in winning_lines(self.rows, self.cols, self.k))
        self._lines_through = tuple(tuple(m for m in self._line_masks if m >> c & 1) for c in range(n))
        # Cells on many lines first: alpha-beta cuts off sooner when strong moves come first.
        self._move_order = tuple(sorted(range(n), key=lambda c: (-len(self._lines_through[c]), c)))
        self.symmetries = _symmetries(self.rows, self.cols)
        # _sym_bits[p][c][s]: the bit that a mark of player p on cell c sets in the key of symmetry s.
        self._sym_bits = tuple(
            tuple(tuple(1 << (perm[c] + p * n) for perm in self.symmetries) for c in range(n)) for p in (0, 1)
        )

    def __repr__(self) -> str:
        return f"Solver(rows={self.rows}, cols={self.cols}, k={self.k}, max_positions={self.max_positions})"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Rebuild (or reuse the cached) solver on unpickling rather than shipping its tables.
        if self._options == {"complete_table": None, "skip_tractable_check": False}:
            return (get_solver, (self.rows, self.cols, self.k, self.max_positions))
        return (_rebuild_solver, (self.rows, self.cols, self.k, self.max_positions, self._options))

    @property
    def positions_stored(self) -> int:
        """Positions held now: the complete table's size, else the search's (counted against ``max_positions``)."""
        return len(self._values) if self._complete else len(self._tt)

    # ------------------------------------------------------------------ public: boards
    def key(self, board: Any) -> int:
        """Base-3 code ``sum(board[i] * 3**i)`` of a board (checks shape and cell values only)."""
        return int(self._board_array(board).astype(np.int64) @ self._pow3)

    def value(self, board: Any) -> int:
        """Value (+1 win, 0 draw, -1 loss) of ``board`` for the player to move."""
        return self._value_marks(*self._board_marks(board))

    def move_values(self, board: Any) -> np.ndarray:
        """int8 array: value of playing each cell for the player to move; :data:`ILLEGAL` on occupied cells.

        Every entry is :data:`ILLEGAL` on a finished board. ``value(board) == move_values(board).max()`` on
        every unfinished board.
        """
        return self._move_values_marks(*self._board_marks(board))

    def optimal_moves(self, board: Any) -> np.ndarray:
        """bool array: cells whose move value is the best available (all False on a finished board)."""
        bits = self.optimal_mask_bits(board)
        return (bits >> np.arange(self.n)) & 1 == 1

    def optimal_mask_bits(self, board: Any) -> int:
        """:meth:`optimal_moves` as an int bitmask (bit ``c`` set iff cell ``c`` is optimal); a cached lookup.

        An int8 board of a position seen before costs one ``tobytes()`` and one dict lookup.
        """
        if type(board) is np.ndarray and board.dtype == np.int8 and board.shape == self._shape:
            bits = self._opt_by_bytes.get(board.tobytes())
            if bits is not None:
                return bits
        x, o = self._board_marks(board)
        bits = self._opt_bits_marks(x, o)
        self._opt_by_bytes[self._bytes_of_marks(x, o)] = bits
        return bits

    # -------------------------------------------------------------- public: keys and bitboards
    def value_by_key(self, key: int) -> int:
        """:meth:`value` of the board with base-3 key ``key``."""
        value_list = self._value_list
        if value_list is not None and type(key) is int and 0 <= key < len(value_list):
            value = value_list[key]
            if value != UNREACHABLE:
                return value
        return self._value_marks(*self._key_marks(key))

    def optimal_bits_by_key(self, key: int) -> int:
        """:meth:`optimal_mask_bits` of the board with base-3 key ``key``."""
        opt_list = self._opt_list
        if type(key) is int:  # other types (numpy ints included) take the checked path
            if opt_list is not None:
                if 0 <= key < len(opt_list) and opt_list[key] >= 0:
                    return opt_list[key]
            else:
                bits = self._opt_by_key3.get(key)
                if bits is not None:
                    return bits
        x, o = self._key_marks(key)
        bits = self._opt_bits_marks(x, o)
        self._opt_by_key3[int(key)] = bits
        return bits

    def optimal_bits_from_marks(self, x_mask: int, o_mask: int) -> int:
        """Optimal-move bitmask from bitboards (bit ``c`` of ``x_mask``/``o_mask`` set iff X/O holds cell ``c``).

        This is the per-step path of the environment core: one dict lookup once the position is known.
        """
        try:
            if not (x_mask | o_mask) >> self.n:  # masks in range, so the packed key below is unambiguous
                bits = self._opt_by_packed.get(x_mask | o_mask << self.n)
                if bits is not None:
                    return bits
        except TypeError:
            pass  # not ints: the checked path below says what is wrong
        x, o = self._checked_marks(x_mask, o_mask)
        return self._opt_bits_marks(x, o)

    def tables(self) -> dict[str, np.ndarray]:
        """Read-only numpy tables over every base-3 key, for batched (vector) environments.

        ``"value"`` int8 ``(3**N,)``: :meth:`value`, :data:`UNREACHABLE` for keys no game reaches.
        ``"move_values"`` int8 ``(3**N, N)``: :meth:`move_values` rows, :data:`UNREACHABLE` rows likewise.
        ``"optimal_bits"`` uint16 ``(3**N,)``: :meth:`optimal_mask_bits`, 0 for finished or unreachable keys.
        ``"reachable"`` bool ``(3**N,)``. Needs ``rows * cols <= 12`` (3x4: 531,441 keys, about a second).
        """
        if self.n > TABLE_MAX_CELLS:
            raise ValueError(
                f"tables() needs rows*cols <= {TABLE_MAX_CELLS} (one entry per base-3 key, 3**N of them), got "
                f"{self.rows}x{self.cols} = {self.n} cells; use value() or optimal_bits_from_marks() instead"
            )
        if self._tables is None:
            if not self._complete:
                self._build_complete()
            self._tables = self._build_arrays()
        return self._tables

    # ------------------------------------------------------------------ validation
    def _board_array(self, board: Any) -> np.ndarray:
        """``board`` as a flat int8 array, or ValueError saying what is wrong with it."""
        try:
            arr = np.asarray(board)
        except Exception as err:  # pragma: no cover - numpy accepts nearly anything
            raise ValueError(f"board must be an array of {self.n} cells, got {board!r}") from err
        if arr.shape == (self.rows, self.cols):
            arr = arr.reshape(-1)
        if arr.shape != self._shape:
            raise ValueError(
                f"board must have shape ({self.n},) or ({self.rows}, {self.cols}) for a {self.rows}x{self.cols} game, "
                f"got shape {arr.shape}"
            )
        if not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"board must hold integers 0 (empty), 1 (X) or 2 (O), got dtype {arr.dtype}")
        bad = (arr < 0) | (arr > 2)
        if bad.any():
            cell = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"board cells must be 0 (empty), 1 (X) or 2 (O), got {arr[cell].item()!r} at cell {cell}"
            )
        return arr.astype(np.int8, copy=False)

    def _board_marks(self, board: Any) -> tuple[int, int]:
        arr = self._board_array(board)
        weights = self._bit_weights
        x = int(weights[arr == 1].sum())
        o = int(weights[arr == 2].sum())
        self._check_position(x, o)
        return x, o

    def _key_marks(self, key: Any) -> tuple[int, int]:
        if isinstance(key, (bool, np.bool_)) or not isinstance(key, (int, np.integer)) or not 0 <= key < 3 ** self.n:
            raise ValueError(f"key must be an int in [0, 3**{self.n}) (a base-3 board code), got {key!r}")
        key = int(key)
        x = o = 0
        for cell in range(self.n):
            key, digit = divmod(key, 3)
            if digit == 1:
                x |= 1 << cell
            elif digit == 2:
                o |= 1 << cell
        self._check_position(x, o)
        return x, o

    def _checked_marks(self, x_mask: Any, o_mask: Any) -> tuple[int, int]:
        for name, mask in (("x_mask", x_mask), ("o_mask", o_mask)):
            if isinstance(mask, (bool, np.bool_)) or not isinstance(mask, (int, np.integer)):
                raise TypeError(f"{name} must be an int bitboard, got {mask!r} of type {type(mask).__name__}")
            if not 0 <= mask <= self._full:
                raise ValueError(f"{name} must be a bitboard in [0, 2**{self.n}) for {self.n} cells, got {mask!r}")
        x, o = int(x_mask), int(o_mask)
        if x & o:
            raise ValueError(f"x_mask and o_mask overlap on cells {_bits(x & o)}")
        self._check_position(x, o)
        return x, o

    def _lines_of(self, marks: int) -> list[int]:
        return [line for line in self._line_masks if marks & line == line]

    def _check_position(self, x: int, o: int) -> None:
        """ValueError unless ``(x, o)`` arises in play (X first, the game stops at the first line)."""
        nx, no = x.bit_count(), o.bit_count()
        if nx - no not in (0, 1):
            raise ValueError(
                f"board has {nx} X marks and {no} O marks; X moves first, so X must have as many marks as O or one more"
            )
        x_to_move = nx == no
        mover, last = (x, o) if x_to_move else (o, x)
        mover_name, last_name = ("X", "O") if x_to_move else ("O", "X")
        if self._lines_of(mover):
            raise ValueError(
                f"board: {mover_name} (the player to move) already has {self.k} in a row, so the game ended before "
                f"{last_name}'s last move; no game reaches this position"
            )
        last_lines = self._lines_of(last)
        if last_lines and not functools.reduce(operator.and_, last_lines):
            raise ValueError(
                f"board: {last_name} has {self.k}-in-a-row lines that no single last move completes together "
                "(the game stops at the first line); no game reaches this position"
            )

    # ------------------------------------------------------------------ answers from marks
    def _terminal_value(self, x: int, o: int) -> int | None:
        """Value of a finished position for the player to move, None while the game goes on."""
        last = o if x.bit_count() == o.bit_count() else x
        if self._lines_of(last):
            return -1
        if x | o == self._full:
            return 0
        return None

    def _bytes_of_marks(self, x: int, o: int) -> bytes:
        """The bytes of the int8 board holding these marks (what ``board.tobytes()`` gives)."""
        return bytes((x >> c & 1) + 2 * (o >> c & 1) for c in range(self.n))

    def _value_marks(self, x: int, o: int) -> int:
        self._ensure_complete()
        packed = x | o << self.n
        value = self._values.get(packed)
        if value is None:
            value = self._terminal_value(x, o)
            if value is None:
                value = self._search_exact(x, o)
            self._values[packed] = value
        return value

    def _move_values_marks(self, x: int, o: int) -> np.ndarray:
        out = np.full(self.n, ILLEGAL, dtype=np.int8)
        if self._terminal_value(x, o) is not None:
            return out
        x_to_move = x.bit_count() == o.bit_count()
        for cell in range(self.n):
            bit = 1 << cell
            if (x | o) & bit:
                continue
            child = (x | bit, o) if x_to_move else (x, o | bit)
            out[cell] = -self._value_marks(*child)
        return out

    def _opt_bits_marks(self, x: int, o: int) -> int:
        self._ensure_complete()  # on small boards this fills _opt_by_packed with every reachable position
        packed = x | o << self.n
        bits = self._opt_by_packed.get(packed)
        if bits is None:
            bits = self._optimal_bits_search(x, o)
            self._opt_by_packed[packed] = bits
        return bits

    def _optimal_bits_search(self, x: int, o: int) -> int:
        # Exact child values rather than null-window tests: in play the next position queried is one of
        # these children, whose cached exact value then answers its own query (measured faster overall).
        values = self._move_values_marks(x, o)
        best = values.max()
        return 0 if best == ILLEGAL else sum(1 << int(c) for c in np.flatnonzero(values == best))

    # ------------------------------------------------------------------ complete tables (small boards)
    def _ensure_complete(self) -> None:
        if not self._complete and self._use_complete:
            self._build_complete()

    def _build_complete(self) -> None:
        """Memoised negamax over every reachable position: exact value and optimal moves of each."""
        n, full = self.n, self._full
        lines_through = self._lines_through
        pow3 = [3 ** c for c in range(n)]
        values: dict[int, int] = {}
        opt: dict[int, int] = {}
        key3_of: dict[int, int] = {}

        def record_terminal(packed: int, key3: int, value: int) -> None:
            values[packed] = value
            opt[packed] = 0
            key3_of[packed] = key3

        def solve(x: int, o: int, x_to_move: bool, key3: int) -> int:
            packed = x | o << n
            known = values.get(packed)
            if known is not None:
                return known
            occupied = x | o
            mover = x if x_to_move else o
            digit = 1 if x_to_move else 2
            best, best_bits = -2, 0
            for cell in range(n):
                bit = 1 << cell
                if occupied & bit:
                    continue
                child_x, child_o = (x | bit, o) if x_to_move else (x, o | bit)
                child_key3 = key3 + digit * pow3[cell]
                mine = mover | bit
                if any(mine & line == line for line in lines_through[cell]):
                    record_terminal(child_x | child_o << n, child_key3, -1)
                    move_value = 1
                elif occupied | bit == full:
                    record_terminal(child_x | child_o << n, child_key3, 0)
                    move_value = 0
                else:
                    move_value = -solve(child_x, child_o, not x_to_move, child_key3)
                if move_value > best:
                    best, best_bits = move_value, bit
                elif move_value == best:
                    best_bits |= bit
            values[packed] = best
            opt[packed] = best_bits
            key3_of[packed] = key3
            return best

        solve(0, 0, True, 0)
        size = 3 ** n
        value_list = [UNREACHABLE] * size
        opt_list = [-1] * size
        for packed, key3 in key3_of.items():
            value_list[key3] = values[packed]
            opt_list[key3] = opt[packed]
        self._values.update(values)
        self._opt_by_packed.update(opt)
        for packed, bits in opt.items():
            self._opt_by_bytes[self._bytes_of_marks(packed & full, packed >> n)] = bits
        self._value_list, self._opt_list = value_list, opt_list
        self._complete = True

    def _build_arrays(self) -> dict[str, np.ndarray]:
        n = self.n
        value = np.array(self._value_list, dtype=np.int8)
        opt_list = np.array(self._opt_list, dtype=np.int64)
        reachable = value != UNREACHABLE
        optimal_bits = np.where(reachable, opt_list, 0).astype(np.uint16)
        move_values = np.full((3 ** n, n), UNREACHABLE, dtype=np.int8)
        keys = np.flatnonzero(reachable)
        digits = (keys[:, None] // self._pow3[None, :]) % 3
        x_to_move = (digits == 1).sum(1) == (digits == 2).sum(1)
        mover_digit = np.where(x_to_move, 1, 2)
        child_keys = keys[:, None] + mover_digit[:, None] * self._pow3[None, :]
        empty = digits == 0
        child_values = value[np.where(empty, child_keys, 0)]
        live = optimal_bits[keys] != 0  # every unfinished position has at least one optimal move
        rows_values = np.where(empty & live[:, None], -child_values.astype(np.int16), ILLEGAL).astype(np.int8)
        move_values[keys] = rows_values
        tables = {"value": value, "move_values": move_values, "optimal_bits": optimal_bits, "reachable": reachable}
        for array in tables.values():
            array.flags.writeable = False
        return tables

    # ------------------------------------------------------------------ search (larger boards)
    def _sym_keys(self, x: int, o: int) -> tuple[int, ...]:
        keys = [0] * len(self.symmetries)
        for p, marks in ((0, x), (1, o)):
            for cell in _bits(marks):
                for s, bit in enumerate(self._sym_bits[p][cell]):
                    keys[s] |= bit
        return tuple(keys)

    def _search_exact(self, x: int, o: int) -> int:
        """Exact value of an unfinished position (full window -1..1: every result is exact)."""
        return self._search(x, o, x.bit_count() == o.bit_count(), self._sym_keys(x, o), -1, 1)

    def _make_search(self) -> Search:
        """The larger-board search over this solver's table (:func:`tttthought_env.solver_search.make_search`)."""
        return make_search(self._full, self._line_masks, self._move_order, self._sym_bits, self.symmetries,
                           self._tt, self.max_positions, f"{self.rows}x{self.cols} k={self.k}")
