"""Exact solver for m,n,k games (docs/solver.md): boards of up to 9 cells are one complete table, built on
first use; larger ones are searched on demand (memoised alpha-beta with symmetries, :mod:`.solver_search`)."""

from __future__ import annotations

import functools
import operator
from typing import Any

import numpy as np

from .config import check_game, check_int
from .layout import winning_lines
from .solver_search import SolverLimitError, make_search

__all__ = ["COMPLETE_TABLE_CELLS", "DEFAULT_MAX_POSITIONS", "ILLEGAL", "MAX_CELLS", "TABLE_MAX_CELLS",
           "UNREACHABLE", "Solver", "SolverLimitError", "get_solver", "tractable"]

ILLEGAL = -2  #: move value of an occupied cell, and of every cell of a finished game
UNREACHABLE = -3  #: entry of tables() "value" and "move_values" for a key no legal game reaches
DEFAULT_MAX_POSITIONS = 2_000_000  #: cap on the positions the search may store (about 100 bytes each)
TABLE_MAX_CELLS = 12  #: tables() indexes arrays by base-3 key: 3 ** (rows * cols) entries
COMPLETE_TABLE_CELLS = 9  #: boards with at most this many cells are solved completely on first use
MAX_CELLS = 25  #: the largest board the solver accepts at all (see tractable)


def tractable(rows: int, cols: int, k: int) -> bool:
    """Whether the solver accepts a game up front: every board of up to 16 cells, and up to 25 cells with
    ``k <= 3`` and both sides >= 3 (the first player wins quickly). Measured in ``docs/solver.md``."""
    n = rows * cols
    return n <= 16 or (n <= MAX_CELLS and k <= 3 and min(rows, cols) >= 3)


def get_solver(rows: int = 3, cols: int = 3, k: int = 3, max_positions: int = DEFAULT_MAX_POSITIONS) -> Solver:
    """The shared :class:`Solver` of a board (cached: its tables are built once per process)."""
    return _cached_solver(check_int("rows", rows, 1), check_int("cols", cols, 1), check_int("k", k, 1),
                          check_int("max_positions", max_positions, 1))


@functools.lru_cache(maxsize=32)
def _cached_solver(rows: int, cols: int, k: int, max_positions: int) -> Solver:
    return Solver(rows, cols, k, max_positions=max_positions)


def _symmetries(rows: int, cols: int) -> list[tuple[int, ...]]:
    """Cell permutations of the board's symmetry group (8 for squares, 4 for rectangles), identity first."""
    r, c = np.divmod(np.arange(rows * cols), cols)
    images = [(r, c), (rows - 1 - r, c), (r, cols - 1 - c), (rows - 1 - r, cols - 1 - c)]
    if rows == cols:
        images += [(c, r), (cols - 1 - c, r), (c, rows - 1 - r), (cols - 1 - c, rows - 1 - r)]
    perms: list[tuple[int, ...]] = []
    for image_r, image_c in images:
        perm = tuple((image_r * cols + image_c).tolist())
        if perm not in perms:  # e.g. a 1xN board has only 2 distinct symmetries
            perms.append(perm)
    return perms


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


class Solver:
    """Exact values (+1 win, 0 draw, -1 loss for the player to move, X when both have as many marks; a finished
    board too) and optimal moves of one ``rows x cols, k`` game. Use :func:`get_solver` to share the tables.

    ``complete_table`` forces (True, up to 12 cells) or disables (False) the complete table (default: up to 9
    cells); ``skip_tractable_check`` lifts the :func:`tractable` rejection (for scripts/solver_limits.py).
    """

    def __init__(self, rows: int = 3, cols: int = 3, k: int = 3, *,
                 max_positions: int = DEFAULT_MAX_POSITIONS, complete_table: bool | None = None,
                 skip_tractable_check: bool = False) -> None:
        self.rows, self.cols, self.k = rows, cols, k = check_game(rows, cols, k)
        self.max_positions = check_int("max_positions", max_positions, 1)
        n = rows * cols
        if not skip_tractable_check and not tractable(rows, cols, k):
            raise SolverLimitError(
                f"the {rows}x{cols} k={k} game is beyond the exact solver: it accepts boards of up to 16 cells, "
                f"and up to {MAX_CELLS} cells only with k <= 3 and both sides >= 3 (see docs/solver.md)")
        if n > 39:  # base-3 keys must fit in int64
            raise SolverLimitError(f"the solver needs rows*cols <= 39, got {rows}x{cols} = {n} cells")
        self._use_complete = n <= COMPLETE_TABLE_CELLS if complete_table is None else bool(complete_table)
        if self._use_complete and n > TABLE_MAX_CELLS:
            raise ValueError(f"complete_table=True needs rows*cols <= {TABLE_MAX_CELLS}, got {n} cells")
        self._options = (complete_table, bool(skip_tractable_check))
        self.n, self._full = n, (1 << n) - 1
        self._pow3 = 3 ** np.arange(n, dtype=np.int64)
        self._bit_weights = np.left_shift(np.int64(1), np.arange(n, dtype=np.int64))
        self._line_masks = tuple(sum(1 << c for c in line) for line in winning_lines(rows, cols, k))
        self.symmetries = _symmetries(rows, cols)
        self._values: dict[int, int] = {}  # exact values by the packed marks x | o << n
        self._opt: dict[int, int] = {}  # optimal-move bitmasks by the packed marks
        self._opt_by_bytes: dict[bytes, int] = {}  # optimal_mask_bits by the int8 board's bytes
        self._reachable: dict[int, int] | None = None  # the complete table (packed -> value), once built
        self._tables: dict[str, np.ndarray] | None = None
        self._tt: dict[int, int] = {}  # the search's table of bounds (solver_search.make_search)
        self._search = make_search(self._line_masks, self.symmetries, self._tt, self.max_positions,
                                   f"{rows}x{cols} k={k}")

    def __repr__(self) -> str:
        return f"Solver(rows={self.rows}, cols={self.cols}, k={self.k}, max_positions={self.max_positions})"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Rebuild (or reuse the cached) solver on unpickling rather than shipping its tables.
        if self._options == (None, False):
            return (get_solver, (self.rows, self.cols, self.k, self.max_positions))
        complete_table, skip_tractable_check = self._options
        return (functools.partial(Solver, max_positions=self.max_positions, complete_table=complete_table,
                                  skip_tractable_check=skip_tractable_check), (self.rows, self.cols, self.k))

    @property
    def positions_stored(self) -> int:
        """Positions held now: the complete table's size, else the search's (counted against ``max_positions``)."""
        return len(self._values) if self._reachable is not None else len(self._tt)

    # ------------------------------------------------------------------ public
    def key(self, board: Any) -> int:
        """Base-3 code ``sum(board[i] * 3**i)`` of a board (checks shape and cell values only)."""
        return int(self._board_array(board) @ self._pow3)

    def value(self, board: Any) -> int:
        """Value (+1 win, 0 draw, -1 loss) of ``board`` for the player to move."""
        return self._value_marks(*self._array_marks(self._board_array(board)))

    def move_values(self, board: Any) -> np.ndarray:
        """int8: the value of playing each cell for the player to move; :data:`ILLEGAL` on occupied cells
        and on every cell of a finished board."""
        return self._move_values_marks(*self._array_marks(self._board_array(board)))

    def optimal_moves(self, board: Any) -> np.ndarray:
        """bool array: cells whose move value is the best available (all False on a finished board)."""
        return (self.optimal_mask_bits(board) >> np.arange(self.n)) & 1 == 1

    def optimal_mask_bits(self, board: Any) -> int:
        """:meth:`optimal_moves` as an int bitmask (bit ``c`` set iff cell ``c`` is optimal); for an int8 board
        seen before, one ``tobytes()`` and one dict lookup."""
        if type(board) is np.ndarray and board.dtype == np.int8 and board.shape == (self.n,):
            bits = self._opt_by_bytes.get(board.tobytes())
            if bits is not None:
                return bits
        arr = self._board_array(board)
        bits = self._opt_by_bytes[arr.tobytes()] = self._opt_bits_marks(*self._array_marks(arr))
        return bits

    def value_by_key(self, key: int) -> int:
        """:meth:`value` of the board with base-3 key ``key``."""
        return self._value_marks(*self._key_marks(key))

    def optimal_bits_by_key(self, key: int) -> int:
        """:meth:`optimal_mask_bits` of the board with base-3 key ``key``."""
        return self._opt_bits_marks(*self._key_marks(key))

    def optimal_bits_from_marks(self, x_mask: int, o_mask: int) -> int:
        """:meth:`optimal_mask_bits` from bitboards (bit ``c`` set iff X/O holds cell ``c``): the envs' per-step
        path, one dict lookup once the position is known."""
        try:
            if not (x_mask | o_mask) >> self.n:  # masks in range, so the packed key below is unambiguous
                bits = self._opt.get(x_mask | o_mask << self.n)
                if bits is not None:
                    return bits
        except TypeError:
            pass  # not ints: the checked path below says what is wrong
        return self._opt_bits_marks(*self._checked_marks(x_mask, o_mask))

    def tables(self) -> dict[str, np.ndarray]:
        """Read-only tables over every base-3 key (``rows * cols <= 12``), for the vector env: ``"value"`` int8
        ``(3**N,)``, ``"move_values"`` int8 ``(3**N, N)`` (both :data:`UNREACHABLE` for keys no game reaches),
        ``"optimal_bits"`` uint16 ``(3**N,)`` (0 for finished or unreachable keys), ``"reachable"`` bool."""
        if self.n > TABLE_MAX_CELLS:
            raise ValueError(
                f"tables() needs rows*cols <= {TABLE_MAX_CELLS} (one entry per base-3 key, 3**N of them), got "
                f"{self.rows}x{self.cols} = {self.n} cells; use value() or optimal_bits_from_marks() instead")
        if self._tables is None:
            if self._reachable is None:
                self._build_complete()
            self._tables = self._build_arrays()
        return self._tables

    # ------------------------------------------------------------------ validation
    def _board_array(self, board: Any) -> np.ndarray:
        arr = np.asarray(board)
        if arr.shape == (self.rows, self.cols):
            arr = arr.reshape(-1)
        if arr.shape != (self.n,):
            raise ValueError(f"board must have shape ({self.n},) or ({self.rows}, {self.cols}) for a "
                             f"{self.rows}x{self.cols} game, got shape {arr.shape}")
        if not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"board must hold integers 0 (empty), 1 (X) or 2 (O), got dtype {arr.dtype}")
        bad = np.flatnonzero((arr < 0) | (arr > 2))
        if bad.size:
            raise ValueError(f"board cells must be 0 (empty), 1 (X) or 2 (O), got {arr[bad[0]].item()!r} "
                             f"at cell {bad[0]}")
        return arr.astype(np.int8, copy=False)

    def _array_marks(self, digits: np.ndarray) -> tuple[int, int]:
        x, o = int(self._bit_weights[digits == 1].sum()), int(self._bit_weights[digits == 2].sum())
        self._check_position(x, o)
        return x, o

    def _key_marks(self, key: Any) -> tuple[int, int]:
        if not _is_int(key) or not 0 <= key < 3 ** self.n:
            raise ValueError(f"key must be an int in [0, 3**{self.n}) (a base-3 board code), got {key!r}")
        return self._array_marks(int(key) // self._pow3 % 3)

    def _checked_marks(self, x_mask: Any, o_mask: Any) -> tuple[int, int]:
        for name, mask in (("x_mask", x_mask), ("o_mask", o_mask)):
            if not _is_int(mask):
                raise TypeError(f"{name} must be an int bitboard, got {mask!r} of type {type(mask).__name__}")
            if not 0 <= mask <= self._full:
                raise ValueError(f"{name} must be a bitboard in [0, 2**{self.n}) for {self.n} cells, got {mask!r}")
        x, o = int(x_mask), int(o_mask)
        if x & o:
            raise ValueError(f"x_mask and o_mask overlap on cells {[c for c in range(self.n) if x & o >> c & 1]}")
        self._check_position(x, o)
        return x, o

    def _lines_of(self, marks: int) -> list[int]:
        return [line for line in self._line_masks if marks & line == line]

    def _check_position(self, x: int, o: int) -> None:
        """ValueError unless ``(x, o)`` arises in play (X first, the game stops at the first line)."""
        nx, no = x.bit_count(), o.bit_count()
        if nx - no not in (0, 1):
            raise ValueError(f"board has {nx} X marks and {no} O marks; X moves first, so X must have as many "
                             "marks as O or one more")
        mover, last, names = (x, o, "XO") if nx == no else (o, x, "OX")
        if self._lines_of(mover):
            raise ValueError(f"board: {names[0]} (the player to move) already has {self.k} in a row, so the game "
                             f"ended before {names[1]}'s last move; no game reaches this position")
        last_lines = self._lines_of(last)
        if last_lines and not functools.reduce(operator.and_, last_lines):
            raise ValueError(f"board: {names[1]} has {self.k}-in-a-row lines that no single last move completes "
                             "together (the game stops at the first line); no game reaches this position")

    # ------------------------------------------------------------------ answers from checked marks
    def _terminal_value(self, x: int, o: int) -> int | None:
        """Value of a finished position for the player to move, None while the game goes on."""
        if self._lines_of(o if x.bit_count() == o.bit_count() else x):
            return -1
        return 0 if x | o == self._full else None

    def _ensure_complete(self) -> None:
        if self._use_complete and self._reachable is None:
            self._build_complete()

    def _value_marks(self, x: int, o: int) -> int:
        self._ensure_complete()
        packed = x | o << self.n
        value = self._values.get(packed)
        if value is None:
            value = self._terminal_value(x, o)
            if value is None:
                value = self._search(x, o)
            self._values[packed] = value
        return value

    def _move_values_marks(self, x: int, o: int) -> np.ndarray:
        out = np.full(self.n, ILLEGAL, dtype=np.int8)
        if self._terminal_value(x, o) is not None:
            return out
        x_to_move = x.bit_count() == o.bit_count()
        for cell in range(self.n):
            bit = 1 << cell
            if not (x | o) & bit:
                out[cell] = -(self._value_marks(x | bit, o) if x_to_move else self._value_marks(x, o | bit))
        return out

    def _opt_bits_marks(self, x: int, o: int) -> int:
        self._ensure_complete()  # on small boards this fills _opt with every reachable position
        packed = x | o << self.n
        bits = self._opt.get(packed)
        if bits is None:
            # Exact child values rather than null-window tests: in play the next position queried is one of
            # these children, whose cached exact value then answers its own query (measured faster overall).
            values = self._move_values_marks(x, o)
            best = values.max()
            bits = 0 if best == ILLEGAL else sum(1 << int(c) for c in np.flatnonzero(values == best))
            self._opt[packed] = bits
        return bits

    # ------------------------------------------------------------------ complete table (small boards)
    def _build_complete(self) -> None:
        """Memoised negamax over every reachable position, finished ones included."""
        n, full = self.n, self._full
        lines_through = tuple(tuple(line for line in self._line_masks if line >> c & 1) for c in range(n))
        values: dict[int, int] = {}
        opt: dict[int, int] = {}

        def solve(x: int, o: int, x_to_move: bool) -> int:
            packed = x | o << n
            known = values.get(packed)
            if known is not None:
                return known
            occupied = x | o
            mover = x if x_to_move else o
            best, best_bits = -2, 0
            for cell in range(n):
                bit = 1 << cell
                if occupied & bit:
                    continue
                child_x, child_o = (x | bit, o) if x_to_move else (x, o | bit)
                child = child_x | child_o << n
                if any((mover | bit) & line == line for line in lines_through[cell]):
                    values[child], opt[child], move_value = -1, 0, 1
                elif occupied | bit == full:
                    values[child], opt[child], move_value = 0, 0, 0
                else:
                    move_value = -solve(child_x, child_o, not x_to_move)
                if move_value > best:
                    best, best_bits = move_value, bit
                elif move_value == best:
                    best_bits |= bit
            values[packed], opt[packed] = best, best_bits
            return best

        solve(0, 0, True)
        self._values.update(values)
        self._opt.update(opt)
        self._reachable = values

    def _build_arrays(self) -> dict[str, np.ndarray]:
        n, reachable_values = self.n, self._reachable
        assert reachable_values is not None
        packed = np.fromiter(reachable_values, np.int64, len(reachable_values))
        shifts = np.arange(n)
        digits = (packed[:, None] >> shifts & 1) + 2 * (packed[:, None] >> (shifts + n) & 1)
        keys = digits @ self._pow3
        value = np.full(3 ** n, UNREACHABLE, dtype=np.int8)
        value[keys] = np.fromiter(reachable_values.values(), np.int8, len(reachable_values))
        optimal_bits = np.zeros(3 ** n, dtype=np.uint16)
        optimal_bits[keys] = [self._opt[p] for p in reachable_values]
        x_to_move = (digits == 1).sum(1) == (digits == 2).sum(1)
        child_keys = keys[:, None] + np.where(x_to_move, 1, 2)[:, None] * self._pow3[None, :]
        empty = digits == 0
        legal = empty & (optimal_bits[keys] != 0)[:, None]  # every unfinished position has an optimal move
        move_values = np.full((3 ** n, n), UNREACHABLE, dtype=np.int8)
        move_values[keys] = np.where(legal, -value[np.where(empty, child_keys, 0)], ILLEGAL)
        tables = {"value": value, "move_values": move_values, "optimal_bits": optimal_bits,
                  "reachable": value != UNREACHABLE}
        for array in tables.values():
            array.flags.writeable = False
        return tables
