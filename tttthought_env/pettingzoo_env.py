"""PettingZoo AEC adapter: two players, each with its own thought store, over the same pure core.

``env(**config)`` is the wrapped env (order enforcing), ``raw_env(**config)`` the bare one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from pettingzoo import AECEnv
from pettingzoo.utils import wrappers
from pettingzoo.utils.env_logger import EnvLogger

from tttthought_env.config import CHANNELS, Config, EnvOptions
from tttthought_env.core import Game
from tttthought_env.layout import layout_for
from tttthought_env.render import render_ansi, render_rgb
from tttthought_env.shaping import Shaping
from tttthought_env.transition import NO_STEP, RUNNING, end_rewards, info_of, play_action

AGENTS: tuple[str, str] = ("player_0", "player_1")


def env(**kwargs: Any) -> AECEnv:
    """The AEC env with PettingZoo's order-enforcing wrapper (bad and illegal actions are handled inside)."""
    return OrderEnforcing(raw_env(**kwargs))


class OrderEnforcing(wrappers.OrderEnforcingWrapper):
    """PettingZoo's order-enforcing wrapper with direct ``last`` and ``step``.

    The base class reaches every attribute that ``last()`` reads through ``__getattr__``, which
    costs more than our whole step; the checks it makes are kept.
    """

    def last(self, observe: bool = True) -> tuple:
        if not self._has_reset:
            EnvLogger.error_observe_before_reset()
        return self.env.last(observe)

    def step(self, action: Any) -> None:
        if not self._has_reset:
            EnvLogger.error_step_before_reset()
        self._has_updated = True
        if not self.env.agents:
            EnvLogger.warn_step_after_terminated_truncated()
        else:
            self.env.step(action)


class raw_env(AECEnv):
    """Two-player tic-tac-toe (and m,n,k games) where each player may think before it moves.

    ## Description
    ``player_0`` plays X and moves first, ``player_1`` plays O. Each has a private thought store.
    ``agent_selection`` stays with a player while it thinks (``propose``, ``negate``, ``forget``,
    ``marker``) and passes to the other player when it moves. The rules are those of
    :class:`tttthought_env.gymnasium_env.ThoughtTicTacToeEnv` and docs/spec.md: both run the same core.

    ## Action Space
    ``Discrete(A)``, the same blocks as the Gymnasium env: moves ``[0, N)``, then ``propose``,
    ``negate``, ``forget`` (``N`` ids each) and ``marker`` (``num_markers`` ids), each block present
    only if its channel is on.

    ## Observation Space
    With ``obs_mode="dict"`` (default, the convention of PettingZoo's classic games)
    ``{"observation": Box(0, 1, (4N + M + 2,), float32), "action_mask": Box(0, 1, (A,), int8)}``,
    from the observing player's side; the mask is all zeros for a player that is not to act. With
    ``view="last_move"`` the first two planes are the occupied cells and the other player's last move.
    ``obs_mode="flat"`` gives the vector alone, ``obs_mode="tokens"`` the token dict of the Gymnasium env.

    ## Rewards
    At the end, ``+1`` to the winner and ``-1`` to the loser, ``draw_reward`` (default 0) to both on
    a draw. ``-thought_cost`` to a player per thought, and the shaping term of ``shaping`` to the
    player that earns it (the thinker; for ``"prediction"``, the player whose forecast the opponent's
    move settles). ``infos[agent]`` splits each step's reward into ``"reward_game"``,
    ``"reward_shaping"`` and ``"reward_cost"``.

    ## Episode End
    Both players terminate on a win, a draw or an illegal action under ``illegal_action="lose"``
    (a loss for the actor, a win for the other, ``infos[actor]["illegal_action"] = True``).
    Every agent's info, at reset and at every step, has the keys of ``tttthought_env.INFO_KEYS`` with
    numeric values (its int8 ``action_mask``; ``"step_kind"`` ``-1`` for the agent that did not act;
    ``"outcome"`` ``-1`` while the game runs). No truncation is needed: thoughts are bounded per turn.

    ## Arguments
    ``rows, cols, k, channels, max_thoughts, memory_size, num_markers, persist, min_thoughts, view, illegal_action,
    thought_cost, draw_reward, shaping, shaping_scale, shaping_gamma, obs_mode, render_mode``, as
    in the Gymnasium env (no opponent: both players are agents).

    ## Version History
    * v0: initial release (spec v0, docs/spec.md). Unreleased, same trajectories: the infos have one
      numeric shape at every step, and the ids register no step limit (docs/versioning.md, errata).
      Added without changing any trajectory: ``min_thoughts``, ``view`` and the ``LastMove-`` twin ids,
      ``shaping="world"`` and ``"world_potential"``, ``obs_mode="tokens"``.
    """

    metadata: dict[str, Any] = {"render_modes": ["human", "ansi", "rgb_array"], "name": "tttthought_v0", "is_parallelizable": False,
                "render_fps": 2}

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
        illegal_action: str = "lose",
        thought_cost: float = 0.0,
        draw_reward: float = 0.0,
        shaping: Any = None,
        shaping_scale: float = 0.1,
        shaping_gamma: float = 1.0,
        obs_mode: str = "dict",
        render_mode: str | None = None,
    ) -> None:
        super().__init__()
        self.config = Config(rows, cols, k, channels, max_thoughts, memory_size, num_markers, persist, min_thoughts,
                             view)
        self.layout = layout = layout_for(self.config)
        self.options = options = EnvOptions(illegal_action, thought_cost, draw_reward, shaping, shaping_scale,
                                            shaping_gamma, obs_mode)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.shaping = None if shaping is None else Shaping(shaping, options.shaping_scale, options.shaping_gamma,
                                                             layout)
        self.render_mode = render_mode
        self.possible_agents = list(AGENTS)
        self.agents = list(AGENTS)
        obs_space = layout.observation_space(obs_mode)
        self.observation_spaces = {agent: obs_space for agent in AGENTS}
        self.action_spaces = {agent: spaces.Discrete(layout.action_size) for agent in AGENTS}
        self.game = Game(layout)
        self._thoughts = [0, 0]
        self._seed_rng(None)
        self._init_episode_dicts()

    # -------------------------------------------------------------------- copies
    def __getstate__(self) -> dict:
        # The whole state, not EzPickle's constructor arguments (which rebuild a fresh, un-reset env):
        # pickle and copy.deepcopy of a game in progress must continue it.
        return self.__dict__.copy()

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    # ------------------------------------------------------------- codec, spaces
    def observation_space(self, agent: str) -> spaces.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self.action_spaces[agent]

    def decode_action(self, action: int) -> tuple[str, int]:
        """``(channel, arg)`` of an action id."""
        return self.layout.decode[self.layout.check_action(action)]

    def encode_action(self, channel: str, arg: int) -> int:
        """The action id of ``(channel, arg)``."""
        return self.layout.encode_action(channel, arg)

    def action_masks(self, agent: str | None = None) -> np.ndarray:
        """Bool legal-action mask of ``agent`` (default: the agent to act); all False for others."""
        agent = self.agent_selection if agent is None else agent
        return self.game.legal_mask(AGENTS.index(agent))

    # ---------------------------------------------------------------- internals
    def _seed_rng(self, seed: int | None) -> None:
        self.np_random, self.np_random_seed = seeding.np_random(seed)

    def _init_episode_dicts(self) -> None:
        self.agents = list(AGENTS)
        self.rewards = {agent: 0.0 for agent in AGENTS}
        self._cumulative_rewards = {agent: 0.0 for agent in AGENTS}
        self.terminations = {agent: False for agent in AGENTS}
        self.truncations = {agent: False for agent in AGENTS}
        self.infos: dict[str, dict[str, Any]] = {agent: info_of(self._int8_mask(p))
                                                 for p, agent in enumerate(AGENTS)}
        self.agent_selection = AGENTS[0]

    def _int8_mask(self, player: int) -> np.ndarray:
        # int8 for the dict observation and the info: Gymnasium's Discrete.sample(mask=...) refuses a bool mask.
        return self.game.legal_mask(player).view(np.int8)  # a fresh array already: a view, no copy

    def observe(self, agent: str) -> Any:
        player = AGENTS.index(agent)
        flat = self.options.obs_mode == "flat"  # (no mask to build then)
        return self.game.observe(player, self.options.obs_mode, None if flat else self._int8_mask(player))

    # ---------------------------------------------------------------------- API
    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        if seed is not None:
            self._seed_rng(seed)
        self.game.reset()
        self._thoughts = [0, 0]
        if self.shaping is not None:
            self.shaping.reset_state()
        self._init_episode_dicts()
        if self.render_mode == "human":
            self.render()

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        game = self.game
        player = game.to_move
        # A refused action (illegal_action="raise") raises before anything changes, rewards included.
        step = play_action(game, player, self.layout.check_action(action), self.shaping, self.options, actor=agent)
        if not step.illegal:
            self._thoughts[player] += step.kind
        self._cumulative_rewards[agent] = 0.0
        outcomes, game_rewards = ([RUNNING, RUNNING], [0.0, 0.0]) if not game.done else end_rewards(
            game, self.options.draw_reward)
        if game.done:
            for name in AGENTS:
                self.terminations[name] = True
        else:
            self.agent_selection = AGENTS[game.to_move]
        infos = [info_of(self._int8_mask(p), game_rewards[p], step.shaping[p], step.cost[p],
                         step.kind if p == player else NO_STEP, outcomes[p], self._thoughts[p],
                         step.illegal and p == player) for p in (0, 1)]
        for p, name in enumerate(AGENTS):
            # Summed in this order, always: the rewards stay the same floats, signed zeros included.
            reward = step.cost[p] + step.shaping[p] if self.shaping is not None else step.cost[p]
            self.rewards[name] = reward + game_rewards[p] if game.done else reward
        self.infos = {AGENTS[0]: infos[0], AGENTS[1]: infos[1]}
        self._accumulate_rewards()
        if self.render_mode == "human":
            self.render()

    def render(self) -> Any:
        if self.render_mode is None:
            import gymnasium

            gymnasium.logger.warn("render() called without a render_mode; pass render_mode= to the constructor")
            return None
        if self.render_mode == "rgb_array":
            return render_rgb(self.game)
        text = render_ansi(self.game, names={0: AGENTS[0], 1: AGENTS[1]})
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def close(self) -> None:
        pass
