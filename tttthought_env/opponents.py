"""Built-in opponents: callables ``(board, rng) -> cell`` that only move, never think.

``board`` is the read-only int8 board (0 empty, 1 X, 2 O, row-major) and ``rng`` a ``numpy.random.Generator``.
They also serve as PettingZoo policies and are all picklable. The Gymnasium env uses their bitboard path,
``choices_from_marks``, which names the cells to pick among; both paths draw the same numbers.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from functools import partial

import numpy as np

from .core import EMPTY, O, X, check_int, check_real, winning_lines
from .solver import get_solver

__all__ = [
    "OPPONENTS",
    "BitboardOpponent",
    "EpsilonOpponent",
    "HeuristicOpponent",
    "MinimaxOpponent",
    "Opponent",
    "RandomOpponent",
    "cells_of",
    "check_opponent_move",
    "make_opponent",
    "pick_uniform",
    "random_opponent",
    "uniform_draw",
]

#: An opponent: ``(board, rng) -> cell`` on an unfinished board with at least one empty cell.
Opponent = Callable[[np.ndarray, np.random.Generator], int]
#: Names :func:`make_opponent` accepts.
OPPONENTS: tuple[str, ...] = ("random", "minimax", "heuristic")


def _no_empty_cell(board: np.ndarray) -> ValueError:
    return ValueError(f"the opponent was asked to move on a full board {np.asarray(board).tolist()}")


def pick_uniform(cells: tuple[int, ...] | np.ndarray, rng: np.random.Generator) -> int:
    """A uniform choice among ``cells``, with one ``rng.random()`` draw (no draw for a single cell).

    ``rng.random()`` costs a fraction of ``rng.integers``; every opponent picks through here, so the
    board path and the bitboard path of an opponent draw the same numbers and choose the same cell.
    """
    if len(cells) == 1:
        return int(cells[0])
    return int(cells[int(rng.random() * len(cells))])


def uniform_draw(rng: np.random.Generator) -> Callable[[], float]:
    """A function that returns what ``rng.random()`` would, drawing from ``rng``'s own stream.

    It calls the bit generator's ``next_double``, the function ``Generator.random`` applies per
    number, through numpy's documented ctypes interface, skipping the argument parsing and the lock:
    about half the cost per call, and the same numbers for every numpy bit generator. Like any
    unlocked draw, it must not race with another thread drawing from ``rng``. Falls back to
    ``rng.random`` for anything that is not a numpy ``Generator``.
    """
    try:
        interface = rng.bit_generator.ctypes
        address = ctypes.cast(interface.next_double, ctypes.c_void_p).value
    except AttributeError:
        return rng.random
    # PYFUNCTYPE keeps the GIL: releasing it around a call this short costs more than the call.
    next_double = ctypes.PYFUNCTYPE(ctypes.c_double, ctypes.c_void_p)(address)
    draw = partial(next_double, interface.state_address)
    draw.bit_generator = rng.bit_generator  # the state the address points into lives as long as draw
    return draw


class BitboardOpponent:
    """Base of the built-in opponents: the bitboard path ``choices_from_marks`` and the move it implies."""

    def choices_from_marks(self, x_mask: int, o_mask: int, free_mask: int, board: np.ndarray,
                           rng: np.random.Generator, draw: Callable[[], float]) -> tuple[int, ...]:
        """The cells to pick among uniformly, after any draw of the opponent's own (made with ``draw``)."""
        raise NotImplementedError

    def move_from_marks(self, x_mask: int, o_mask: int, free_mask: int, board: np.ndarray,
                        rng: np.random.Generator) -> int:
        """The same choice as ``self(board, rng)``, from the core's bitboards."""
        return pick_uniform(self.choices_from_marks(x_mask, o_mask, free_mask, board, rng, rng.random), rng)


_CELLS_OF_BITS: dict[int, tuple[int, ...]] = {}


def cells_of(bits: int) -> tuple[int, ...]:
    """The cells of a bitmask in increasing order (cached for boards of up to 16 cells)."""
    cells = _CELLS_OF_BITS.get(bits)
    if cells is None:
        cells = tuple(c for c in range(bits.bit_length()) if bits >> c & 1)
        if bits < 1 << 16:
            _CELLS_OF_BITS[bits] = cells
    return cells


class RandomOpponent(BitboardOpponent):
    """Uniform among the empty cells."""

    __name__ = "random_opponent"

    def __repr__(self) -> str:
        return "random_opponent"

    def __reduce__(self) -> str:
        return "random_opponent"  # pickles as the module-level instance

    def __call__(self, board: np.ndarray, rng: np.random.Generator) -> int:
        empty = (board == EMPTY).nonzero()[0]
        if empty.size == 0:
            raise _no_empty_cell(board)
        return pick_uniform(empty, rng)

    def choices_from_marks(self, x_mask: int, o_mask: int, free_mask: int, board: np.ndarray,
                           rng: np.random.Generator, draw: Callable[[], float]) -> tuple[int, ...]:
        """The empty cells, from the core's bitboards; ``pick_uniform`` among them is ``self(board, rng)``."""
        if not free_mask:
            raise _no_empty_cell(board)
        return cells_of(free_mask)


#: Uniform among the empty cells: ``random_opponent(board, rng) -> cell``.
random_opponent = RandomOpponent()


class MinimaxOpponent(BitboardOpponent):
    """Perfect play: uniformly random among the optimal moves of the exact solver."""

    #: Its choices (the optimal cells) depend on the position alone: no draw, no history.
    choices_by_position = True

    def __init__(self, rows: int = 3, cols: int = 3, k: int = 3) -> None:
        self.solver = get_solver(rows, cols, k)  # validates the arguments, rejects boards it cannot solve
        self.rows, self.cols, self.k = self.solver.rows, self.solver.cols, self.solver.k
        self._n = self.rows * self.cols
        # Optimal cells by packed position (x | o << N), filled as positions come up: one dict lookup
        # per move. Only for boards small enough that every position fits (3**12 = 531,441 at most).
        self._cells_by_packed: dict[int, tuple[int, ...]] = {}
        self._cache_choices = self._n <= 12

    def __repr__(self) -> str:
        return f"MinimaxOpponent(rows={self.rows}, cols={self.cols}, k={self.k})"

    def _choose(self, bits: int, board: np.ndarray, rng: np.random.Generator) -> int:
        if bits == 0:
            raise ValueError(f"MinimaxOpponent was asked to move on a finished board {np.asarray(board).tolist()}")
        return pick_uniform(cells_of(bits), rng)

    def __call__(self, board: np.ndarray, rng: np.random.Generator) -> int:
        return self._choose(self.solver.optimal_mask_bits(board), board, rng)

    def choices_from_marks(self, x_mask: int, o_mask: int, free_mask: int, board: np.ndarray,
                           rng: np.random.Generator, draw: Callable[[], float]) -> tuple[int, ...]:
        """The optimal cells, from the core's bitboards; ``pick_uniform`` among them is ``self(board, rng)``."""
        n = self._n
        try:
            if not (x_mask | o_mask) >> n:  # masks in range, so the packed key is unambiguous
                cells = self._cells_by_packed.get(x_mask | o_mask << n)
                if cells is not None:
                    return cells
        except TypeError:
            pass  # not ints: the solver's checked path below says what is wrong
        bits = self.solver.optimal_bits_from_marks(x_mask, o_mask)  # validates the masks
        if bits == 0:
            raise ValueError(f"MinimaxOpponent was asked to move on a finished board {np.asarray(board).tolist()}")
        cells = cells_of(bits)
        if self._cache_choices:
            self._cells_by_packed[int(x_mask) | int(o_mask) << n] = cells
        return cells


class HeuristicOpponent(BitboardOpponent):
    """Win now if possible, else block the opponent's immediate win, else a centre cell, else a corner, else random.

    Ties (several winning, blocking, centre or corner cells) are broken uniformly with ``rng``. Works on
    bitboards: one pass over the board and one over the winning lines per call.
    """

    #: Its choices (the cells of the first rule that applies) depend on the position alone.
    choices_by_position = True

    def __init__(self, rows: int = 3, cols: int = 3, k: int = 3) -> None:
        self.rows = check_int("rows", rows, 1)
        self.cols = check_int("cols", cols, 1)
        self.k = check_int("k", k, 1)
        if self.k > max(self.rows, self.cols):
            raise ValueError(f"k must be between 1 and max(rows, cols) = {max(self.rows, self.cols)}, got k={k!r}")
        self.n = self.rows * self.cols
        self._line_masks = tuple(sum(1 << c for c in line) for line in winning_lines(self.rows, self.cols, self.k))
        # The central cell(s): one per odd dimension, two per even one.
        mid_rows = sorted({(self.rows - 1) // 2, self.rows // 2})
        mid_cols = sorted({(self.cols - 1) // 2, self.cols // 2})
        self.centre_cells = tuple(r * self.cols + c for r in mid_rows for c in mid_cols)
        self.corner_cells = tuple(sorted({0, self.cols - 1, self.n - self.cols, self.n - 1}))
        self._centre_mask = sum(1 << c for c in self.centre_cells)
        self._corner_mask = sum(1 << c for c in self.corner_cells)
        self._all_cells = (1 << self.n) - 1

    def __repr__(self) -> str:
        return f"HeuristicOpponent(rows={self.rows}, cols={self.cols}, k={self.k})"

    def _completing(self, mine: int, theirs: int) -> int:
        """Bitmask of the empty cells where ``mine`` would complete a line."""
        cells = 0
        for line in self._line_masks:
            if not line & theirs:
                rest = line & ~mine
                if rest and not rest & (rest - 1):  # exactly one cell missing
                    cells |= rest
        return cells

    def __call__(self, board: np.ndarray, rng: np.random.Generator) -> int:
        x = o = 0
        for cell, mark in enumerate(board.tolist()):
            if mark == X:
                x |= 1 << cell
            elif mark == O:
                o |= 1 << cell
        return self.move_from_marks(x, o, self._all_cells & ~(x | o), board, rng)


    def choices_from_marks(self, x: int, o: int, free_mask: int, board: np.ndarray,
                           rng: np.random.Generator, draw: Callable[[], float]) -> tuple[int, ...]:
        """The cells of the first rule that applies; ``pick_uniform`` among them is ``self(board, rng)``."""
        occupied = x | o
        if occupied == self._all_cells:
            raise _no_empty_cell(board)
        mover, other = (x, o) if x.bit_count() == o.bit_count() else (o, x)
        for candidates in (
            self._completing(mover, other),  # win
            self._completing(other, mover),  # block
            self._centre_mask & ~occupied,
            self._corner_mask & ~occupied,
            self._all_cells & ~occupied,
        ):
            if candidates:
                return cells_of(candidates)
        raise AssertionError("unreachable: a board with an empty cell has a candidate")  # pragma: no cover


class EpsilonOpponent(BitboardOpponent):
    """With probability ``epsilon`` a uniformly random empty cell, else the move of ``base``.

    Draws one ``rng.random()`` per call whatever ``epsilon`` is, so seeded runs stay comparable.
    """

    def __init__(self, base: Opponent, epsilon: float) -> None:
        if not callable(base):
            raise TypeError(f"base must be an opponent callable (board, rng) -> cell, got {base!r}")
        self.base = base
        self.epsilon = check_real("epsilon", epsilon, 0, 1)
        self._base_choices = getattr(base, "choices_from_marks", None)
        # A base whose choices depend on the position alone (minimax, heuristic) lets both of this
        # opponent's cell sets, (empty cells, base's choices), be kept per packed position x | o << N.
        by_position = getattr(base, "choices_by_position", False) and self._base_choices is not None
        self._n = base.rows * base.cols if by_position else 0
        self._pairs: dict[int, tuple[tuple[int, ...], tuple[int, ...]]] | None = (
            {} if by_position and self._n <= 12 else None)

    def __repr__(self) -> str:
        return f"EpsilonOpponent({self.base!r}, epsilon={self.epsilon})"

    def __call__(self, board: np.ndarray, rng: np.random.Generator) -> int:
        if rng.random() < self.epsilon:
            return random_opponent(board, rng)
        return self.base(board, rng)

    def choices_from_marks(self, x_mask: int, o_mask: int, free_mask: int, board: np.ndarray,
                           rng: np.random.Generator, draw: Callable[[], float]) -> tuple[int, ...]:
        """After the epsilon draw, the cells to ``pick_uniform`` among: the empty ones, or the base's choices.

        A base without a bitboard path (a user's callable) is called on the board and its move checked,
        so that this opponent, like every built-in one, only ever returns empty cells.
        """
        pairs = self._pairs
        if pairs is not None:
            try:
                if not (x_mask | o_mask) >> self._n:  # masks in range, so the packed key is unambiguous
                    pair = pairs.get(x_mask | o_mask << self._n)
                    if pair is None:  # the base draws nothing, so asking it before the draw changes nothing
                        pair = (random_opponent.choices_from_marks(x_mask, o_mask, free_mask, board, rng, draw),
                                self._base_choices(x_mask, o_mask, free_mask, board, rng, draw))
                        pairs[int(x_mask) | int(o_mask) << self._n] = pair
                    return pair[0] if draw() < self.epsilon else pair[1]
            except TypeError:
                pass  # not ints: the base's checked path below says what is wrong
        if draw() < self.epsilon:
            return random_opponent.choices_from_marks(x_mask, o_mask, free_mask, board, rng, draw)
        if self._base_choices is None:
            return (check_opponent_move(self.base(board, rng), board, self.base),)
        return self._base_choices(x_mask, o_mask, free_mask, board, rng, draw)


def make_opponent(
    opponent: str | Opponent, *, rows: int, cols: int, k: int, epsilon: float = 0.0
) -> Opponent:
    """Build an opponent from a name in :data:`OPPONENTS` or a callable ``(board, rng) -> cell``.

    ``epsilon`` (the env's ``opponent_epsilon``) in ``[0, 1]`` mixes in uniform random moves via
    :class:`EpsilonOpponent`. User callables are returned as they are; check their moves with
    :func:`check_opponent_move`.
    """
    epsilon = check_real("opponent_epsilon", epsilon, 0, 1)
    if isinstance(opponent, str):
        if opponent == "random":
            base: Opponent = random_opponent
        elif opponent == "minimax":
            base = MinimaxOpponent(rows, cols, k)
        elif opponent == "heuristic":
            base = HeuristicOpponent(rows, cols, k)
        else:
            raise ValueError(
                f"opponent must be one of {OPPONENTS} or a callable (board, rng) -> cell, got {opponent!r}"
            )
    elif callable(opponent):
        base = opponent
    else:
        raise TypeError(
            f"opponent must be one of {OPPONENTS} or a callable (board, rng) -> cell, "
            f"got {opponent!r} of type {type(opponent).__name__}"
        )
    return EpsilonOpponent(base, epsilon) if epsilon > 0.0 else base


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
