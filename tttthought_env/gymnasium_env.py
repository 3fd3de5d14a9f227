"""Gymnasium adapter: one learner plays tic-tac-toe with thought actions against a built-in opponent.

A thin layer over :mod:`tttthought_env.core`; the opponent only moves, it never thinks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from tttthought_env.config import AGENT_PLAYERS, CHANNELS, Config, EnvOptions, check_choice
from tttthought_env.core import Game
from tttthought_env.layout import layout_for
from tttthought_env.opponents import make_opponent
from tttthought_env.render import render_ansi, render_rgb
from tttthought_env.shaping import Shaping
from tttthought_env.transition import MOVE, WINNER_NONE, end_rewards, info_of, play_action, play_move


class ThoughtTicTacToeEnv(gym.Env):
    """Tic-tac-toe (and m,n,k games) where the learner may think before it moves.

    ## Description
    The learner's state is the board plus a private *thought store* of propositions. Besides
    placing a mark, it may take thought actions that edit its store without touching the board:
    ``propose p`` (assert ``+p``), ``negate p`` (assert ``-p``), ``forget p`` and ``marker m``.
    Up to ``max_thoughts`` thoughts per turn; a move ends the turn and the built-in opponent,
    which only moves, replies in the same ``step``. With ``channels=()`` or ``max_thoughts=0``
    it is plain tic-tac-toe, the control condition. The full rules are in docs/spec.md.

    ## Action Space
    ``Discrete(A)`` in blocks, each present only if its channel is on (``N = rows*cols``):

    | ids | action | legal iff |
    |-----|--------|-----------|
    | ``[0, N)`` | ``move c`` | cell ``c`` is empty |
    | next ``N`` | ``propose p`` | ``+p`` not in the store, thoughts left > 0 |
    | next ``N`` | ``negate p`` | ``-p`` not in the store, thoughts left > 0 |
    | next ``N`` | ``forget p`` | ``+p`` or ``-p`` in the store, thoughts left > 0 |
    | next ``num_markers`` | ``marker m`` | thoughts left > 0 |

    ``decode_action(a)`` and ``encode_action(channel, arg)`` convert between ids and ``(channel, arg)``.

    ## Observation Space
    ``Box(0, 1, (4N + M + 2,), float32)`` from the learner's side: its marks, the opponent's marks,
    its ``+p`` entries, its ``-p`` entries, marker counts / ``memory_size`` (``M = num_markers``
    slots, only with the marker channel), thoughts left / ``max(max_thoughts, 1)``, entries /
    ``memory_size``. With ``view="last_move"`` the first two planes are instead the occupied cells and
    the opponent's last move (one-hot), so only the store can remember who holds what (docs/spec.md,
    "Views"). With ``obs_mode="dict"``: ``{"observation": that, "action_mask": int8 (A,)}``; with
    ``obs_mode="tokens"``: ``{"tokens": int64 (L, 3), "token_mask": int8 (L,), "action_mask": int8 (A,)}``,
    one ``(type, value, position)`` row per cell, store slot and the budget (docs/spec.md, "Token observations").
    ``action_masks()`` returns the legal actions as a bool array (sb3-contrib's MaskablePPO calls it);
    ``info["action_mask"]`` carries the same after every reset and step.

    ## Rewards
    ``+1`` win, ``draw_reward`` (default 0) draw, ``-1`` loss, given at the end; ``-thought_cost`` per
    thought; plus the shaping term ``R(δx)`` of ``shaping`` (see docs/shaping.md). ``info`` splits the
    step's reward into ``"reward_game"``, ``"reward_shaping"`` and ``"reward_cost"``.

    ## Starting State
    An empty board and empty stores. If the learner plays O, the opponent has already made its
    first move. ``agent_player="random"`` draws the side with the env's ``np_random``.

    ## Episode End
    Terminates on a win, a draw (full board) or, with ``illegal_action="lose"``, an illegal action
    (a loss for the learner, ``info["illegal_action"] = True``). Every episode ends by itself within
    ``N * (max_thoughts + 1)`` learner steps (``max_episode_steps_bound``); the ids register no step limit.
    Every ``info`` (reset and step) has the keys of ``tttthought_env.INFO_KEYS`` with numeric values:
    ``"outcome"`` is ``-1`` while the game runs, then an index into ``OUTCOMES`` (win, draw, loss);
    ``"step_kind"`` an index into ``STEP_KINDS`` (``-1`` at reset); ``"thoughts"`` the count so far.

    ## Arguments
    ``rows=3, cols=3, k=3`` board and line length; ``channels`` (subset of
    ``("propose", "negate", "forget", "marker")``); ``max_thoughts=3`` per turn; ``memory_size=None``
    (``N``); ``num_markers=2``; ``persist="game"`` or ``"turn"``; ``min_thoughts=0`` (a move is legal only after
    that many thoughts this turn, or when no thought is legal); ``view="full"`` or ``"last_move"``; ``opponent="random"``,
    ``"minimax"``, ``"heuristic"`` or a callable ``(board, rng) -> cell``; ``opponent_epsilon=0.0``;
    ``agent_player="X"``, ``"O"`` or ``"random"``; ``illegal_action="lose"`` or ``"raise"``;
    ``thought_cost=0.0``; ``draw_reward=0.0``; ``shaping=None``, ``"oracle"``, ``"potential"``,
    ``"prediction"``, ``"world"``, ``"world_potential"`` or a callable; ``shaping_scale=0.1``; ``shaping_gamma=1.0``; ``obs_mode="flat"``,
    ``"dict"`` or ``"tokens"``; ``render_mode=None``, ``"ansi"``, ``"human"`` or ``"rgb_array"``.

    ## Version History
    * v0: initial release (spec v0, docs/spec.md). Unreleased, same trajectories: the infos have one
      numeric shape at every step, and the ids register no step limit (docs/versioning.md, errata).
      Added without changing any trajectory: ``min_thoughts``, ``view`` and the ``LastMove-`` twin ids,
      ``shaping="world"`` and ``"world_potential"``, ``obs_mode="tokens"``.
    """

    metadata = {"render_modes": ["ansi", "human", "rgb_array"], "render_fps": 2}

    def __init__(
        self,
        rows: int = 3,
        cols: int = 3,
        k: int = 3,
        channels: tuple[str, ...] = CHANNELS,
        max_thoughts: int = 3,
        memory_size: int | None = None,
        num_markers: int = 2,
        persist: str = "game",
        min_thoughts: int = 0,
        view: str = "full",
        opponent: str | Callable = "random",
        opponent_epsilon: float = 0.0,
        agent_player: str = "X",
        illegal_action: str = "lose",
        thought_cost: float = 0.0,
        draw_reward: float = 0.0,
        shaping: Any = None,
        shaping_scale: float = 0.1,
        shaping_gamma: float = 1.0,
        obs_mode: str = "flat",
        render_mode: str | None = None,
    ) -> None:
        self.config = Config(rows, cols, k, channels, max_thoughts, memory_size, num_markers, persist, min_thoughts,
                             view)
        self.layout = layout = layout_for(self.config)
        self.options = options = EnvOptions(illegal_action, thought_cost, draw_reward, shaping, shaping_scale,
                                            shaping_gamma, obs_mode)
        self.agent_player_setting = check_choice("agent_player", agent_player, AGENT_PLAYERS)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.opponent = make_opponent(opponent, rows=rows, cols=cols, k=k, epsilon=opponent_epsilon)
        self.opponent_name = opponent if isinstance(opponent, str) else getattr(opponent, "__name__", "callable")
        self.render_mode = render_mode
        self.shaping = None if shaping is None else Shaping(shaping, options.shaping_scale, options.shaping_gamma,
                                                             layout)
        self.observation_space = layout.observation_space(obs_mode)
        self.action_space = spaces.Discrete(layout.action_size)
        self.game = Game(layout)
        self.agent = 0  # player index of the learner this episode: 0 = X, 1 = O
        self.thoughts_this_episode = 0
        self.last_opponent_move: int | None = None
        self._mask = np.zeros(layout.action_size, bool)
        self._needs_reset = True
        #: No episode of this configuration has more learner steps than this (N * (max_thoughts + 1)).
        self.max_episode_steps_bound = layout.max_episode_moves_and_thoughts

    # ------------------------------------------------------------- action codec
    def decode_action(self, action: int) -> tuple[str, int]:
        """``(channel, arg)`` of an action id, channel in ``"move", "propose", "negate", "forget", "marker"``."""
        return self.layout.decode[self.layout.check_action(action)]

    def encode_action(self, channel: str, arg: int) -> int:
        """The action id of ``(channel, arg)``."""
        return self.layout.encode_action(channel, arg)

    def action_masks(self) -> np.ndarray:
        """Bool array of length ``A``: the learner's legal actions now (all False once the game is over)."""
        return self._mask

    # --------------------------------------------------------------- internals
    def _observe(self) -> Any:
        return self.game.observe(self.agent, self.options.obs_mode, self._mask)

    def _opponent_reply(self) -> list[float]:
        """The opponent's move (it only moves, never thinks); the shaping it earns each player."""
        game = self.game
        cell = self.last_opponent_move = self.opponent.reply(game.marks[0], game.marks[1], self.np_random)
        return play_move(game, cell, self.shaping)

    # ------------------------------------------------------------------- API
    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        game = self.game
        game.reset()
        setting = self.agent_player_setting
        self.agent = int(self.np_random.integers(2)) if setting == "random" else AGENT_PLAYERS.index(setting)
        self.thoughts_this_episode = 0
        self.last_opponent_move = None
        if self.shaping is not None:
            self.shaping.reset_state()
        if self.agent == 1:
            self._opponent_reply()
        self._mask = game.legal_mask(self.agent)
        self._needs_reset = False
        if self.render_mode == "human":
            self.render()
        return self._observe(), info_of(self._mask)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        if self._needs_reset:
            raise RuntimeError("step() called before reset() or after the episode ended; call reset() first")
        game, agent = self.game, self.agent
        step = play_action(game, agent, self.layout.check_action(action), self.shaping, self.options)
        reward_shaping, reward_cost = step.shaping[agent], step.cost[agent]
        if step.kind == MOVE and game.winner == WINNER_NONE:
            reward_shaping += self._opponent_reply()[agent]
        if not step.illegal:
            self.thoughts_this_episode += step.kind
        self._mask = game.legal_mask(agent)
        terminated = game.winner != WINNER_NONE
        # Summed in this order, always: the rewards stay the same floats, signed zeros included.
        reward = reward_shaping + reward_cost
        info = info_of(self._mask, 0.0, reward_shaping, reward_cost, step.kind, thoughts=self.thoughts_this_episode,
                       illegal_action=step.illegal)
        if terminated:
            outcomes, rewards = end_rewards(game, self.options.draw_reward)
            info.update(reward_game=rewards[agent], outcome=outcomes[agent])
            reward = rewards[agent] + reward_shaping + reward_cost
            self._needs_reset = True
        if self.render_mode == "human":
            self.render()
        return self._observe(), reward, terminated, False, info

    def render(self) -> Any:
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode= to the constructor")
            return None
        if self.render_mode == "rgb_array":
            return render_rgb(self.game)
        text = render_ansi(self.game, names={self.agent: "agent", 1 - self.agent: "opponent"})
        if self.render_mode == "human":
            print(text)
            return None
        return text
