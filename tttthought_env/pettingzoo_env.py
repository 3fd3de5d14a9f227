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

from tttthought_env.core import CHANNELS, WINNER_DRAW, WINNER_NONE, Config, Game, rules_for
from tttthought_env.render import render_ansi, render_rgb
from tttthought_env.settings import EnvOptions, observation_space
from tttthought_env.shaping import Shaping

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
    from the observing player's side; the mask is all zeros for a player that is not to act.
    ``obs_mode="flat"`` gives the vector alone.

    ## Rewards
    At the end, ``+1`` to the winner and ``-1`` to the loser, ``draw_reward`` (default 0) to both on
    a draw. ``-thought_cost`` to a player per thought, and the shaping term of ``shaping`` to the
    player that earns it (the thinker; for ``"prediction"``, the player whose forecast the opponent's
    move settles). ``infos[agent]`` splits each step's reward into ``"reward_game"``,
    ``"reward_shaping"`` and ``"reward_cost"``.

    ## Episode End
    Both players terminate on a win, a draw or an illegal action under ``illegal_action="lose"``
    (a loss for the actor, a win for the other, ``infos[actor]["illegal_action"] = True``).
    The final infos hold ``"outcome"`` and ``"thoughts"`` per player. No truncation is needed:
    thoughts are bounded per turn.

    ## Arguments
    ``rows, cols, k, channels, max_thoughts, memory_size, num_markers, persist, illegal_action,
    thought_cost, draw_reward, shaping, shaping_scale, shaping_gamma, obs_mode, render_mode``, as
    in the Gymnasium env (no opponent: both players are agents).

    ## Version History
    * v0: initial release (spec v0, docs/spec.md).
    """

    metadata = {"render_modes": ["human", "ansi", "rgb_array"], "name": "tttthought_v0", "is_parallelizable": False,
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
        self.config = Config(rows, cols, k, channels, max_thoughts, memory_size, num_markers, persist)
        self.rules = rules = rules_for(self.config)
        options = self.options = EnvOptions(illegal_action, thought_cost, draw_reward, shaping, shaping_scale,
                                            shaping_gamma, obs_mode)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.thought_cost = options.thought_cost
        self.draw_reward = options.draw_reward
        self.shaping = None if shaping is None else Shaping(shaping, options.shaping_scale, options.shaping_gamma,
                                                             rules)
        self.illegal_action = illegal_action
        self.obs_mode = obs_mode
        self.render_mode = render_mode

        self.possible_agents = list(AGENTS)
        self.agents = list(AGENTS)
        obs_space = observation_space(rules, obs_mode)
        self.observation_spaces = {agent: obs_space for agent in AGENTS}
        self.action_spaces = {agent: spaces.Discrete(rules.action_size) for agent in AGENTS}
        self.game = Game(rules)
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
        return self.rules.decode[self.rules.check_action(action)]

    def encode_action(self, channel: str, arg: int) -> int:
        """The action id of ``(channel, arg)``."""
        return self.rules.encode_action(channel, arg)

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
        self.infos = {agent: {} for agent in AGENTS}
        self.agent_selection = AGENTS[0]

    def observe(self, agent: str) -> Any:
        player = AGENTS.index(agent)
        obs = self.game.obs[player].copy()
        if self.obs_mode == "flat":
            return obs
        return {"observation": obs, "action_mask": self.game.legal_mask(player).astype(np.int8)}

    def _end_game(self, infos: list[dict]) -> None:
        game = self.game
        for player, agent in enumerate(AGENTS):
            if game.winner == WINNER_DRAW:
                reward, outcome = self.draw_reward, "draw"
            elif game.winner == player:
                reward, outcome = 1.0, "win"
            else:
                reward, outcome = -1.0, "loss"
            self.rewards[agent] += reward
            infos[player]["reward_game"] = reward
            infos[player]["outcome"] = outcome
            infos[player]["thoughts"] = self._thoughts[player]
            self.terminations[agent] = True

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
        rules = self.rules
        a = rules.check_action(action)
        game = self.game
        player = game.to_move
        shaping = self.shaping
        legal = game.is_legal(a)
        if not legal and self.illegal_action == "raise":
            # Before anything changes: a refused action leaves rewards (what last() reports) as they were.
            channel, arg = rules.decode[a]
            raise ValueError(f"action {a} ({channel} {arg}) of {agent} is illegal: {game.illegal_reason(a)}")
        self._cumulative_rewards[agent] = 0.0
        for name in AGENTS:
            self.rewards[name] = 0.0
        infos = [{"reward_game": 0.0, "reward_shaping": 0.0, "reward_cost": 0.0},
                 {"reward_game": 0.0, "reward_shaping": 0.0, "reward_cost": 0.0}]
        if not legal:
            game.forfeit(player)
            infos[player]["illegal_action"] = True
            infos[player]["step_kind"] = "move" if a < game.n else "thought"
            if shaping is not None:
                for p, value in enumerate(shaping.game_over()):
                    infos[p]["reward_shaping"] = value
                    self.rewards[AGENTS[p]] += value
            self._end_game(infos)
        elif a >= game.n:
            before = shaping.view(game, player) if shaping is not None and shaping.wants_views else None
            channel, arg, removed = game.think(a)
            self._thoughts[player] += 1
            infos[player]["step_kind"] = "thought"
            infos[player]["reward_cost"] = -self.thought_cost
            self.rewards[agent] = -self.thought_cost
            if shaping is not None:
                value = shaping.thought(game, player, channel, arg, removed, before)
                infos[player]["reward_shaping"] = value
                self.rewards[agent] += value
        else:
            if shaping is not None:
                shaping.before_move(game, player)
            game.move(a)
            infos[player]["step_kind"] = "move"
            if shaping is not None:
                for p, value in enumerate(shaping.after_move(game, player, a)):
                    infos[p]["reward_shaping"] = value
                    self.rewards[AGENTS[p]] += value
            if game.winner != WINNER_NONE:
                self._end_game(infos)
            else:
                self.agent_selection = AGENTS[game.to_move]
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
