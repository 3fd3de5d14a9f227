"""Scripted thinkers: players that use the thought store well, acting only on what an agent observes.

They show that a task is solvable *through thoughts* (a test plays them through the env API) and are
the teachers of the baselines' ``pretrained`` condition (behaviour cloning):

* :class:`NoteTaker`, for ``view="last_move"``: it writes down each opponent move as ``+p`` ("the opponent
  holds ``p``"), then plays perfectly on the board its notes rebuild. It never loses to anyone.
* :class:`OptimalProposer`, for ``view="full"``: before each move it proposes the solver's optimal cells
  (while thoughts are left), then plays the lowest optimal cell.

Both are callables ``(observation, action_mask) -> action`` over one flat observation vector (or the dict of
``obs_mode="dict"``, whose ``"observation"`` they read), so they run on the Gymnasium env, each PettingZoo
agent, or rows of the vector env alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tttthought_env.config import Config
from tttthought_env.layout import layout_for
from tttthought_env.solver import get_solver

__all__ = ["NoteTaker", "OptimalProposer"]


def _flat(observation: Any) -> np.ndarray:
    return np.asarray(observation["observation"] if isinstance(observation, dict) else observation)


def _bits(plane: np.ndarray) -> int:
    """A 0/1 observation plane as a bitmask (bit ``c`` is cell ``c``)."""
    return sum(1 << int(c) for c in np.flatnonzero(plane > 0.5))


class _ScriptedPlayer:
    """What both thinkers share: the layout of a config, its solver, and the choice of a move."""

    needs_view = "full"

    def __init__(self, config: Config) -> None:
        if not isinstance(config, Config):
            raise TypeError(f"config must be a tttthought_env.config.Config, got {config!r} of type "
                            f"{type(config).__name__} (an env's .config is one)")
        if config.view != self.needs_view:
            raise ValueError(f"{type(self).__name__} plays view={self.needs_view!r}, got a config with "
                             f"view={config.view!r}")
        if "propose" not in config.channels:
            raise ValueError(f"{type(self).__name__} thinks with the 'propose' channel, got channels={config.channels!r}")
        self.layout = layout_for(config)
        self.n = config.n_cells
        self.propose_at = self.layout.offset("propose")
        self.solver = get_solver(config.rows, config.cols, config.k)

    def _optimal(self, mine: int, theirs: int) -> int:
        """The optimal cells (bitmask) of the player to move, whose marks are ``mine``."""
        # The player to move is X exactly when both sides have as many marks.
        x, o = (mine, theirs) if mine.bit_count() == theirs.bit_count() else (theirs, mine)
        return int(self.solver.optimal_bits_from_marks(x, o))

    def _best_move(self, optimal: int, mask: np.ndarray) -> int:
        """The lowest legal cell of ``optimal``, else the lowest legal cell."""
        legal = [c for c in range(self.n) if mask[c]]
        best = [c for c in legal if optimal >> c & 1]
        return (best or legal)[0]


class NoteTaker(_ScriptedPlayer):
    """``view="last_move"``: propose the opponent's last move, then play minimax on the board rebuilt from the
    store (``+p`` = the opponent holds ``p``; the occupied cells without a note are its own)."""

    needs_view = "last_move"

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        opponent_moves = self.n // 2 + 1  # the most marks the opponent can make in one game
        if config.persist != "game" or self.layout.memory_size < opponent_moves:
            raise ValueError(f"NoteTaker keeps one note per opponent move for the whole game: it needs persist='game' "
                             f"and memory_size >= {opponent_moves}, got persist={config.persist!r}, "
                             f"memory_size={config.memory_size!r}")

    def __call__(self, observation: Any, action_mask: np.ndarray) -> int:
        n, mask, observation = self.n, np.asarray(action_mask), _flat(observation)
        occupied, last, noted = (_bits(observation[i * n:(i + 1) * n]) for i in range(3))
        if last and not last & noted:
            propose = self.propose_at + last.bit_length() - 1
            if mask[propose]:
                return propose
        return self._best_move(self._optimal(occupied & ~noted, noted), mask)


class OptimalProposer(_ScriptedPlayer):
    """``view="full"``: propose each optimal cell not yet in the store (while a proposal is legal), then move
    to the lowest optimal cell."""

    def __call__(self, observation: Any, action_mask: np.ndarray) -> int:
        n, mask, observation = self.n, np.asarray(action_mask), _flat(observation)
        optimal = self._optimal(_bits(observation[:n]), _bits(observation[n:2 * n]))
        for cell in range(n):
            if optimal >> cell & 1 and mask[self.propose_at + cell]:
                return self.propose_at + cell
        return self._best_move(optimal, mask)
