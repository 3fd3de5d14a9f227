"""R(δx): rewards for thoughts, shared by the Gymnasium and PettingZoo adapters.

A :class:`Shaping` object follows one game and turns its events (a thought, a move) into shaping
rewards per player. Variants: ``"oracle"``, ``"potential"``, ``"prediction"`` or a user callable;
see docs/shaping.md for what each rewards and when the potential-based guarantee holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from tttthought_env.core import Game, Rules, check_real

SHAPING_KINDS: tuple[str, ...] = ("oracle", "potential", "prediction")


class ThoughtView(NamedTuple):
    """Read-only view of one player's side of the game, given to a callable ``shaping``."""

    board: np.ndarray  #: read-only int8 board, 0 empty, 1 X, 2 O
    store: tuple  #: the thinker's store oldest first: ``("+", p)``, ``("-", p)`` or ``("#", m)``
    player: int  #: player to move: 0 (X) or 1 (O)


ShapingFn = Callable[[ThoughtView, tuple, ThoughtView], float]


def validate_shaping(shaping: object, shaping_scale: object, shaping_gamma: object) -> tuple:
    """Check the shaping arguments; return ``(shaping, scale, gamma)``."""
    if shaping is not None and not callable(shaping) and shaping not in SHAPING_KINDS:
        raise ValueError(f"shaping must be None, one of {SHAPING_KINDS} or a callable, got {shaping!r}")
    scale = check_real("shaping_scale", shaping_scale, 0.0, None)
    gamma = check_real("shaping_gamma", shaping_gamma, 0.0, 1.0)
    return shaping, scale, gamma


class Shaping:
    """Shaping rewards for both players of one game.

    The adapters call :meth:`reset` with the game, :meth:`thought` after each thought and
    :meth:`before_move`/:meth:`after_move` around each move; each call returns the shaping earned
    per player as a two-item list ``[for X, for O]`` (the same list object, overwritten each call).
    """

    def __init__(self, kind: str | ShapingFn, scale: float, gamma: float, rules: Rules) -> None:
        self.kind = kind
        self.scale = scale
        self.gamma = gamma
        self.n = rules.n_cells
        self.all_cells = rules.full_board
        self.solver = None
        if kind in ("oracle", "potential"):
            from tttthought_env.solver import get_solver  # solver tables only when a variant needs them

            cfg = rules.config
            self.solver = get_solver(cfg.rows, cfg.cols, cfg.k)
        self.reset_state()
        self._out = [0.0, 0.0]

    def reset_state(self) -> None:
        self.phi = [0.0, 0.0]  # potential at each player's last decision point
        # For "prediction": each player's +p / -p bits when it last moved, or None before its first move.
        self.predicted: list = [None, None]

    # ------------------------------------------------------------------ helpers
    def optimal_bits(self, game: Game) -> int:
        """Bitmask of the optimal moves for the player to move (exact solver)."""
        return self.solver.optimal_bits_from_marks(game.marks[0], game.marks[1])

    def potential(self, game: Game, player: int) -> float:
        """Φ = α·(correct − incorrect entries)/N of ``player``'s store, judged against the current position."""
        optimal = self.optimal_bits(game)
        pos, neg = game.pos_bits[player], game.neg_bits[player]
        correct = (pos & optimal).bit_count() + (neg & ~optimal & self.all_cells).bit_count()
        incorrect = (pos & ~optimal & self.all_cells).bit_count() + (neg & optimal).bit_count()
        return self.scale * (correct - incorrect) / self.n

    # ------------------------------------------------------------------- events
    def thought(self, game: Game, player: int, channel: str, arg: int, removed_code: int,
                before: ThoughtView | None) -> float:
        """Shaping for ``player``'s thought just applied to ``game`` (only the thinker earns)."""
        kind = self.kind
        if kind == "oracle":
            if channel == "marker":
                return 0.0
            in_optimal = bool(self.optimal_bits(game) >> arg & 1)
            if channel == "propose":
                return self.scale if in_optimal else -self.scale
            if channel == "negate":
                return -self.scale if in_optimal else self.scale
            # forget: rewarded for removing an incorrect entry (+p with p not optimal, -p with p optimal)
            removed_positive = removed_code < self.n
            incorrect = (not in_optimal) if removed_positive else in_optimal
            return self.scale if incorrect else -self.scale
        if kind == "potential":
            phi_after = self.potential(game, player)
            reward = self.gamma * phi_after - self.phi[player]
            self.phi[player] = phi_after
            return reward
        if kind == "prediction":
            return 0.0
        after = ThoughtView(game.board_view, game.store_entries(player), game.to_move)
        return float(kind(before, (channel, arg), after))

    def before_move(self, game: Game, player: int) -> None:
        if self.kind == "prediction":
            # Judged on the store as it was when the player moved, before a persist="turn" clear.
            self.predicted[player] = (game.pos_bits[player], game.neg_bits[player])

    def after_move(self, game: Game, player: int, cell: int) -> list:
        """Shaping per player ``[X, O]`` earned through ``player``'s move to ``cell``."""
        out = self._out
        out[0] = out[1] = 0.0
        kind = self.kind
        other = 1 - player
        if kind == "prediction":
            predicted = self.predicted[other]
            if predicted is not None:
                if predicted[0] >> cell & 1:
                    out[other] = self.scale
                elif predicted[1] >> cell & 1:
                    out[other] = -self.scale
        elif kind == "potential":
            if game.done:
                # Φ = 0 at the end: both players' pending transitions end here.
                out[0], out[1] = -self.phi[0], -self.phi[1]
                self.phi[0] = self.phi[1] = 0.0
            else:
                # The other player reaches its next decision point: its move-to-move transition closes.
                phi_after = self.potential(game, other)
                out[other] = self.gamma * phi_after - self.phi[other]
                self.phi[other] = phi_after
        return out

    def game_over(self) -> list:
        """Shaping per player when the game ends without a move (an illegal action under ``"lose"``)."""
        out = self._out
        out[0] = out[1] = 0.0
        if self.kind == "potential":
            out[0], out[1] = -self.phi[0], -self.phi[1]
            self.phi[0] = self.phi[1] = 0.0
        return out

    def view(self, game: Game, player: int) -> ThoughtView:
        return ThoughtView(game.board_view, game.store_entries(player), game.to_move)

    @property
    def wants_views(self) -> bool:
        return callable(self.kind)
