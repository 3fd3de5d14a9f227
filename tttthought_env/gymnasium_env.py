"""Gymnasium adapter: one learner plays tic-tac-toe with thought actions against a built-in opponent.

A thin layer over :mod:`tttthought_env.core`; the opponent only moves, it never thinks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from tttthought_env.core import CHANNELS, WINNER_DRAW, WINNER_NONE, Config, Game, rules_for
from tttthought_env.opponents import check_opponent_move, make_opponent, uniform_draw
from tttthought_env.render import render_ansi, render_rgb
from tttthought_env.settings import AGENT_PLAYERS, EnvOptions, check_choice, observation_space
from tttthought_env.shaping import Shaping


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
    ``memory_size``. With ``obs_mode="dict"``: ``{"observation": that, "action_mask": int8 (A,)}``.
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
    ``N * (max_thoughts + 1)`` learner steps, the ``max_episode_steps`` of the registered ids.
    The final ``info`` holds ``"outcome"`` (``"win"``, ``"draw"`` or ``"loss"``) and ``"thoughts"``.

    ## Arguments
    ``rows=3, cols=3, k=3`` board and line length; ``channels`` (subset of
    ``("propose", "negate", "forget", "marker")``); ``max_thoughts=3`` per turn; ``memory_size=None``
    (``N``); ``num_markers=2``; ``persist="game"`` or ``"turn"``; ``opponent="random"``,
    ``"minimax"``, ``"heuristic"`` or a callable ``(board, rng) -> cell``; ``opponent_epsilon=0.0``;
    ``agent_player="X"``, ``"O"`` or ``"random"``; ``illegal_action="lose"`` or ``"raise"``;
    ``thought_cost=0.0``; ``draw_reward=0.0``; ``shaping=None``, ``"oracle"``, ``"potential"``,
    ``"prediction"`` or a callable; ``shaping_scale=0.1``; ``shaping_gamma=1.0``; ``obs_mode="flat"``
    or ``"dict"``; ``render_mode=None``, ``"ansi"``, ``"human"`` or ``"rgb_array"``.

    ## Version History
    * v0: initial release (spec v0, docs/spec.md).
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
        self.config = Config(rows, cols, k, channels, max_thoughts, memory_size, num_markers, persist)
        self.rules = rules_for(self.config)
        options = self.options = EnvOptions(illegal_action, thought_cost, draw_reward, shaping, shaping_scale,
                                            shaping_gamma, obs_mode)
        self.agent_player_setting = check_choice("agent_player", agent_player, AGENT_PLAYERS)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.opponent = make_opponent(opponent, rows=rows, cols=cols, k=k, epsilon=opponent_epsilon)
        self._opponent_choices = getattr(self.opponent, "choices_from_marks", None)
        self._draw_rng: np.random.Generator | None = None  # the generator that self._draw draws from
        self._draw: Callable[[], float] | None = None
        self.opponent_name = opponent if isinstance(opponent, str) else getattr(opponent, "__name__", "callable")
        self.thought_cost = options.thought_cost
        self.draw_reward = options.draw_reward
        self.illegal_action = illegal_action
        self.obs_mode = obs_mode
        self.render_mode = render_mode
        self.shaping = None if shaping is None else Shaping(shaping, options.shaping_scale, options.shaping_gamma,
                                                             self.rules)
        rules = self.rules
        self.observation_space = observation_space(rules, obs_mode)
        self.action_space = spaces.Discrete(rules.action_size)
        self.game = Game(rules)
        self.agent = 0  # player index of the learner this episode: 0 = X, 1 = O
        self.thoughts_this_episode = 0
        self._mask = np.zeros(rules.action_size, bool)
        self._needs_reset = True
        self.last_opponent_move: int | None = None
        #: No episode of this configuration has more learner steps than this (N * (max_thoughts + 1)).
        self.max_episode_steps_bound = rules.max_episode_moves_and_thoughts
        # Read by every step: plain attributes, not lookups through rules, options or the agent setting.
        self._n_cells = rules.n_cells
        self._action_size = rules.action_size
        self._full_board = rules.full_board
        self._flat_obs = obs_mode == "flat"

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        # The draw function points into this env's generator (ctypes): copies and unpickled envs rebuild it.
        state["_draw_rng"] = state["_draw"] = None
        return state

    # ------------------------------------------------------------- action codec
    def decode_action(self, action: int) -> tuple[str, int]:
        """``(channel, arg)`` of an action id, channel in ``"move", "propose", "negate", "forget", "marker"``."""
        return self.rules.decode[self.rules.check_action(action)]

    def encode_action(self, channel: str, arg: int) -> int:
        """The action id of ``(channel, arg)``."""
        return self.rules.encode_action(channel, arg)

    def action_masks(self) -> np.ndarray:
        """Bool array of length ``A``: the learner's legal actions now (all False once the game is over)."""
        return self._mask

    # --------------------------------------------------------------- internals
    def _observe(self) -> Any:
        obs = self.game.obs[self.agent].copy()
        if self._flat_obs:
            return obs
        return {"observation": obs, "action_mask": self._mask.astype(np.int8)}

    def _opponent_move(self) -> int:
        game = self.game
        # The generator exists from reset() on; reading the attribute skips gym.Env's lazy property.
        rng = self._np_random
        choices = self._opponent_choices
        if choices is not None:
            if rng is not self._draw_rng:  # a new generator (seeded reset, or set by the user)
                self._draw_rng, self._draw = rng, uniform_draw(rng)
            draw = self._draw
            # Built-in opponents read the core's bitboards directly and name the cells they pick among;
            # the pick is pick_uniform's, with draws equal to rng.random()'s, so the board path chooses
            # the same cell. They only name empty cells, so only a user's callable needs checking.
            x_marks, o_marks = game.marks
            cells = choices(x_marks, o_marks, self._full_board & ~(x_marks | o_marks), game.board_view, rng, draw)
            cell = cells[0] if len(cells) == 1 else cells[int(draw() * len(cells))]
        else:
            cell = self.opponent(game.board_view, rng)
            if not isinstance(cell, (int, np.integer)) or not 0 <= cell < game.n or game.occupied >> int(cell) & 1:
                check_opponent_move(cell, game.board_view)
            cell = int(cell)
        self.last_opponent_move = cell
        shaping = self.shaping
        if shaping is not None:
            shaping.before_move(game, 1 - self.agent)
        game.move(cell)
        return cell

    def _shaped_move(self, cell: int) -> float:
        """The learner's legal move and the opponent's reply under shaping; the learner's shaping reward."""
        game, agent, shaping = self.game, self.agent, self.shaping
        shaping.before_move(game, agent)
        game.move(cell)
        reward_shaping = shaping.after_move(game, agent, cell)[agent]
        if game.winner == WINNER_NONE:
            reply = self._opponent_move()
            reward_shaping += shaping.after_move(game, 1 - agent, reply)[agent]
        return reward_shaping

    def _illegal_step(self, a: int) -> tuple[Any, float, bool, bool, dict]:
        game, agent = self.game, self.agent
        if self.illegal_action == "raise":
            channel, arg = self.rules.decode[a]
            raise ValueError(f"action {a} ({channel} {arg}) is illegal: {game.illegal_reason(a)}")
        # A loss for the learner; the game ends where it stands.
        game.forfeit(agent)
        reward_shaping = self.shaping.game_over()[agent] if self.shaping is not None else 0.0
        self._mask = mask = game.legal_mask(agent)
        info = {"action_mask": mask, "reward_game": -1.0, "reward_shaping": reward_shaping, "reward_cost": 0.0,
                "step_kind": "move" if a < self._n_cells else "thought", "outcome": "loss", "illegal_action": True,
                "thoughts": self.thoughts_this_episode}
        self._needs_reset = True
        if self.render_mode == "human":
            self.render()
        return self._observe(), float(-1.0 + reward_shaping), True, False, info

    # ------------------------------------------------------------------- API
    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]:
        if seed is not None:
            super().reset(seed=seed)  # gym.Env.reset only seeds
        rng = self._np_random
        if rng is None:
            rng = self.np_random  # gym.Env creates it on first access; step() then reads _np_random
        game = self.game
        game.reset()
        setting = self.agent_player_setting
        agent = self.agent = int(rng.integers(2)) if setting == "random" else (0 if setting == "X" else 1)
        if game.observer != agent:
            game.observe_only(agent)  # nobody reads the opponent's observation or mask: the core skips them
        self.thoughts_this_episode = 0
        self.last_opponent_move = None
        if self.shaping is not None:
            self.shaping.reset_state()
        if agent == 1:
            self._opponent_move()
        self._mask = mask = game.legal_mask(agent)
        self._needs_reset = False
        if self.render_mode == "human":
            self.render()
        return self._observe(), {"action_mask": mask}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        if self._needs_reset:
            raise RuntimeError("step() called before reset() or after the episode ended; call reset() first")
        # An in-range Python int is the common case (SB3 and CleanRL loops pass one); anything else is checked.
        a = action if type(action) is int and 0 <= action < self._action_size else self.rules.check_action(action)
        game = self.game
        if a < self._n_cells:
            # Over already only when the opponent's opening move ended it (k=1); then every action is illegal.
            if game.occupied >> a & 1 or game.winner != WINNER_NONE:
                return self._illegal_step(a)
            if self.shaping is None:
                if game.move(a) == WINNER_NONE:
                    choices, rng = self._opponent_choices, self._np_random
                    if choices is None or rng is not self._draw_rng:
                        self._opponent_move()  # a user's callable, or a generator to bind first
                    else:  # _opponent_move's bitboard path, inlined: this is most of every step
                        draw = self._draw
                        x_marks, o_marks = game.marks
                        cells = choices(x_marks, o_marks, self._full_board & ~(x_marks | o_marks), game.board_view,
                                        rng, draw)
                        cell = self.last_opponent_move = cells[0] if len(cells) == 1 else cells[int(draw() * len(cells))]
                        game.move(cell)
                reward_shaping = 0.0
            else:
                reward_shaping = self._shaped_move(a)
            reward_cost = 0.0
            step_kind = "move"
        else:
            if not game.is_legal(a):
                return self._illegal_step(a)
            shaping = self.shaping
            if shaping is None:
                game.think(a)
                reward_shaping = 0.0
            else:
                before = shaping.view(game, self.agent) if shaping.wants_views else None
                channel, arg, removed = game.think(a)
                reward_shaping = shaping.thought(game, self.agent, channel, arg, removed, before)
            self.thoughts_this_episode += 1
            reward_cost = -self.thought_cost
            step_kind = "thought"
        agent = self.agent
        if game.winner == WINNER_NONE:
            # The learner is to move (after the reply, or still thinking): its legal actions are the core's
            # store mask, less the thought blocks once its thoughts are spent (legal_mask does that).
            self._mask = mask = (game.store_mask[agent].copy() if game.thoughts_left[agent] > 0
                                 else game.legal_mask(agent))
            info = {"action_mask": mask, "reward_game": 0.0, "reward_shaping": reward_shaping,
                    "reward_cost": reward_cost, "step_kind": step_kind}
            reward = reward_shaping + reward_cost
            terminated = False
        else:
            self._mask = mask = game.legal_mask(agent)  # all False
            winner = game.winner
            if winner == WINNER_DRAW:
                reward_game, outcome = self.draw_reward, "draw"
            else:
                reward_game, outcome = (1.0, "win") if winner == agent else (-1.0, "loss")
            info = {"action_mask": mask, "reward_game": reward_game, "reward_shaping": reward_shaping,
                    "reward_cost": reward_cost, "step_kind": step_kind, "outcome": outcome,
                    "thoughts": self.thoughts_this_episode}
            reward = reward_game + reward_shaping + reward_cost
            terminated = self._needs_reset = True
        if self.render_mode == "human":
            self.render()
        obs = game.obs[agent].copy()
        if not self._flat_obs:
            obs = {"observation": obs, "action_mask": mask.astype(np.int8)}
        return obs, reward, terminated, False, info  # every part is a Python float already

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
