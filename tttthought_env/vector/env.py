"""``ThoughtVectorEnv``: the Gymnasium vector env over the batched kernel, with same- or next-step autoreset.

The env validates, draws the random numbers (in a fixed order: the opponent's replies, then for games
that ended the side and the opening move; in next-step mode the resets come first), steps
:class:`~tttthought_env.vector.kernel.Kernel` and resets finished games as a select over the
:class:`~tttthought_env.vector.state.BatchState`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from tttthought_env.config import AGENT_PLAYERS, CHANNELS, Config, EnvOptions, check_choice, check_real
from tttthought_env.core import Game
from tttthought_env.layout import layout_for
from tttthought_env.render import render_rgb
from tttthought_env.rewards import PER_THOUGHT_KINDS, truth_is_world
from tttthought_env.transition import WINNER_DRAW, WINNER_O, WINNER_X, outcome_code

from .backend import Backend
from .checks import (RENDER_MODES, check_episode_limit, check_vectorizable, checked_autoreset_mode,
                     checked_num_envs, no_solver_table)
from .infos import RESET_VALUES, ignore_rows, info_at, reset_infos, with_masks
from .kernel import Decision, Kernel
from .observe import Observer
from .protocol import GymnasiumCalls
from .state import BatchState
from .tables import SOLVER_TABLE_CELLS, Tables, build_layouts

#: Attributes built from the constructor's arguments. They hold the backend's modules, which do not pickle,
#: so a pickled or copied env leaves them out and rebuilds them (a compiled ``step`` comes back uncompiled).
_REBUILT = ("kernel", "observer", "lay", "opponent", "_tmpl_obs", "_tmpl_mask", "step", "sample_actions")


class ThoughtVectorEnv(GymnasiumCalls, VectorEnv):
    """``num_envs`` games of the single env, stepped together as arrays.

    ## Arguments
    ``num_envs`` and every argument of :class:`~tttthought_env.gymnasium_env.ThoughtTicTacToeEnv` except
    ``render_mode`` (which must stay None), plus ``backend="numpy"`` or ``"torch"`` and ``device`` (torch only).

    * ``opponent``: ``"random"``, ``"minimax"``, ``"heuristic"`` (the single env's opponents, batched; the
      same distribution over moves, drawn from the vector env's own generator) or a *batched* callable
      ``(boards, rng) -> cells``: ``boards`` an int8 ``(M, N)`` array (tensor on the torch backend) of the
      ``M`` games that need a move (0 empty, 1 X, 2 O), ``rng`` the backend's generator, ``cells`` ``M``
      empty cells. ``opponent_epsilon`` mixes uniform random moves in per game.
    * ``"minimax"`` and ``shaping="oracle"``/``"potential"`` read the solver's complete table
      (:meth:`Solver.tables`); boards over 12 cells have none, and the constructor raises ``ValueError``.
    * ``shaping`` must be ``None`` or a name of :data:`~tttthought_env.rewards.SHAPING_KINDS`: a callable
      shaping sees one game's store at a time and cannot be vectorized (``ValueError``; use the single env).

    * ``autoreset_mode``: ``"same_step"`` (the default; ``AutoresetMode.SAME_STEP``) or ``"next_step"``
      (``AutoresetMode.NEXT_STEP``, what Gymnasium's vector wrappers such as ``NormalizeObservation`` need).
    * ``render_mode``: None or ``"rgb_array"`` (:meth:`render` returns one frame per game).
    * ``num_envs`` is at most :data:`~tttthought_env.vector.checks.MAX_NUM_ENVS` (2**20): one step's arrays
      on a 64-cell board take about 2.4 KB per game, so the bound keeps them within about 3 GB.

    ## Step
    ``step(actions)`` takes ``num_envs`` action ids and returns ``(obs, rewards, terminations, truncations,
    infos)``: float32 observations ``(num_envs, obs_size)`` (or the dict of the single env's
    ``obs_mode="dict"``), float64 rewards, bool terminations, all-False truncations (every episode ends by
    itself), as numpy arrays or tensors of the backend. Every call returns new arrays.

    Same-step autoreset: a game that ends starts again in the same step; its row of the observations and
    masks is the new episode's first, and ``infos["final_obs"]`` (mask ``"_final_obs"``) holds the terminal
    observation (other rows unspecified). Next-step autoreset (Gymnasium's documented semantics): the step
    that ends a game returns its terminal observation; the next step resets it, ignores its action and
    returns the new episode's first observation with reward 0 and terminated/truncated False.

    ``infos`` has the same keys at reset and at every step, each an array with leading dimension
    ``num_envs``, and a Gymnasium ``"_key"`` mask per key (all True):

    * ``"action_mask"`` bool ``(num_envs, A)``: legal actions for the returned observation (after a
      same-step autoreset, the new episode's; all False for a terminal observation in next-step mode);
      :meth:`action_masks` returns a copy of it.
    * ``"reward_game"``, ``"reward_shaping"``, ``"reward_cost"`` float64: the step's reward split.
    * ``"step_kind"`` int8: index into :data:`STEP_KINDS` (``0`` move, ``1`` thought); ``-1`` at reset and
      on a next-step reset.
    * ``"outcome"`` int8: ``-1`` while the game runs, else the index into :data:`OUTCOMES` (win, draw, loss).
    * ``"thoughts"`` int32: the learner's thoughts so far this episode (where it ended, the episode's count).
    * ``"illegal_action"`` bool: the action was illegal (``illegal_action="lose"``: a loss).

    :meth:`info_at` turns row ``i`` into the single env's ``info`` dict; :meth:`sample_actions` draws a
    uniformly random legal action per game. :meth:`call`, :meth:`get_attr` and :meth:`set_attr` are
    Gymnasium's (one env object answers for every game). The env pickles and deep-copies: the copy
    continues exactly as the original would.
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": list(RENDER_MODES)}

    def __init__(
        self, num_envs: int, rows: int = 3, cols: int = 3, k: int = 3, channels: tuple[str, ...] = CHANNELS,
        max_thoughts: int = 3, memory_size: int | None = None, num_markers: int = 2, persist: str = "game",
        min_thoughts: int = 0, view: str = "full",
        opponent: str | Callable[..., Any] = "random", opponent_epsilon: float = 0.0, agent_player: str = "X",
        illegal_action: str = "lose", thought_cost: float = 0.0, draw_reward: float = 0.0, shaping: Any = None,
        shaping_scale: float = 0.1, shaping_gamma: float = 1.0, obs_mode: str = "flat",
        render_mode: str | None = None, backend: str = "numpy", device: Any = None,
        max_episode_steps: int | None = None, autoreset_mode: Any = AutoresetMode.SAME_STEP,
    ) -> None:
        # The arguments as given, first thing: unpickling rebuilds the env from them (see __setstate__).
        self._init_kwargs = {name: value for name, value in locals().items() if name != "self"}
        self.num_envs = checked_num_envs(num_envs)
        self.autoreset_mode = checked_autoreset_mode(autoreset_mode)
        # Per instance: Gymnasium's wrappers read the mode from the metadata.
        self.metadata = {**ThoughtVectorEnv.metadata, "autoreset_mode": self.autoreset_mode}
        self.config = cfg = Config(rows, cols, k, channels, max_thoughts, memory_size, num_markers, persist,
                                   min_thoughts, view)
        self.layout = layout = layout_for(cfg)
        check_episode_limit(max_episode_steps, layout.max_episode_moves_and_thoughts)
        check_choice("agent_player", agent_player, AGENT_PLAYERS)
        options = self.options = EnvOptions(illegal_action, thought_cost, draw_reward, shaping, shaping_scale,
                                            shaping_gamma, obs_mode)
        check_vectorizable(render_mode, shaping, opponent)
        self.thought_cost, self.draw_reward = options.thought_cost, options.draw_reward
        self.shaping_scale, self.shaping_gamma = options.shaping_scale, options.shaping_gamma
        self.shaping = shaping
        self.opponent_epsilon = check_real("opponent_epsilon", opponent_epsilon, 0, 1)
        self.opponent = opponent
        self.opponent_name = opponent if isinstance(opponent, str) else getattr(opponent, "__name__", "callable")
        self.agent_player_setting = agent_player
        self.illegal_action = illegal_action
        self.obs_mode = obs_mode
        self.render_mode = render_mode
        self.backend = Backend(backend, device)
        self.device = self.backend.device
        n = layout.n_cells
        self._opponent_draws = not callable(opponent) or self.opponent_epsilon > 0.0
        needs_solver = opponent == "minimax" or shaping in ("oracle", "potential")
        if needs_solver and n > SOLVER_TABLE_CELLS:
            no_solver_table(opponent, shaping, rows, cols)
        self.lay = lay = build_layouts(cfg, layout)
        tables = Tables(cfg, layout, lay, self.backend, needs_solver=needs_solver, draw_reward=self.draw_reward)
        self.kernel = Kernel(self.backend, lay, tables, opponent=opponent, epsilon=self.opponent_epsilon,
                             persist=cfg.persist, reset_can_end=agent_player != "X" and (cfg.k == 1 or n == 1),
                             channels=cfg.channels, min_thoughts=cfg.min_thoughts)
        self.observer = Observer(self.kernel, layout, obs_mode)
        self._build_templates()

        self.single_observation_space = layout.observation_space(obs_mode)
        self.single_action_space = spaces.Discrete(layout.action_size)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._state: BatchState | None = None
        self._mask: Any = None
        #: Next-step mode: bool (num_envs,), the games that ended in the last step (None: none did).
        self._pending: Any = None
        self._needs_reset = True
        #: Torch backend: check that action ids are in range (one device-to-host sync per step). Set False
        #: to step without any sync, e.g. inside a CUDA graph; ids out of range then give undefined results.
        self.check_actions = True

    # ================================================================ state
    def _fresh_state(self, count: int) -> BatchState:
        be, lay = self.backend, self.lay

        def zeros(shape: Any, np_dtype: Any, value: int = 0) -> Any:
            return be.full(shape, value, getattr(be.xp, np.dtype(np_dtype).name))

        board = lay.board_np
        st = BatchState(me=zeros((count,), board), opp=zeros((count,), board), agent=zeros((count,), np.int8),
                        last=zeros((count,), board) if self.config.view == "last_move" else None)
        if not lay.thinking:
            return st
        return st.replace(pos=zeros((count,), board), neg=zeros((count,), board),
                          store=zeros((count, lay.words), np.int64),
                          slen=zeros((count,), lay.len_np), tleft=zeros((count,), lay.tleft_np, lay.max_thoughts),
                          mcount=zeros((count, lay.markers), lay.len_np) if lay.markers else None,
                          thoughts=zeros((count,), lay.count_np))

    def state_nbytes_per_game(self) -> int:
        """Bytes of state one game holds (bitboards, store, counters); observations and masks are outputs."""
        st = self._state or self._fresh_state(1)
        return sum(self.backend.to_numpy(value[:1]).nbytes for value in st.arrays().values())

    def _reset_rows(self, st: BatchState, rows: Any) -> tuple[BatchState, Any]:
        """``st`` with the games where ``rows`` (bool) started afresh: side drawn, the opponent's opening move made.

        Also returns each game's opening *variant* (0: the learner plays X; ``1 + c``: it plays O and the
        opponent opened on cell ``c``), which picks the new episode's first observation and mask from
        the templates; None when the learner always plays X.
        """
        be, k = self.backend, self.kernel
        xp = be.xp
        B = self.num_envs
        setting = self.agent_player_setting
        rm8 = k.ones_where(rows, be.int8)
        if setting == "X":
            agent = st.agent & ~rm8
        elif setting == "O":
            agent = st.agent | (rm8 & 1)
        else:
            drawn = xp.astype(be.uniform(B) < 0.5, be.int8)
            agent = (st.agent & ~rm8) | (drawn & rm8)
        keep = ~k.ones_where(rows, k.bb)
        opp = st.opp & keep
        variant = None
        if setting != "X":
            first = rows & (agent == 1)
            u = be.uniform(B) if self._opponent_draws else be.zeros((B,), be.float32)
            zero = xp.zeros_like(opp)
            cells = xp.astype(k.opponent_cells(zero, zero, agent, first, u), xp.int32)
            opp = opp | (be.take(k.t.cell_bit, cells) & k.ones_where(first, k.bb))
            variant = (cells + 1) & k.ones_where(first, xp.int32)
        st = st.replace(agent=agent, me=st.me & keep, opp=opp)
        if st.last is not None:  # a new game's last move is the opponent's opening, if it made one
            st = st.replace(last=(st.last & keep) | (opp & ~keep))
        if self.lay.thinking:
            st = k.clear_stores(st, rows)
            rt = k.ones_where(rows, st.tleft.dtype)
            st = st.replace(tleft=(st.tleft & ~rt) | (rt & self.lay.max_thoughts),
                            thoughts=st.thoughts & ~k.ones_where(rows, st.thoughts.dtype))
        return st, variant

    def _build_templates(self) -> None:
        """First observation and mask of a new episode, per opening variant (see :meth:`_reset_rows`)."""
        be, lay = self.backend, self.lay
        n = lay.n
        agent = np.zeros(n + 1, np.int8)
        agent[1:] = 1
        opp = np.array([0] + [lay.bit(c) for c in range(n)], np.int64).astype(lay.board_np)
        st = self._fresh_state(n + 1).replace(agent=be.asarray(agent), opp=be.asarray(opp))
        if st.last is not None:
            st = st.replace(last=st.opp)
        self._tmpl_obs = self.observer.obs(st)
        self._tmpl_mask = self.observer.mask(st)

    # ================================================================ API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Reset every game (or, with ``options={"reset_mask": bool array}``, those games); seed the generators.

        Returns the observations and the infos (see the class docstring: every game's row holds the
        values of a fresh episode, ``step_kind`` and ``outcome`` ``-1``).
        """
        super().reset(seed=seed)
        be = self.backend
        if seed is not None:
            be.seed(seed)
        B = self.num_envs
        rows = None
        if options and "reset_mask" in options:
            if self._needs_reset:
                raise RuntimeError("reset(options={'reset_mask': ...}) needs a full reset() first")
            rows = be.asarray(options["reset_mask"], be.bool)
            if tuple(rows.shape) != (B,):
                raise ValueError(f"options['reset_mask'] must be a bool array of shape ({B},), got {tuple(rows.shape)}")
        state = self._state
        if rows is None or state is None:
            state = self._fresh_state(B)
            rows = be.full((B,), True, be.bool)
        self._state, _ = self._reset_rows(state, rows)
        if self._pending is not None:  # a game reset here is no longer waiting for its next-step reset
            self._pending = None if self._needs_reset else self._pending & ~rows
        self._needs_reset = False
        obs = self.observer.obs(self._state)
        self._mask = self.observer.mask(self._state)
        return self._format_obs(obs, self._mask), reset_infos(be, self._mask, B)

    def compile(self, **kwargs: Any) -> ThoughtVectorEnv:
        """Torch backend: ``torch.compile`` :meth:`step` and :meth:`sample_actions` (fuses the array operations).

        ``kwargs`` go to ``torch.compile``. The first call compiles (tens of seconds); returns ``self``.
        """
        if self.backend.is_numpy:
            raise ValueError("compile() needs backend='torch'")
        import torch

        if callable(self.opponent):  # user code stays plain Python (dynamo would rewrite its numpy calls)
            self.opponent = self.kernel.opponent = torch.compiler.disable(self.opponent)
        self.step = torch.compile(self.step, **kwargs)  # type: ignore[method-assign]
        self.sample_actions = torch.compile(self.sample_actions, **kwargs)  # type: ignore[method-assign]
        return self

    def action_masks(self) -> Any:
        """Bool ``(num_envs, A)``: legal actions of each game now (sb3-contrib's MaskablePPO reads it)."""
        if self._mask is None:
            raise RuntimeError("action_masks() called before reset()")
        # A copy: the caller may edit it (and infos["action_mask"] is the same array as the env's own).
        return self.backend.xp.asarray(self._mask, copy=True)

    def agent_players(self) -> Any:
        """int8 ``(num_envs,)``: the learner's side in each game now (0 = X, 1 = O)."""
        return self._current().agent

    def sample_actions(self) -> Any:
        """One uniformly random legal action per game (action 0 where none is legal), from the env's generator.

        The batched ``action_space.sample(mask)`` of random rollouts and of the benchmarks, drawn from the
        bitboards where :meth:`Observer.sample` can (the registered settings), else from the mask.
        """
        if self._needs_reset:
            raise RuntimeError("sample_actions() called before reset()")
        return self.observer.sample(self._current(), self.backend.uniform(self.num_envs))

    def _current(self) -> BatchState:
        if self._state is None:
            raise RuntimeError("the vector env has no state before reset()")
        return self._state

    def _check_actions(self, actions: Any) -> Any:
        be = self.backend
        xp = be.xp
        A = self.lay.actions
        try:
            a = be.asarray(actions)
        except Exception as err:
            raise TypeError(f"actions must be an int array of shape ({self.num_envs},), got {actions!r}") from err
        if tuple(a.shape) != (self.num_envs,):
            raise ValueError(f"actions must have shape ({self.num_envs},), got shape {tuple(a.shape)}")
        if be.is_numpy:
            return self._checked_numpy_actions(a, A)
        if a.dtype not in (xp.int8, xp.int16, xp.int32, xp.int64, xp.uint8):
            raise TypeError(f"actions must be integers in [0, {A}), got dtype {a.dtype}")
        if not self.check_actions:  # no device-to-host sync (CUDA graphs); out-of-range ids are then undefined
            return xp.astype(a, xp.int64)
        bad = (a < 0) | (a >= A)
        if be.item_any(bad):
            raise ValueError(f"actions must be ints in [0, {A}), got {int(a[be.nonzero(bad)[0]])}")
        return xp.astype(a, xp.int64)

    @staticmethod
    def _checked_numpy_actions(a: np.ndarray, A: int) -> np.ndarray:
        if not np.issubdtype(a.dtype, np.integer) or a.dtype == np.bool_:
            raise TypeError(f"actions must be integers in [0, {A}), got dtype {a.dtype}")
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi >= A:
            raise ValueError(f"actions must be ints in [0, {A}), got {lo if lo < 0 else hi}")
        return a if a.dtype == np.intp else a.astype(np.intp)

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        if self._needs_reset:
            raise RuntimeError("step() called before reset(); call reset() first")
        be = self.backend
        a = self._check_actions(actions)
        st, pending = self._current(), self._pending
        if pending is not None:  # next step: the games that ended last step start again and ignore their action
            st, _ = self._reset_rows(st, pending)
        new, values = self._transition(st, a, pending)
        extra: dict[str, Any] = {}
        if self.autoreset_mode == AutoresetMode.SAME_STEP:
            obs, mask, final_obs = self._autoreset(new, values["terminated"])
            extra = {"final_obs": self._format_obs(final_obs, be.zeros(tuple(mask.shape), be.bool)),
                     "_final_obs": values["terminated"]}
        else:
            obs, mask, values = self._next_step(st, new, values, pending)
        infos = with_masks(be, {"action_mask": mask, **{key: values[key] for key in RESET_VALUES}}, self.num_envs)
        if extra:
            # Gymnasium's same-step convention: the finished step's infos (its terminal, all-False mask
            # included) under "final_info" where a game ended; the main infos hold the same values, with the
            # new episode's mask.
            terminal = {**infos, "action_mask": be.zeros(tuple(mask.shape), be.bool)}
            extra.update(final_info=terminal, _final_info=values["terminated"])
        infos.update(extra)
        truncations = be.zeros((self.num_envs,), be.bool)
        return self._format_obs(obs, mask), values["reward"], values["terminated"], truncations, infos

    def _transition(self, st: BatchState, a: Any, ignored: Any) -> tuple[BatchState, dict[str, Any]]:
        """Every game's step from ``st``: the state after it, and its per-game outputs (reward, terminated
        and the info values). ``ignored``: games whose action does not count (next step's resets), or None."""
        be, k = self.backend, self.kernel
        xp = be.xp
        d = k.decide(st, a)
        if self.illegal_action == "raise":
            counted_legal = d.legal if ignored is None else d.legal | ignored
            if not bool(xp.all(counted_legal)):
                self._raise_illegal(d, counted_legal)
        shaping = self.shaping if self.lay.thinking else None  # without thoughts every shaping variant pays 0
        optimal = self._truth_bits(shaping, st)
        thought = k.think(st, d) if self.lay.thinking else st
        moved, won, draw, reply = k.learner_move(thought, d)
        u = be.uniform(self.num_envs) if self._opponent_draws else be.zeros((self.num_envs,), be.float32)
        new, obit, owon, ofull = k.opponent_reply(moved, reply, u)

        i8 = xp.int8
        lost, drawn = owon | ~d.legal, draw | ofull
        terminated = won | lost | drawn
        # The learner is "X" of outcome_code here: a game it won has winner 0, lost 1, drawn WINNER_DRAW.
        winner = xp.astype(lost, i8) * WINNER_O + xp.astype(drawn, i8) * WINNER_DRAW
        code1 = xp.astype((outcome_code(winner, WINNER_X) + 1) * terminated, i8)  # 0 where still running
        reward_game = be.take(k.t.reward_game, code1)
        reward_shaping = self._shaping_reward(shaping, d, st, thought, new, optimal, reply, obit, terminated)
        reward_cost = self._cost(d)
        no_thoughts = be.zeros((self.num_envs,), be.int32)
        return new, {
            "reward": reward_game + reward_shaping + reward_cost,
            "terminated": terminated,
            "reward_game": reward_game,
            "reward_shaping": reward_shaping,
            "reward_cost": reward_cost,
            "step_kind": xp.astype(~d.is_move, i8) if d.is_move is not None else be.zeros((self.num_envs,), i8),
            "outcome": code1 - 1,
            # the count before any autoreset: where the game ended, the episode's
            "thoughts": xp.astype(new.thoughts, xp.int32) if new.thoughts is not None else no_thoughts,
            "illegal_action": ~d.legal,
        }

    # ================================================================ step pieces
    def _zeros64(self) -> Any:
        return self.backend.zeros((self.num_envs,), self.backend.float64)

    def _const64(self, value: float) -> Any:  # float64 on both backends (torch.where of Python floats is float32)
        return self.backend.full((self.num_envs,), value, self.backend.float64)

    def _cost(self, d: Decision) -> Any:
        if d.thought is None or self.thought_cost == 0.0:
            return self._zeros64()
        return self.backend.xp.where(d.thought, self._const64(-self.thought_cost), self._zeros64())

    def _shaping_reward(self, shaping: Any, d: Decision, before: BatchState, thought: BatchState,
                        after: BatchState, optimal: Any, reply: Any, obit: Any, terminated: Any) -> Any:
        """The step's shaping reward (docs/shaping.md), judged with :mod:`tttthought_env.rewards`."""
        k, xp, scale = self.kernel, self.backend.xp, self.shaping_scale
        if shaping is None:
            return self._zeros64()
        if shaping == "prediction":  # the forecast of the store as it stood when the opponent moved
            return k.prediction(thought.pos, thought.neg, obit, scale)
        if shaping in PER_THOUGHT_KINDS:
            return k.oracle(d, optimal, scale, self._zeros64())
        # potential variants: Φ after each decision point, -Φ when the game ends (see tttthought_env.shaping)
        gamma = self.shaping_gamma
        phi0 = k.potential(before.pos, before.neg, optimal, scale)
        phi_thought = k.potential(thought.pos, thought.neg, optimal, scale)
        value = xp.where(d.thought, gamma * phi_thought - phi0, -phi0)
        phi_after = k.potential(after.pos, after.neg, self._truth_bits(shaping, after), scale)
        return xp.where(reply & ~terminated, gamma * phi_after - phi0, value)

    def _truth_bits(self, shaping: Any, st: BatchState) -> Any:
        """The propositions true for the learner's store in ``st`` (as :meth:`Shaping.truth_bits`), or None
        where ``shaping`` judges none: the opponent's cells for the world variants, else the optimal moves."""
        if truth_is_world(shaping):
            return st.opp
        if shaping in ("oracle", "potential"):
            return self.kernel.optimal_bits(st.me, st.opp, st.agent)
        return None

    def _autoreset(self, new: BatchState, terminated: Any) -> tuple[Any, Any, Any]:
        """Observations and masks of every game as it stands (the terminal ones where a game ended); then the
        games that ended start again, and their rows take the first observation and mask of a new episode."""
        be = self.backend
        xp = be.xp
        obs = self.observer.obs(new)
        mask = self.observer.mask(new)
        if be.is_numpy:  # index only the rows that ended: most steps end few games
            ended = np.flatnonzero(terminated)
            # Zeros, not np.empty: a reader of every row (TorchRL) must find values in the space; np.zeros
            # is lazily allocated, so it costs no more.
            final_obs = np.zeros_like(obs)
            if ended.size:
                final_obs[ended] = obs[ended]
                new, variant = self._reset_rows(new, terminated)
                v = 0 if variant is None else variant[ended]
                obs[ended] = self._tmpl_obs[v]
                mask[ended] = self._tmpl_mask[v]
        else:  # no data-dependent shapes on the device
            final_obs = obs
            new, variant = self._reset_rows(new, terminated)
            v = variant if variant is not None else be.zeros((self.num_envs,), be.int32)
            col = terminated[:, None]
            rows = xp.reshape(terminated, (-1,) + (1,) * (obs.ndim - 1))  # (tokens are (B, L, 3))
            obs = xp.where(rows, be.take(self._tmpl_obs, v), obs)
            mask = xp.where(col, be.take(self._tmpl_mask, v), mask)
        self._state = new
        self._mask = mask
        return obs, mask, final_obs

    def _next_step(self, reset: BatchState, new: BatchState, values: dict[str, Any],
                   pending: Any) -> tuple[Any, Any, dict[str, Any]]:
        """Next-step autoreset: the games in ``pending`` keep their fresh state ``reset`` and report a reset
        (their action ignored); the others keep the step's, terminal ones unreset until the next step."""
        be = self.backend
        if pending is not None:
            new = self._blend(pending, reset, new)
            values = ignore_rows(be, pending, values)
        terminated = values["terminated"]
        obs = self.observer.obs(new)
        # A terminal observation has no legal action (the single env reports an all-False mask there too).
        mask = self.observer.mask(new) & ~terminated[:, None]
        self._state, self._mask = new, mask
        # numpy: skip the next step's reset when no game ended (torch: no host sync, always reset the rows)
        self._pending = terminated if not be.is_numpy or terminated.any() else None
        return obs, mask, values

    def _blend(self, rows: Any, where_rows: BatchState, elsewhere: BatchState) -> BatchState:
        """The state of ``where_rows`` in the games ``rows``, of ``elsewhere`` in the others."""
        xp = self.backend.xp
        return elsewhere.replace(**{
            key: xp.where(rows if value.ndim == 1 else rows[:, None], value, getattr(elsewhere, key))
            for key, value in where_rows.arrays().items()})

    def _format_obs(self, obs: Any, mask: Any) -> Any:
        """The batched twin of :meth:`tttthought_env.core.Game.observe`."""
        xp, int8 = self.backend.xp, self.backend.int8
        if self.obs_mode == "tokens":
            return {"tokens": obs, "token_mask": xp.astype(obs[:, :, 0] != 0, int8), "action_mask": xp.astype(mask, int8)}
        if self.obs_mode == "flat":
            return obs
        return {"observation": obs, "action_mask": xp.astype(mask, int8)}

    def _raise_illegal(self, d: Decision, legal: Any) -> None:
        be = self.backend
        i = int(be.to_numpy(be.nonzero(~legal))[0])
        action = int(be.to_numpy(d.action)[i])
        channel, arg = self.layout.decode[action]
        raise ValueError(f"action {action} ({channel} {arg}) of env {i} is illegal: {self._illegal_reason(i, action)}")

    def _illegal_reason(self, i: int, action: int) -> str:
        """The single env's wording (:meth:`core.Game.illegal_reason`) of why ``action`` is illegal in game ``i``."""
        if self.kernel.reset_can_end and bool(self.backend.to_numpy(self.kernel.game_over(self._current()))[i]):
            return "the game is over"
        return self.game_at(i).illegal_reason(action)  # the core's words, on the core's view of game i

    # ---------------------------------------------------------------- single-env views
    def info_at(self, infos: dict[str, Any], i: int) -> dict[str, Any]:
        """Row ``i`` of ``infos`` as the single env's ``info`` dict of the same step (or reset).

        The same keys with Python scalars; ``"action_mask"`` is the mask the single env reports: all
        False where the episode ended (the vector env's own same-step row is then the new episode's).
        """
        return info_at(self.backend, infos, i, self.lay.actions)

    def game_state(self, i: int) -> dict[str, Any]:
        """Game ``i`` in plain Python: board (int8 ``N``), side, store entries oldest first, thoughts left."""
        lay, n = self.lay, self.lay.n
        st = {key: self.backend.to_numpy(value[i]) for key, value in self._current().arrays().items()}
        agent = int(st["agent"])
        mine, theirs = (np.array([int(st[key]) >> c & 1 for c in range(n)]) for key in ("me", "opp"))
        board = (mine * (agent + 1) + theirs * (2 - agent)).astype(np.int8)
        # (tracked only by view="last_move"; -1 before the opponent's first move)
        last = int(st["last"]).bit_length() - 1 if "last" in st else -1
        if not lay.thinking:
            return {"board": board, "agent": agent, "store": (), "thoughts_left": lay.max_thoughts, "thoughts": 0,
                    "opponent_last_move": last}
        fields = [int(w) >> (lay.code_bits * f) & lay.field for w in st["store"] for f in range(lay.fields)]
        store = tuple(("+-#"[min(c // n, 2)], c % n if c < 2 * n else c - 2 * n)
                      for c in (value - 1 for value in fields[:int(st["slen"])]))  # oldest first
        return {"board": board, "agent": agent, "store": store, "thoughts_left": int(st["tleft"]),
                "thoughts": int(st["thoughts"]), "opponent_last_move": last}

    def game_at(self, i: int) -> Game:
        """Game ``i`` as a :class:`~tttthought_env.core.Game` (for rendering): the learner to move, its store;
        the opponent never thinks, so its store is empty. A terminal state (next-step mode) shows no winner."""
        state = self.game_state(i)
        game = Game(self.layout)
        board, agent, n = state["board"], state["agent"], self.lay.n
        game.marks = [sum(1 << int(c) for c in np.flatnonzero(board == side)) for side in (1, 2)]
        offsets = {"+": 0, "-": n, "#": 2 * n}  # the core's entry codes: +p -> p, -p -> N + p, #m -> 2N + m
        game.stores[agent] = [offsets[sign] + arg for sign, arg in state["store"]]
        game.pos[agent] = sum(1 << arg for sign, arg in state["store"] if sign == "+")
        game.neg[agent] = sum(1 << arg for sign, arg in state["store"] if sign == "-")
        game.thoughts_left[agent] = state["thoughts_left"]
        game.last_move[1 - agent] = state["opponent_last_move"]
        game.to_move = agent
        return game

    def render(self) -> tuple[np.ndarray, ...] | None:
        """``render_mode="rgb_array"``: one ``H x W x 3`` uint8 frame per game (as Gymnasium's SyncVectorEnv)."""
        if self.render_mode is None:
            return None
        return tuple(render_rgb(self.game_at(i)) for i in range(self.num_envs))

    def __getstate__(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key not in _REBUILT}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Rebuild the tables and rules from the constructor's arguments, then take the copy's state."""
        state = dict(state)
        backend = state.pop("backend")  # pickled by name, device and generator state (Backend.__getstate__)
        ThoughtVectorEnv.__init__(self, **state["_init_kwargs"])
        self.__dict__.update(state)
        self.backend.rng = backend.rng  # the rebuilt kernel holds the rebuilt backend: give it the generator

    def close_extras(self, **kwargs: Any) -> None:
        self._state = None


def make_vector_env(env_id: str, num_envs: int, **kwargs: Any) -> ThoughtVectorEnv:
    """The vector env of a registered id (``"tttthought/Full-v0"``...) with its settings; ``kwargs`` override."""
    from tttthought_env.registration import GYMNASIUM_DEFAULTS, TASKS

    if env_id not in TASKS:
        raise ValueError(f"env_id must be one of {tuple(TASKS)}, got {env_id!r}")
    return ThoughtVectorEnv(num_envs, **{**GYMNASIUM_DEFAULTS, **TASKS[env_id], **kwargs})
