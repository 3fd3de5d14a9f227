"""R(δx) over one game: follows the game's events and pays the judgements of :mod:`tttthought_env.rewards`.

The env-level step (:mod:`tttthought_env.transition`) calls :meth:`Shaping.thought` after each thought
and :meth:`Shaping.before_move` / :meth:`Shaping.after_move` around each move; each returns the shaping
earned per player. Variants: ``"oracle"``, ``"potential"``, ``"prediction"``, ``"world"``,
``"world_potential"`` or a user callable; see docs/shaping.md for what each rewards and when the potential-based guarantee holds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real
from typing import Any, NamedTuple

import numpy as np

from tttthought_env.core import Game
from tttthought_env.layout import Layout
from tttthought_env.rewards import (
    PER_THOUGHT_KINDS,
    POTENTIAL_KINDS,
    SHAPING_KINDS,
    int_popcount,
    oracle_reward,
    potential,
    prediction_reward,
    store_balance,
    thought_is_correct,
    truth_is_world,
)

__all__ = ["SHAPING_KINDS", "Shaping", "ShapingFn", "ThoughtView"]


class ThoughtView(NamedTuple):
    """Read-only view of one player's side of the game, given to a callable ``shaping``."""

    board: np.ndarray  #: read-only int8 board, 0 empty, 1 X, 2 O
    store: tuple  #: the thinker's store oldest first: ``("+", p)``, ``("-", p)`` or ``("#", m)``
    player: int  #: player to move: 0 (X) or 1 (O)


ShapingFn = Callable[[ThoughtView, tuple, ThoughtView], float]


def _view(game: Game, player: int) -> ThoughtView:
    board = game.board
    board.flags.writeable = False  # a callable reads the position; it cannot change it
    return ThoughtView(board, game.store_entries(player), game.to_move)


def _checked(shaping: ShapingFn, value: object) -> float:
    """A callable's reward as a float, or a ``TypeError``/``ValueError`` naming the callable."""
    name = getattr(shaping, "__name__", repr(shaping))
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        raise TypeError(f"shaping callable {name!r} must return a real number, got {value!r} "
                        f"of type {type(value).__name__}")
    if not math.isfinite(float(value)):
        raise ValueError(f"shaping callable {name!r} must return a finite number, got {value!r}")
    return float(value)


class Shaping:
    """Shaping rewards for both players of one game, as two-item lists ``[for X, for O]``."""

    def __init__(self, kind: str | ShapingFn, scale: float, gamma: float, layout: Layout) -> None:
        self.kind = kind
        self.scale = scale
        self.gamma = gamma
        self.n = layout.n_cells
        self.all_cells = layout.all_cells
        self.world = truth_is_world(kind)
        self.solver: Any = None
        if kind in ("oracle", "potential"):
            from tttthought_env.solver import get_solver  # solver tables only when a variant needs them

            cfg = layout.config
            self.solver = get_solver(cfg.rows, cfg.cols, cfg.k)
        self.reset_state()

    def reset_state(self) -> None:
        self.phi = [0.0, 0.0]  # potential at each player's last decision point
        # For "prediction": each player's (+p, -p) bits when it last moved, or None before its first move.
        self.predicted: list[tuple[int, int] | None] = [None, None]

    def truth_bits(self, game: Game, player: int) -> int:
        """The propositions true now for ``player``'s store: the cells its opponent holds (``"world"``
        variants), else the optimal moves of the player to move (exact solver)."""
        if self.world:
            return game.marks[1 - player]
        return int(self.solver.optimal_bits_from_marks(game.marks[0], game.marks[1]))

    def potential(self, game: Game, player: int) -> float:
        """Φ of ``player``'s store, judged against the current position."""
        balance = store_balance(game.pos[player], game.neg[player], self.truth_bits(game, player), self.all_cells,
                                int_popcount)
        return potential(balance, self.scale, self.n)

    @property
    def wants_views(self) -> bool:
        """A callable sees the position before the thought, which the env must capture first."""
        return callable(self.kind)

    def view(self, game: Game, player: int) -> ThoughtView:
        return _view(game, player)

    # ------------------------------------------------------------------- events
    def thought(self, game: Game, player: int, channel: str, arg: int, removed_code: int,
                before: ThoughtView | None) -> float:
        """Shaping for ``player``'s thought just applied to ``game`` (only the thinker earns)."""
        kind = self.kind
        if kind in PER_THOUGHT_KINDS:
            if channel == "marker":
                return 0.0
            # What the thought claims about arg: forget claims the opposite of the entry it removed.
            asserts_absent = channel == "negate" or (channel == "forget" and removed_code < self.n)
            truth = self.truth_bits(game, player)
            return float(oracle_reward(thought_is_correct(truth, 1 << arg, asserts_absent), self.scale))
        if kind in POTENTIAL_KINDS:
            phi_after = self.potential(game, player)
            reward = self.gamma * phi_after - self.phi[player]
            self.phi[player] = phi_after
            return reward
        if kind == "prediction":
            return 0.0
        assert callable(kind) and before is not None  # the env captured the view before the thought
        return _checked(kind, kind(before, (channel, arg), _view(game, player)))

    def before_move(self, game: Game, player: int) -> None:
        if self.kind == "prediction":
            # Judged on the store as it was when the player moved, before a persist="turn" clear.
            self.predicted[player] = (game.pos[player], game.neg[player])

    def after_move(self, game: Game, player: int, cell: int) -> list[float]:
        """Shaping per player ``[X, O]`` earned through ``player``'s move to ``cell``."""
        out = [0.0, 0.0]
        other = 1 - player
        if self.kind == "prediction":
            predicted = self.predicted[other]
            if predicted is not None:
                out[other] = prediction_reward(predicted[0], predicted[1], 1 << cell, self.scale)
        elif self.kind in POTENTIAL_KINDS:
            if game.done:
                return self.game_over()  # Φ = 0 at the end: both players' pending transitions close
            # The other player reaches its next decision point: its move-to-move transition closes.
            phi_after = self.potential(game, other)
            out[other] = self.gamma * phi_after - self.phi[other]
            self.phi[other] = phi_after
        return out

    def game_over(self) -> list[float]:
        """Shaping per player when the game ends (Φ = 0 at the end of the potential variants)."""
        out = [0.0, 0.0]
        if self.kind in POTENTIAL_KINDS:
            out = [-self.phi[0], -self.phi[1]]
            self.phi = [0.0, 0.0]
        return out
