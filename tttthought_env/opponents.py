"""Built-in opponents: they only move, never think. Each rule is written once, as a function of the position.

A rule is a *candidate function*: from the X and O bitmasks of a position (bit ``c`` set iff that player
holds cell ``c``) it returns the bitmask of the cells the opponent picks among. It uses only
``& | ~ ^ << >> + - *`` and comparisons (a choice is a multiplication by a boolean, never an ``if``), so
the same function runs on Python ints (the single env, one game) and on integer arrays of NumPy or
PyTorch (the vector env, a batch of games).

The single env's pick among the candidates draws one ``rng.random()`` ``u`` (none when there is only one
candidate) and takes the ``floor(u * count)``-th candidate in increasing cell order; an epsilon-mixed
opponent first draws one ``rng.random()`` coin: below ``epsilon`` it picks among all free cells.

Every opponent object has two entry points that choose the same cell with the same draws:
``opponent(board, rng)`` (``board`` the read-only int8 board, 0 empty, 1 X, 2 O, row-major; PettingZoo
policies and ``tttthought play`` call it) and ``opponent.reply(x, o, rng)`` (from bitmasks; the envs call
it). All built-in opponents are picklable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .core import EMPTY, O, X, check_int, check_real, winning_lines
from .solver import get_solver

__all__ = [
    "OPPONENTS",
    "CallableOpponent",
    "EpsilonOpponent",
    "HeuristicOpponent",
    "HeuristicTables",
    "MinimaxOpponent",
    "Opponent",
    "RandomOpponent",
    "board_of",
    "cells_of",
    "check_opponent_move",
    "completing_cells",
    "epsilon_candidates",
    "heuristic_candidates",
    "heuristic_rule",
    "heuristic_tables",
    "make_opponent",
    "marks_of",
    "pick_from_bits",
    "pick_uniform",
    "random_candidates",
    "random_opponent",
]

#: Names :func:`make_opponent` accepts.
OPPONENTS: tuple[str, ...] = ("random", "minimax", "heuristic")

#: A user's opponent: ``(board, rng) -> cell``.
PolicyFn = Callable[[np.ndarray, np.random.Generator], int]


# ============================================================================ candidate functions
# Each takes and returns bitmasks: Python ints, or integer arrays of one dtype (then every constant must
# fit that dtype, see heuristic_tables(word_bits=...)).


def random_candidates(x: Any, o: Any, all_cells: int) -> Any:
    """The free cells (the random opponent's candidates); ``all_cells`` is ``(1 << N) - 1``."""
    return all_cells & ~(x | o)


def epsilon_candidates(free: Any, base: Any, take_free: Any) -> Any:
    """The epsilon mix: ``free`` where the coin ``take_free`` (``u_coin < epsilon``) came up, else ``base``."""
    return free * take_free + base * (take_free ^ True)


def completing_cells(mine: Any, theirs: Any, line_masks: tuple[int, ...]) -> Any:
    """Cells where ``mine`` would complete a winning line: the line's only cell not ``mine``, none ``theirs``."""
    cells = mine & 0  # a zero of the type of the masks
    for line in line_masks:
        rest = line & ~mine
        # rest & (rest - 1) clears the lowest set bit: zero iff rest has at most one cell
        one_missing = (rest != 0) & ((rest & (rest - 1)) == 0) & ((line & theirs) == 0)
        cells = cells | rest * one_missing
    return cells


@dataclass(frozen=True)
class HeuristicTables:
    """The constants of the heuristic for one board, as bitmasks (Python ints, or signed to a word size)."""

    line_masks: tuple[int, ...]
    centre: int  # the central cell(s): one per odd dimension, two per even one
    corners: int
    all_cells: int


def _signed(value: int, bits: int | None) -> int:
    """``value`` (an unsigned bit pattern) as the signed ``bits``-bit integer with the same bits (None: as is)."""
    if bits is None or not value >> (bits - 1) & 1:
        return value
    return value - (1 << bits)


def heuristic_tables(rows: int, cols: int, k: int, word_bits: int | None = None) -> HeuristicTables:
    """:class:`HeuristicTables` of a board; ``word_bits`` (e.g. 64 for int64 arrays) makes every mask fit
    a signed word of that size, so that the candidate functions can run on arrays of that dtype."""
    n = rows * cols
    mid_rows = sorted({(rows - 1) // 2, rows // 2})
    mid_cols = sorted({(cols - 1) // 2, cols // 2})
    centre = sum(1 << (r * cols + c) for r in mid_rows for c in mid_cols)
    corners = sum(1 << c for c in {0, cols - 1, n - cols, n - 1})
    lines = tuple(_signed(sum(1 << c for c in line), word_bits) for line in winning_lines(rows, cols, k))
    return HeuristicTables(lines, _signed(centre, word_bits), _signed(corners, word_bits),
                           _signed((1 << n) - 1, word_bits))


def heuristic_rule(mover: Any, other: Any, tables: HeuristicTables) -> Any:
    """The heuristic's candidates for the player ``mover`` to move: its winning cells, else the cells
    blocking ``other``'s immediate win, else the free centre cells, else the free corners, else every
    free cell (0 only on a full board)."""
    free = tables.all_cells & ~(mover | other)
    candidates = completing_cells(mover, other, tables.line_masks)
    # "else": each later rule counts only where every earlier one found nothing
    candidates = candidates + completing_cells(other, mover, tables.line_masks) * (candidates == 0)
    candidates = candidates + (tables.centre & free) * (candidates == 0)
    candidates = candidates + (tables.corners & free) * (candidates == 0)
    return candidates + free * (candidates == 0)


def int_popcount(bits: int) -> int:
    return bits.bit_count()


def heuristic_candidates(x: Any, o: Any, tables: HeuristicTables,
                         popcount: Callable[[Any], Any] = int_popcount) -> Any:
    """:func:`heuristic_rule` from the X and O bitmasks: X moves when both have as many marks."""
    x_moves = popcount(x) == popcount(o)
    o_moves = x_moves ^ True
    return heuristic_rule(x * x_moves + o * o_moves, o * x_moves + x * o_moves, tables)


# ============================================================================ picking and boards
_CELLS_OF_BITS: dict[int, tuple[int, ...]] = {}


def cells_of(bits: int) -> tuple[int, ...]:
    """The cells of a bitmask in increasing order (cached for boards of up to 16 cells)."""
    cells = _CELLS_OF_BITS.get(bits)
    if cells is None:
        cells = tuple(c for c in range(bits.bit_length()) if bits >> c & 1)
        if bits < 1 << 16:
            _CELLS_OF_BITS[bits] = cells
    return cells


def pick_uniform(cells: tuple[int, ...] | np.ndarray, rng: np.random.Generator) -> int:
    """A uniform choice among ``cells``, with one ``rng.random()`` draw (no draw for a single cell).

    ``rng.random()`` costs a fraction of ``rng.integers``; every opponent picks through here, so both
    entry points of an opponent draw the same numbers and choose the same cell.
    """
    if len(cells) == 1:
        return int(cells[0])
    return int(cells[int(rng.random() * len(cells))])


def pick_from_bits(bits: int, rng: np.random.Generator) -> int:
    """:func:`pick_uniform` among the cells of a candidate bitmask."""
    return pick_uniform(cells_of(bits), rng)


def marks_of(board: np.ndarray) -> tuple[int, int]:
    """The X and O bitmasks of an int8 board."""
    x = o = 0
    for cell, mark in enumerate(np.asarray(board).tolist()):
        if mark == X:
            x |= 1 << cell
        elif mark == O:
            o |= 1 << cell
    return x, o


def board_of(x: int, o: int, n_cells: int) -> np.ndarray:
    """The read-only int8 board (0 empty, 1 X, 2 O) of bitmasks ``x`` and ``o``."""
    board = np.zeros(n_cells, np.int8)
    for cell in range(n_cells):
        if x >> cell & 1:
            board[cell] = X
        elif o >> cell & 1:
            board[cell] = O
    board.flags.writeable = False
    return board


def _no_empty_cell(board: np.ndarray) -> ValueError:
    return ValueError(f"the opponent was asked to move on a full board {np.asarray(board).tolist()}")


# ============================================================================ opponent objects
class Opponent:
    """Base of the opponents :func:`make_opponent` returns: ``self(board, rng)`` and ``self.reply(x, o, rng)``.

    A built-in opponent defines :meth:`candidates`; both entry points pick among them with
    :func:`pick_from_bits`. ``n_cells`` is the board size (None: only the board entry point works).
    """

    n_cells: int | None = None
    #: Whether the opponent picks uniformly among :meth:`candidates` (the built-in rules do).
    by_candidates = True

    def candidates(self, x: int, o: int, n_cells: int) -> int:
        """Bitmask of the cells to pick among; ValueError where the opponent cannot move."""
        raise NotImplementedError

    def __call__(self, board: np.ndarray, rng: np.random.Generator) -> int:
        x, o = marks_of(board)
        return pick_from_bits(self.candidates(x, o, int(np.asarray(board).size)), rng)

    def reply(self, x: int, o: int, rng: np.random.Generator) -> int:
        """The cell ``self(board, rng)`` would choose on the board of bitmasks ``x`` and ``o``, with the same draws."""
        return self.reply_on(x, o, self._size(), rng)

    def reply_on(self, x: int, o: int, n_cells: int, rng: np.random.Generator) -> int:
        """:meth:`reply` on a board of ``n_cells`` cells."""
        return pick_from_bits(self.candidates(x, o, n_cells), rng)

    def _size(self) -> int:
        if self.n_cells is None:
            raise ValueError(f"{self!r} does not know its board size; build it with make_opponent(..., rows=, cols=)")
        return self.n_cells


class RandomOpponent(Opponent):
    """Uniform among the empty cells. ``RandomOpponent()`` works on any board through ``__call__``."""

    __name__ = "random_opponent"

    def __init__(self, n_cells: int | None = None) -> None:
        self.n_cells = n_cells

    def __repr__(self) -> str:
        return "random_opponent" if self.n_cells is None else f"RandomOpponent(n_cells={self.n_cells})"

    def __reduce__(self) -> Any:
        if self.n_cells is None:
            return "random_opponent"  # pickles as the module-level instance
        return (RandomOpponent, (self.n_cells,))

    def candidates(self, x: int, o: int, n_cells: int) -> int:
        free = random_candidates(x, o, (1 << n_cells) - 1)
        if not free:
            raise _no_empty_cell(board_of(x, o, n_cells))
        return free


#: Uniform among the empty cells of any board: ``random_opponent(board, rng) -> cell``.
random_opponent = RandomOpponent()


class MinimaxOpponent(Opponent):
    """Perfect play: uniformly random among the optimal moves of the exact solver.

    No cache of its own: ``Solver.optimal_bits_from_marks`` is already one dict lookup per known position.
    """

    def __init__(self, rows: int = 3, cols: int = 3, k: int = 3) -> None:
        self.solver = get_solver(rows, cols, k)  # validates the arguments, rejects boards it cannot solve
        self.rows, self.cols, self.k = self.solver.rows, self.solver.cols, self.solver.k
        self.n_cells = self.rows * self.cols

    def __repr__(self) -> str:
        return f"MinimaxOpponent(rows={self.rows}, cols={self.cols}, k={self.k})"

    def candidates(self, x: int, o: int, n_cells: int) -> int:
        bits = self.solver.optimal_bits_from_marks(x, o)  # validates the masks
        if bits == 0:
            raise ValueError(f"MinimaxOpponent was asked to move on a finished board {board_of(x, o, n_cells).tolist()}")
        return bits


class HeuristicOpponent(Opponent):
    """Win now if possible, else block the opponent's immediate win, else a centre cell, else a corner, else random.

    Ties (several winning, blocking, centre or corner cells) are broken uniformly with ``rng``.
    """

    def __init__(self, rows: int = 3, cols: int = 3, k: int = 3) -> None:
        self.rows = check_int("rows", rows, 1)
        self.cols = check_int("cols", cols, 1)
        self.k = check_int("k", k, 1)
        if self.k > max(self.rows, self.cols):
            raise ValueError(f"k must be between 1 and max(rows, cols) = {max(self.rows, self.cols)}, got k={k!r}")
        self.n_cells = self.n = self.rows * self.cols
        self.tables = heuristic_tables(self.rows, self.cols, self.k)
        self.centre_cells = cells_of(self.tables.centre)
        self.corner_cells = cells_of(self.tables.corners)

    def __repr__(self) -> str:
        return f"HeuristicOpponent(rows={self.rows}, cols={self.cols}, k={self.k})"

    def candidates(self, x: int, o: int, n_cells: int) -> int:
        bits = heuristic_candidates(x, o, self.tables)
        if not bits:
            raise _no_empty_cell(board_of(x, o, n_cells))
        return bits


class CallableOpponent(Opponent):
    """A user's callable ``(board, rng) -> cell`` as an :class:`Opponent`; its moves are checked."""

    by_candidates = False

    def __init__(self, fn: PolicyFn, n_cells: int | None = None) -> None:
        if not callable(fn):
            raise TypeError(f"fn must be an opponent callable (board, rng) -> cell, got {fn!r}")
        self.fn = fn
        self.n_cells = n_cells
        self.__name__ = getattr(fn, "__name__", "callable")

    def __repr__(self) -> str:
        return f"CallableOpponent({self.fn!r})"

    def __call__(self, board: np.ndarray, rng: np.random.Generator) -> int:
        return check_opponent_move(self.fn(board, rng), board, self.fn)

    def reply(self, x: int, o: int, rng: np.random.Generator) -> int:
        return self(board_of(x, o, self._size()), rng)


class EpsilonOpponent(Opponent):
    """With probability ``epsilon`` a uniformly random empty cell, else the move of ``base``.

    Draws one ``rng.random()`` coin per call whatever ``epsilon`` is, so seeded runs stay comparable.
    """

    by_candidates = False

    def __init__(self, base: Opponent | PolicyFn, epsilon: float, n_cells: int | None = None) -> None:
        if not callable(base):
            raise TypeError(f"base must be an opponent callable (board, rng) -> cell, got {base!r}")
        self.base = base
        self.epsilon = check_real("epsilon", epsilon, 0, 1)
        self.n_cells = n_cells if n_cells is not None else getattr(base, "n_cells", None)
        self._base_opponent = base if isinstance(base, Opponent) else CallableOpponent(base, self.n_cells)

    def __repr__(self) -> str:
        return f"EpsilonOpponent({self.base!r}, epsilon={self.epsilon})"

    def __call__(self, board: np.ndarray, rng: np.random.Generator) -> int:
        if rng.random() < self.epsilon:
            return random_opponent(board, rng)
        return self.base(board, rng)

    def reply(self, x: int, o: int, rng: np.random.Generator) -> int:
        n_cells = self._size()
        take_free = rng.random() < self.epsilon
        base = self._base_opponent
        if not base.by_candidates:  # a user's callable (or another mix) picks its own cell
            return random_opponent.reply_on(x, o, n_cells, rng) if take_free else base.reply(x, o, rng)
        free = random_opponent.candidates(x, o, n_cells)
        # The base is asked only when it is used: a minimax base refuses a finished board.
        base_bits = 0 if take_free else base.candidates(x, o, n_cells)
        return pick_from_bits(epsilon_candidates(free, base_bits, take_free), rng)


def make_opponent(
    opponent: str | PolicyFn, *, rows: int, cols: int, k: int, epsilon: float = 0.0
) -> Opponent:
    """Build an opponent from a name in :data:`OPPONENTS` or a callable ``(board, rng) -> cell``.

    ``epsilon`` (the env's ``opponent_epsilon``) in ``[0, 1]`` mixes in uniform random moves via
    :class:`EpsilonOpponent`. A user callable comes back wrapped in :class:`CallableOpponent`, which
    checks its moves with :func:`check_opponent_move`.
    """
    epsilon = check_real("opponent_epsilon", epsilon, 0, 1)
    base: Opponent
    if isinstance(opponent, str):
        if opponent == "random":
            base = RandomOpponent(rows * cols)
        elif opponent == "minimax":
            base = MinimaxOpponent(rows, cols, k)
        elif opponent == "heuristic":
            base = HeuristicOpponent(rows, cols, k)
        else:
            raise ValueError(
                f"opponent must be one of {OPPONENTS} or a callable (board, rng) -> cell, got {opponent!r}"
            )
    elif isinstance(opponent, Opponent):
        base = opponent
    elif callable(opponent):
        base = CallableOpponent(opponent, rows * cols)
    else:
        raise TypeError(
            f"opponent must be one of {OPPONENTS} or a callable (board, rng) -> cell, "
            f"got {opponent!r} of type {type(opponent).__name__}"
        )
    return EpsilonOpponent(base, epsilon, rows * cols) if epsilon > 0.0 else base


def check_opponent_move(cell: object, board: np.ndarray, opponent: object = None) -> int:
    """Return ``cell`` as an int if it is an empty cell of ``board``, else ValueError saying what was returned.

    ``opponent`` (the callable, or its name) only improves the message.
    """
    n = int(np.asarray(board).size)
    who = "the opponent" if opponent is None else f"opponent {getattr(opponent, '__name__', opponent)!r}"
    if isinstance(cell, np.ndarray) and cell.shape == () and np.issubdtype(cell.dtype, np.integer):
        cell = cell.item()
    if isinstance(cell, (bool, np.bool_)) or not isinstance(cell, (int, np.integer)):
        # ValueError, not TypeError: the env reports every bad opponent move the same way.
        raise ValueError(  # noqa: TRY004
            f"{who} must return an int cell in [0, {n}) that is empty, got {cell!r} of type {type(cell).__name__}"
        )
    if not 0 <= cell < n:
        raise ValueError(f"{who} must return an int cell in [0, {n}) that is empty, got {cell!r}")
    if board[int(cell)] != EMPTY:
        raise ValueError(f"{who} returned cell {int(cell)}, which is occupied; it must return an empty cell")
    return int(cell)
