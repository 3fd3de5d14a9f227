"""Built-in opponents: they only move, never think. Each rule is written once, as a function of the position.

A *candidate function* maps the X and O bitmasks of a position to the bitmask of the cells the opponent
picks among, with operators only (a choice is a multiplication by a boolean, never an ``if``): the same code
runs on Python ints (the single env) and on NumPy or PyTorch integer arrays (the vector env). The pick draws
one ``rng.random()`` ``u`` (none for a single candidate) and takes the ``floor(u * count)``-th candidate in
cell order; an epsilon mix first draws a ``rng.random()`` coin. ``opponent(board, rng)`` (a read-only int8
board) and ``opponent.reply(x, o, rng)`` (bitmasks, for the envs) choose the same cell with the same draws.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .core import EMPTY, O, X, check_real, winning_lines
from .rewards import int_popcount
from .config import check_game
from .solver import get_solver

__all__ = ["OPPONENTS", "CallableOpponent", "EpsilonOpponent", "HeuristicOpponent", "HeuristicTables",
           "MinimaxOpponent", "Opponent", "RandomOpponent", "board_of", "cells_of", "check_opponent_move",
           "completing_cells", "epsilon_candidates", "heuristic_candidates", "heuristic_rule", "heuristic_tables",
           "make_opponent", "marks_of", "pick_from_bits", "random_candidates", "random_opponent"]

OPPONENTS: tuple[str, ...] = ("random", "minimax", "heuristic")  #: names make_opponent accepts
PolicyFn = Callable[[np.ndarray, np.random.Generator], int]  #: a user's opponent: (board, rng) -> cell


# ============================ candidate functions: ints, or arrays of one dtype (see heuristic_tables(word_bits))
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
        cells = cells | rest * ((rest != 0) & ((rest & (rest - 1)) == 0) & ((line & theirs) == 0))
    return cells


@dataclass(frozen=True)
class HeuristicTables:
    """The constants of the heuristic for one board, as bitmasks (Python ints, or signed to a word size)."""

    line_masks: tuple[int, ...]
    centre: int  # the central cell(s): one per odd dimension, two per even one
    corners: int
    all_cells: int


def heuristic_tables(rows: int, cols: int, k: int, word_bits: int | None = None) -> HeuristicTables:
    """:class:`HeuristicTables` of a board; ``word_bits`` (e.g. 64 for int64 arrays) stores each mask as the
    signed ``word_bits``-bit integer with the same bits, so that the candidate functions run on that dtype."""
    def signed(mask: int) -> int:
        return mask - (1 << word_bits) if word_bits is not None and mask >> (word_bits - 1) & 1 else mask

    n = rows * cols
    centre = sum(1 << (r * cols + c) for r in {(rows - 1) // 2, rows // 2} for c in {(cols - 1) // 2, cols // 2})
    corners = sum(1 << c for c in {0, cols - 1, n - cols, n - 1})
    lines = tuple(signed(sum(1 << c for c in line)) for line in winning_lines(rows, cols, k))
    return HeuristicTables(lines, signed(centre), signed(corners), signed((1 << n) - 1))


def heuristic_rule(mover: Any, other: Any, tables: HeuristicTables) -> Any:
    """The heuristic's candidates for ``mover``: its winning cells, else the cells blocking ``other``'s
    immediate win, else the free centre cells, else the free corners, else every free cell."""
    free = tables.all_cells & ~(mover | other)
    candidates = completing_cells(mover, other, tables.line_masks)
    # "else": each later rule counts only where every earlier one found nothing
    candidates = candidates + completing_cells(other, mover, tables.line_masks) * (candidates == 0)
    candidates = candidates + (tables.centre & free) * (candidates == 0)
    candidates = candidates + (tables.corners & free) * (candidates == 0)
    return candidates + free * (candidates == 0)


def heuristic_candidates(x: Any, o: Any, tables: HeuristicTables,
                         popcount: Callable[[Any], Any] = int_popcount) -> Any:
    """:func:`heuristic_rule` from the X and O bitmasks: X moves when both have as many marks."""
    x_moves = popcount(x) == popcount(o)
    o_moves = x_moves ^ True
    return heuristic_rule(x * x_moves + o * o_moves, o * x_moves + x * o_moves, tables)


# ============================================================================ picking and boards
@functools.lru_cache(maxsize=1 << 16)
def cells_of(bits: int) -> tuple[int, ...]:
    """The cells of a bitmask in increasing order (memoised)."""
    return tuple(c for c in range(bits.bit_length()) if bits >> c & 1)


def pick_from_bits(bits: int, rng: np.random.Generator) -> int:
    """A uniform choice among the cells of ``bits``, with one ``rng.random()`` (a fraction of the cost of
    ``rng.integers``; no draw for a single cell). Every opponent picks through here."""
    cells = cells_of(bits)
    return cells[0] if len(cells) == 1 else cells[int(rng.random() * len(cells))]


def marks_of(board: np.ndarray) -> tuple[int, int]:
    """The X and O bitmasks of an int8 board."""
    marks = np.asarray(board).tolist()
    return (sum(1 << c for c, mark in enumerate(marks) if mark == X),
            sum(1 << c for c, mark in enumerate(marks) if mark == O))


def board_of(x: int, o: int, n_cells: int) -> np.ndarray:
    """The read-only int8 board (0 empty, 1 X, 2 O) of bitmasks ``x`` and ``o``."""
    board = np.array([X if x >> c & 1 else O if o >> c & 1 else EMPTY for c in range(n_cells)], np.int8)
    board.flags.writeable = False
    return board


def _nonempty(bits: int, x: int, o: int, n_cells: int, who: str = "the opponent", kind: str = "full") -> int:
    if not bits:
        raise ValueError(f"{who} was asked to move on a {kind} board {board_of(x, o, n_cells).tolist()}")
    return bits


# ============================================================================ opponent objects
class Opponent:
    """An opponent: ``self(board, rng)`` and ``self.reply(x, o, rng)``; the built-in ones pick among their
    :meth:`candidates`. ``n_cells`` is the board size (None: only the board entry point works)."""

    n_cells: int | None = None
    by_candidates = True  #: whether the opponent picks uniformly among candidates() (the built-in rules do)

    def candidates(self, x: int, o: int, n_cells: int) -> int:
        """Bitmask of the cells to pick among; ValueError where the opponent cannot move."""
        raise NotImplementedError

    def __call__(self, board: np.ndarray, rng: np.random.Generator) -> int:
        return pick_from_bits(self.candidates(*marks_of(board), int(np.asarray(board).size)), rng)

    def reply(self, x: int, o: int, rng: np.random.Generator) -> int:
        """The cell ``self(board, rng)`` would choose on the board of bitmasks ``x`` and ``o``, with the same draws."""
        return self.reply_on(x, o, self._size(), rng)

    def reply_on(self, x: int, o: int, n_cells: int, rng: np.random.Generator) -> int:
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
        # The sizeless one pickles as the module-level instance.
        return "random_opponent" if self.n_cells is None else (RandomOpponent, (self.n_cells,))

    def candidates(self, x: int, o: int, n_cells: int) -> int:
        return _nonempty(random_candidates(x, o, (1 << n_cells) - 1), x, o, n_cells)


random_opponent = RandomOpponent()  #: uniform among the empty cells of any board: (board, rng) -> cell


class MinimaxOpponent(Opponent):
    """Perfect play: uniformly random among the optimal moves of the exact solver (no cache of its own:
    ``Solver.optimal_bits_from_marks`` is one dict lookup per known position)."""

    def __init__(self, rows: int = 3, cols: int = 3, k: int = 3) -> None:
        self.solver = get_solver(rows, cols, k)  # validates the arguments, rejects boards it cannot solve
        self.rows, self.cols, self.k = self.solver.rows, self.solver.cols, self.solver.k
        self.n_cells = self.rows * self.cols

    def __repr__(self) -> str:
        return f"MinimaxOpponent(rows={self.rows}, cols={self.cols}, k={self.k})"

    def candidates(self, x: int, o: int, n_cells: int) -> int:
        return _nonempty(self.solver.optimal_bits_from_marks(x, o), x, o, n_cells, "MinimaxOpponent", "finished")


class HeuristicOpponent(Opponent):
    """Win now if possible, else block the opponent's immediate win, else a centre cell, else a corner, else
    random; ties are broken uniformly with ``rng``."""

    def __init__(self, rows: int = 3, cols: int = 3, k: int = 3) -> None:
        self.rows, self.cols, self.k = check_game(rows, cols, k)
        self.n_cells = self.rows * self.cols
        self.tables = heuristic_tables(self.rows, self.cols, self.k)
        self.centre_cells = cells_of(self.tables.centre)
        self.corner_cells = cells_of(self.tables.corners)

    def __repr__(self) -> str:
        return f"HeuristicOpponent(rows={self.rows}, cols={self.cols}, k={self.k})"

    def candidates(self, x: int, o: int, n_cells: int) -> int:
        return _nonempty(heuristic_candidates(x, o, self.tables), x, o, n_cells)


class CallableOpponent(Opponent):
    """A user's callable ``(board, rng) -> cell`` as an :class:`Opponent`; its moves are checked."""

    by_candidates = False

    def __init__(self, fn: PolicyFn, n_cells: int | None = None) -> None:
        if not callable(fn):
            raise TypeError(f"fn must be an opponent callable (board, rng) -> cell, got {fn!r}")
        self.fn, self.n_cells = fn, n_cells
        self.__name__ = getattr(fn, "__name__", "callable")

    def __repr__(self) -> str:
        return f"CallableOpponent({self.fn!r})"

    def __call__(self, board: np.ndarray, rng: np.random.Generator) -> int:
        return check_opponent_move(self.fn(board, rng), board, self.fn)

    def reply(self, x: int, o: int, rng: np.random.Generator) -> int:
        return self(board_of(x, o, self._size()), rng)


class EpsilonOpponent(Opponent):
    """With probability ``epsilon`` a uniformly random empty cell, else the move of ``base``. Draws one
    ``rng.random()`` coin per call whatever ``epsilon`` is, so seeded runs stay comparable."""

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
        return random_opponent(board, rng) if rng.random() < self.epsilon else self.base(board, rng)

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


def make_opponent(opponent: str | PolicyFn, *, rows: int, cols: int, k: int, epsilon: float = 0.0) -> Opponent:
    """An opponent from a name in :data:`OPPONENTS` or a callable ``(board, rng) -> cell`` (wrapped in a
    :class:`CallableOpponent`, which checks its moves); ``epsilon`` in ``[0, 1]`` (the env's
    ``opponent_epsilon``) mixes in uniform random moves via :class:`EpsilonOpponent`."""
    epsilon = check_real("opponent_epsilon", epsilon, 0, 1)
    wanted = f"opponent must be one of {OPPONENTS} or a callable (board, rng) -> cell, got {opponent!r}"
    base: Opponent
    if isinstance(opponent, str):
        if opponent not in OPPONENTS:
            raise ValueError(wanted)
        base = (RandomOpponent(rows * cols) if opponent == "random" else
                MinimaxOpponent(rows, cols, k) if opponent == "minimax" else HeuristicOpponent(rows, cols, k))
    elif isinstance(opponent, Opponent):
        base = opponent
    elif callable(opponent):
        base = CallableOpponent(opponent, rows * cols)
    else:
        raise TypeError(f"{wanted} of type {type(opponent).__name__}")
    return EpsilonOpponent(base, epsilon, rows * cols) if epsilon > 0.0 else base


def check_opponent_move(cell: object, board: np.ndarray, opponent: object = None) -> int:
    """``cell`` as an int if it is an empty cell of ``board``, else ValueError saying what was returned
    (``opponent``, the callable or its name, only improves the message)."""
    n = int(np.asarray(board).size)
    who = "the opponent" if opponent is None else f"opponent {getattr(opponent, '__name__', opponent)!r}"
    if isinstance(cell, np.ndarray) and cell.shape == () and np.issubdtype(cell.dtype, np.integer):
        cell = cell.item()
    wanted = f"{who} must return an int cell in [0, {n}) that is empty, got {cell!r}"
    if isinstance(cell, (bool, np.bool_)) or not isinstance(cell, (int, np.integer)):
        # ValueError, not TypeError: the env reports every bad opponent move the same way.
        raise ValueError(f"{wanted} of type {type(cell).__name__}")  # noqa: TRY004
    if not 0 <= cell < n:
        raise ValueError(wanted)
    if board[int(cell)] != EMPTY:
        raise ValueError(f"{who} returned cell {int(cell)}, which is occupied; it must return an empty cell")
    return int(cell)
