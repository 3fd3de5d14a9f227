"""Batched vector env: many games of :class:`~tttthought_env.gymnasium_env.ThoughtTicTacToeEnv` at once.

``ThoughtVectorEnv(num_envs, **config)`` runs ``num_envs`` learner-vs-opponent games with exactly the rules,
rewards, shaping and opponents of the single env, as array operations over all games (no Python loop over
games), written once against the Python array API so the same code runs on NumPy arrays (``backend="numpy"``,
the default) and on PyTorch tensors (``backend="torch"``, ``device="cpu"`` or ``"cuda"``).

* A Gymnasium :class:`~gymnasium.vector.VectorEnv` with ``metadata["autoreset_mode"] = AutoresetMode.SAME_STEP``:
  a game that ends is reset inside the same ``step``; the observation returned for it is the first one of
  the next episode and ``infos["final_obs"]`` holds the terminal one.
* :class:`SB3VecEnv` adapts it to stable-baselines3's ``VecEnv`` (``terminal_observation`` in the infos,
  ``env_method("action_masks")`` for sb3-contrib's ``get_action_masks``), so ``MaskablePPO`` trains on it.

Infos are one array per key, leading dimension ``num_envs`` (Gymnasium's vector convention); keys that only
some games have come with a ``"_key"`` bool mask. See :meth:`ThoughtVectorEnv.step` and :meth:`info_at`.

State per game is a handful of small integers (bitboards, the ordered thought store as entry codes, counters):
:meth:`ThoughtVectorEnv.state_nbytes_per_game` is 22 bytes for 3x3 with every channel on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from tttthought_env.core import CHANNELS, Config, check_real, rules_for, winning_lines
from tttthought_env.opponents import OPPONENTS
from tttthought_env.settings import AGENT_PLAYERS, EnvOptions, check_choice, observation_space
from tttthought_env.vector_backend import Backend

__all__ = ["OUTCOMES", "STEP_KINDS", "SB3VecEnv", "ThoughtVectorEnv", "make_vector_env"]  # noqa: F822 (lazy)

#: ``infos["step_kind"]`` codes: ``STEP_KINDS[code]`` is the single env's ``info["step_kind"]``.
STEP_KINDS: tuple[str, ...] = ("move", "thought")
#: ``infos["outcome"]`` codes (where ``infos["_outcome"]``): ``OUTCOMES[code]`` is the single env's ``"outcome"``.
OUTCOMES: tuple[str, ...] = ("win", "draw", "loss")
#: Boards up to this many cells use lookup tables indexed by bitboard (popcount, wins, k-th set bit).
_TABLE_CELLS = 16
#: Boards up to this many cells have a complete solver table (``Solver.tables()``).
_SOLVER_TABLE_CELLS = 12
#: Boards up to this many cells index solver and heuristic answers by position (2**(2N+1) entries).
_POSITION_TABLE_CELLS = 9

_CH_MOVE, _CH_PROPOSE, _CH_NEGATE, _CH_FORGET, _CH_MARKER = range(5)


def _int_dtype_for(bound: int) -> Any:
    """Smallest signed numpy dtype holding ``[-1, bound]``."""
    for dtype in (np.int8, np.int16, np.int32):
        if bound <= np.iinfo(dtype).max:
            return dtype
    return np.int64


def _signed(value: int, bits: int) -> int:
    """``value`` (an unsigned bit pattern of ``bits`` bits) as the signed integer with the same bits."""
    return value - (1 << bits) if value >> (bits - 1) & 1 else value


class ThoughtVectorEnv(VectorEnv):
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
    * ``shaping`` must be ``None``, ``"oracle"``, ``"potential"`` or ``"prediction"``: a callable shaping sees
      one game's store at a time and cannot be vectorized (``ValueError``; use the single env for it).

    ## Step
    ``step(actions)`` takes ``num_envs`` action ids and returns ``(obs, rewards, terminations, truncations,
    infos)``: float32 observations ``(num_envs, obs_size)`` (or the dict of the single env's
    ``obs_mode="dict"``), float64 rewards, bool terminations, all-False truncations (every episode ends by
    itself), as numpy arrays or tensors of the backend. Every call returns new arrays. ``infos``:

    * ``"action_mask"`` bool ``(num_envs, A)``: legal actions for the returned observation
      (after an autoreset, those of the new episode); :meth:`action_masks` returns the same.
    * ``"reward_game"``, ``"reward_shaping"``, ``"reward_cost"`` float64: the step's reward split, every game.
    * ``"step_kind"`` int8: index into :data:`STEP_KINDS` (``0`` move, ``1`` thought), every game.
    * ``"illegal_action"`` bool with mask ``"_illegal_action"``: where the action was illegal (``"lose"``).
    * ``"outcome"`` int8 (index into :data:`OUTCOMES`, ``-1`` elsewhere) and ``"thoughts"`` (the episode's
      thought count, ``0`` elsewhere), with masks ``"_outcome"``, ``"_thoughts"``: where the episode ended.
    * ``"final_obs"`` (same layout as the observations) with mask ``"_final_obs"``: the terminal
      observation where the episode ended; the other rows are unspecified.

    :meth:`info_at` turns row ``i`` back into the single env's ``info`` dict; :meth:`sample_actions` draws a
    uniformly random legal action per game.
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(
        self,
        num_envs: int,
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
        backend: str = "numpy",
        device: Any = None,
        max_episode_steps: int | None = None,
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be an int >= 1, got {num_envs!r}")
        self.num_envs = int(num_envs)
        self.config = cfg = Config(rows, cols, k, channels, max_thoughts, memory_size, num_markers, persist)
        self.rules = rules = rules_for(cfg)
        # gymnasium.make_vec passes the registered limit. Episodes end by themselves within the bound, and
        # the vector env does not truncate, so a smaller limit is an error rather than a silent change.
        if max_episode_steps is not None and max_episode_steps < rules.max_episode_moves_and_thoughts:
            raise ValueError(
                f"max_episode_steps must be None or >= {rules.max_episode_moves_and_thoughts} (episodes of this "
                f"configuration end by themselves within that many steps; the vector env never truncates), "
                f"got {max_episode_steps!r}"
            )
        check_choice("agent_player", agent_player, AGENT_PLAYERS)
        options = self.options = EnvOptions(illegal_action, thought_cost, draw_reward, shaping, shaping_scale,
                                            shaping_gamma, obs_mode)
        if render_mode is not None:
            raise ValueError(f"the vector env does not render; got render_mode={render_mode!r} (render a single env)")
        self.thought_cost, self.draw_reward = options.thought_cost, options.draw_reward
        self.shaping_scale, self.shaping_gamma = options.shaping_scale, options.shaping_gamma
        if callable(shaping):
            raise ValueError(
                "a callable shaping cannot be vectorized (it sees one game's store at a time); use "
                "shaping='oracle', 'potential' or 'prediction' here, or the single env ThoughtTicTacToeEnv"
            )
        self.shaping = shaping
        self.opponent_epsilon = check_real("opponent_epsilon", opponent_epsilon, 0, 1)
        if isinstance(opponent, str):
            if opponent not in OPPONENTS:
                raise ValueError(
                    f"opponent must be one of {OPPONENTS} or a batched callable (boards, rng) -> cells, got {opponent!r}"
                )
        elif not callable(opponent):
            raise TypeError(
                f"opponent must be one of {OPPONENTS} or a batched callable (boards, rng) -> cells, "
                f"got {opponent!r} of type {type(opponent).__name__}"
            )
        self.opponent = opponent
        self.opponent_name = opponent if isinstance(opponent, str) else getattr(opponent, "__name__", "callable")
        self.agent_player_setting = agent_player
        self.illegal_action = illegal_action
        self.obs_mode = obs_mode
        self.render_mode = None
        self.backend = Backend(backend, device)
        self.device = self.backend.device

        n = rules.n_cells
        self._n = n
        self._A = rules.action_size
        self._thinking = cfg.thinking
        self._S = cfg.memory_size
        self._M = cfg.num_markers if "marker" in cfg.channels else 0
        self._maxT = cfg.max_thoughts
        self._reset_can_end = agent_player != "X" and (cfg.k == 1 or n == 1)
        self._opponent_draws = not callable(opponent) or self.opponent_epsilon > 0.0
        needs_solver = opponent == "minimax" or shaping in ("oracle", "potential")
        if needs_solver and n > _SOLVER_TABLE_CELLS:
            what = "opponent='minimax'" if opponent == "minimax" else f"shaping={shaping!r}"
            raise ValueError(
                f"{what} in the vector env reads the solver's complete table (Solver.tables()), which exists only "
                f"for boards of up to {_SOLVER_TABLE_CELLS} cells; got {rows}x{cols} = {n} cells. Use opponent="
                "'random' or 'heuristic' and shaping=None or 'prediction', or the single env ThoughtTicTacToeEnv"
            )
        self._build_tables(needs_solver)
        self._build_obs_table()
        self._build_templates()
        self._build_sampler()

        self.single_observation_space = observation_space(rules, obs_mode)
        self.single_action_space = spaces.Discrete(rules.action_size)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._state: dict[str, Any] = {}
        self._mask = None
        self._needs_reset = True
        #: Torch backend: check that action ids are in range (one device-to-host sync per step). Set False
        #: to step without any sync, e.g. inside a CUDA graph; ids out of range then give undefined results.
        self.check_actions = True

    # ================================================================ tables
    def _build_tables(self, needs_solver: bool) -> None:
        """Per-config lookup tables (numpy first, then moved to the backend once)."""
        be, cfg, rules = self.backend, self.config, self.rules
        xp = be.xp
        n, A, S, M = self._n, self._A, self._S, self._M
        bb_np = np.int16 if n <= 15 else np.int32 if n <= 31 else np.int64
        self._bb_np = bb_np
        self._bb_bits = np.dtype(bb_np).itemsize * 8
        self._bb = getattr(xp, np.dtype(bb_np).name)
        self._full = _signed((1 << n) - 1, self._bb_bits) if n == self._bb_bits else (1 << n) - 1
        self._len = getattr(xp, np.dtype(_int_dtype_for(S)).name)
        self._tl = getattr(xp, np.dtype(_int_dtype_for(max(self._maxT, 1))).name)
        self._count = getattr(xp, np.dtype(_int_dtype_for(max(n * self._maxT, 1))).name)
        # The thought store: entry code + 1 (0 = empty) in fields of cbits bits of one integer, oldest lowest,
        # when it fits in 62 bits (3x3: 9 entries x 5 bits); otherwise an (S,) array of codes (-1 = empty).
        self._cbits = (2 * n + M).bit_length()
        self._mbits = S.bit_length()  # one marker count (<= S) per field of the packed marker counters
        self._packed = S * self._cbits <= 62 and M * self._mbits <= 62
        if self._packed:
            self._store_dtype = getattr(xp, "int32" if S * self._cbits <= 31 else "int64")
            self._mc_np = _int_dtype_for(max(1 << (M * self._mbits), 2) - 1)
            self._mc_dtype = getattr(xp, np.dtype(self._mc_np).name)
            self._ones = sum(1 << (self._cbits * i) for i in range(S))
            self._highs = self._ones << (self._cbits - 1)
            self._field = (1 << self._cbits) - 1
        else:
            self._store_dtype = getattr(xp, np.dtype(_int_dtype_for(2 * n + max(M, 1))).name)
            self._mc_dtype = self._len

        def bit(c: int) -> int:
            return _signed(1 << c, self._bb_bits) if c == self._bb_bits - 1 else 1 << c

        chan = np.zeros(A, np.int8)
        arg = np.zeros(A, np.int64)
        bits = np.zeros(A, np.int64)
        add = np.full(A, -1, np.int64)
        channel_code = {"move": _CH_MOVE, "propose": _CH_PROPOSE, "negate": _CH_NEGATE, "forget": _CH_FORGET,
                        "marker": _CH_MARKER}
        for a, (channel, x) in enumerate(rules.decode):
            chan[a] = channel_code[channel]
            arg[a] = x
            if channel != "marker":
                bits[a] = bit(x)
            if channel == "propose":
                add[a] = x
            elif channel == "negate":
                add[a] = n + x
            elif channel == "marker":
                add[a] = 2 * n + x
        self._t_chan = be.asarray(chan)
        self._t_arg = be.asarray(arg)
        self._t_bit = be.asarray(bits.astype(bb_np))
        self._t_add = be.asarray(add)
        self._t_add1 = be.asarray(add + 1)
        self._t_cell_bit = be.asarray(np.array([bit(c) for c in range(n)], dtype=np.int64).astype(bb_np))
        # code_bit[code + 1]: the proposition bit of a store code (0 for markers and for "no code").
        code_bit = np.zeros(2 * n + M + 1, np.int64)
        for code in range(2 * n):
            code_bit[code + 1] = bit(code % n)
        self._t_code_bit = be.asarray(code_bit.astype(bb_np))
        if self._packed and M:
            delta = np.zeros(2 * n + M + 1, np.int64)
            for m in range(M):
                delta[2 * n + m + 1] = 1 << (self._mbits * m)
            self._t_mc_delta = be.asarray(delta.astype(self._mc_np))
        # ok[chan * 3 + s]: thought of channel chan legal when the proposition's state is s (0 absent, 1 +, 2 -).
        ok = np.zeros(15, bool)
        for s in range(3):
            ok[_CH_PROPOSE * 3 + s] = s != 1
            ok[_CH_NEGATE * 3 + s] = s != 2
            ok[_CH_FORGET * 3 + s] = s != 0
            ok[_CH_MARKER * 3 + s] = True
        self._t_ok = be.asarray(ok)
        # reward_game by outcome code + 1 (none, win, draw, loss).
        self._t_reward_game = be.asarray(np.array([0.0, 1.0, self.draw_reward, -1.0], np.float64))
        self._t_marker_codes = be.asarray(np.arange(2 * n, 2 * n + M, dtype=np.int64)) if M else None
        self._lines = [int(sum(1 << c for c in line)) for line in winning_lines(cfg.rows, cfg.cols, cfg.k)]
        self._small = n <= _TABLE_CELLS
        if self._small:
            size = 1 << n
            idx = np.arange(size, dtype=np.int64)
            pop = np.zeros(size, np.int64)
            for c in range(n):
                pop += (idx >> c) & 1
            self._t_pop = be.asarray(pop.astype(np.int8))
            won = np.zeros(size, bool)
            for line in self._lines:
                won |= (idx & line) == line
            self._t_won = be.asarray(won)
            # select[mask * n + r] = the r-th set bit (ascending) of mask.
            sel = np.zeros((size, n), np.int8)
            rank = np.zeros(size, np.int64)
            for c in range(n):
                has = ((idx >> c) & 1).astype(bool)
                sel[idx[has], rank[has]] = c
                rank += has
            self._t_select = be.asarray(sel.reshape(-1))
        else:
            self._t_shifts = be.arange(n, be.int64)
            self._t_line_masks = be.asarray(np.array([_signed(m, 64) if m >> 63 else m for m in self._lines], np.int64))
        self._t_opt = None
        if needs_solver:
            from tttthought_env.solver import get_solver

            try:
                tables = get_solver(cfg.rows, cfg.cols, cfg.k).tables()
            except ValueError as err:  # SolverLimitError included
                raise ValueError(f"the vector env needs the solver's table for this board: {err}") from err
            self._t_opt = be.asarray(tables["optimal_bits"].astype(bb_np))
        if n <= _SOLVER_TABLE_CELLS and (needs_solver or self.opponent == "heuristic"):
            pow3 = np.zeros(1 << n, np.int64)
            idx = np.arange(1 << n, dtype=np.int64)
            for c in range(n):
                pow3 += ((idx >> c) & 1) * 3 ** c
            self._t_pow3 = be.asarray(pow3.astype(np.int32))
        if self.opponent == "heuristic":
            self._build_heuristic()
        # Boards of up to 9 cells: the solver's and the heuristic's answers indexed directly by the position
        # (learner bits | opponent bits << N | learner side << 2N), one lookup instead of a base-3 key first.
        self._t_opt_pos = self._t_heur_pos = None
        if n <= _POSITION_TABLE_CELLS:
            idx = np.arange(1 << (2 * n + 1), dtype=np.int64)
            me, opp, side = idx & ((1 << n) - 1), (idx >> n) & ((1 << n) - 1), idx >> (2 * n)
            valid = (me & opp) == 0
            key = None
            for name, table in (("_t_opt_pos", self._t_opt), ("_t_heur_pos", getattr(self, "_t_heur", None))):
                if table is None:
                    continue
                if key is None:
                    pow3 = be.to_numpy(self._t_pow3).astype(np.int64)
                    key = np.where(valid, pow3[me] * (1 + side) + pow3[opp] * (2 - side), 0)
                setattr(self, name, be.asarray(np.where(valid, be.to_numpy(table)[key], 0).astype(bb_np)))

    def _build_sampler(self) -> None:
        """Tables of :meth:`_sample_actions_props`: legal thought channels per proposition state, in order."""
        self._props_per_state = 0
        off = self.rules.offsets
        if not self._thinking or self._n > 31:
            return
        # state 0 (absent): propose, negate; 1 (+p in the store): negate, forget; 2 (-p): propose, forget
        legal_by_state = (("propose", "negate"), ("negate", "forget"), ("propose", "forget"))
        per_state = [[c for c in channels if c in off] for channels in legal_by_state]
        k = len(per_state[0])
        if k == 0 or any(len(chs) != k for chs in per_state):
            return
        table = np.array([off[c] for chs in per_state for c in chs], np.int32)
        self._t_prop_kind_off = self.backend.asarray(table)
        self._props_per_state = k

    def _build_obs_table(self) -> None:
        """One gather table that writes whole observation rows, for the usual layouts (3x3 Full-v0 among them).

        The observation is cut into groups of 8 columns. A group of bit columns (marks, +p, -p) is one byte
        of the packed bits: row ``byte`` of the 256 rows ``T8`` (its 8 bits as 0.0/1.0). The last group also
        holds the scalar columns (marker counts, thoughts left, entries): it gets its own rows, one per
        (its bits, scalar values) combination, each value written as the core computes it. Used when the
        width is a multiple of 8, the bits fit one int64 and that table stays small (3x3 Full-v0: 64,000 rows).
        """
        self._obs_fast = False
        rules, n, S, M, maxT = self.rules, self._n, self._S, self._M, self._maxT
        W = rules.obs_size
        nbits = 4 * n
        if not self._thinking or W % 8 or nbits > 64:
            return
        groups = W // 8
        first_last = 8 * (groups - 1)
        if nbits < first_last:  # scalar columns spill over more than one group
            return
        nb_last = nbits - first_last
        radices = [S + 1] * M + [maxT + 1, S + 1]
        combos = int(np.prod(radices))
        rows = (1 << nb_last) * combos
        if rows > 1 << 17:
            return
        t8 = ((np.arange(256)[:, None] >> np.arange(8)[None, :]) & 1).astype(np.float32)
        last = np.zeros((rows, 8), np.float32)
        idx = np.arange(rows)
        low = idx & ((1 << nb_last) - 1)
        code = idx >> nb_last
        for j in range(nb_last):
            last[:, j] = (low >> j) & 1
        values = []
        for radix in reversed(radices):  # mixed radix: the last scalar is the lowest digit
            values.append(code % radix)
            code = code // radix
        values.reverse()
        denominators = [S] * M + [maxT, S]
        for j, (digit, den) in enumerate(zip(values, denominators)):
            last[:, nb_last + j] = (digit / den).astype(np.float32)  # the float32 of the core's Python c / den
        table = np.concatenate([t8, last])
        self._obs_fast = True
        self._obs_groups = groups
        self._obs_nb_last = nb_last
        self._obs_radices = radices
        be = self.backend
        self._t_obs_rows = table.view("V32").reshape(-1) if be.is_numpy else be.asarray(table)
        self._t_byte_shifts = be.asarray(np.arange(groups - 1, dtype=np.int64) * 8)

    def _build_obs_fast(self, st: dict) -> Any:
        be = self.backend
        xp = be.xp
        n = self._n
        word = self._pack([(st["me"], 0, n), (st["opp"], n, n), (st["pos"], 2 * n, n), (st["neg"], 3 * n, n)],
                          64)[0]
        i32 = xp.int32
        scalars = self._marker_counts(st) + [st["tleft"], st["slen"]]
        code = xp.astype(scalars[0], i32)
        for radix, value in zip(self._obs_radices[1:], scalars[1:]):
            code = code * radix + xp.astype(value, i32)
        G, nb = self._obs_groups, self._obs_nb_last
        last = xp.astype((word >> (8 * (G - 1))) & ((1 << nb) - 1), i32) + (code << nb) + 256
        B = word.shape[0]
        if be.is_numpy:
            idx = np.empty((B, G), np.intp)
            idx[:, :G - 1] = word.view(np.uint8).reshape(B, 8)[:, :G - 1]
            idx[:, G - 1] = last
            return np.take(self._t_obs_rows, idx).view(np.float32).reshape(B, 8 * G)
        first = (word[:, None] >> self._t_byte_shifts[None, :]) & 255
        idx = xp.concat([first, xp.astype(last, xp.int64)[:, None]], axis=1)
        return self._t_obs_rows[idx].reshape(B, 8 * G)

    def _build_heuristic(self) -> None:
        """Candidate cells of :class:`~tttthought_env.opponents.HeuristicOpponent` (ties broken uniformly)."""
        cfg, n = self.config, self._n
        rows, cols = cfg.rows, cfg.cols
        mid_rows = sorted({(rows - 1) // 2, rows // 2})
        mid_cols = sorted({(cols - 1) // 2, cols // 2})
        self._centre = sum(1 << (r * cols + c) for r in mid_rows for c in mid_cols)
        self._corners = sum(1 << c for c in {0, cols - 1, n - cols, n - 1})
        self._t_heur = None
        if n <= _SOLVER_TABLE_CELLS:
            # One table over every base-3 key, built with the same vectorized rule (numpy, all keys at once).
            keys = np.arange(3 ** n, dtype=np.int64)
            x = np.zeros(keys.size, np.int64)
            o = np.zeros(keys.size, np.int64)
            rest = keys.copy()
            for c in range(n):
                digit = rest % 3
                rest //= 3
                x |= (digit == 1).astype(np.int64) << c
                o |= (digit == 2).astype(np.int64) << c
            x_to_move = _np_popcount(x) == _np_popcount(o)
            mover = np.where(x_to_move, x, o)
            other = np.where(x_to_move, o, x)
            cand = _heuristic_candidates(np, mover, other, self._lines, cfg.k, (1 << n) - 1, self._centre,
                                         self._corners, _np_popcount)
            self._t_heur = self.backend.asarray(cand.astype(self._bb_np))

    # ================================================================ bit helpers
    def _ones_where(self, cond: Any, dtype: Any) -> Any:
        """``-1`` (all bits set) where ``cond``, else ``0``: blends ints with ``&`` and ``|`` (no ``where``)."""
        return -self.backend.xp.astype(cond, dtype)

    def _pop(self, x: Any) -> Any:
        if self._small:
            return self.backend.take(self._t_pop, x)
        xp = self.backend.xp
        return xp.sum(xp.astype((xp.astype(x, xp.int64)[:, None] >> self._t_shifts) & 1, xp.int16), axis=1)

    def _won(self, marks: Any) -> Any:
        if self._small:
            return self.backend.take(self._t_won, marks)
        xp = self.backend.xp
        m = xp.astype(marks, xp.int64)[:, None] & self._t_line_masks[None, :]
        return xp.any(m == self._t_line_masks[None, :], axis=1)

    def _select(self, cand: Any, u: Any) -> Any:
        """The ``floor(u * popcount(cand))``-th set bit of each ``cand`` (a uniform choice among its cells)."""
        xp, be = self.backend.xp, self.backend
        count = xp.astype(self._pop(cand), xp.int32)
        r = xp.astype(u * xp.astype(count, xp.float32), xp.int32)
        r = xp.minimum(r, count - 1)  # u < 1, but float rounding may reach count; count 0 only in unused rows
        if self._small:
            return be.take(self._t_select, xp.astype(cand, xp.int32) * self._n + r)
        bits = xp.astype((xp.astype(cand, xp.int64)[:, None] >> self._t_shifts) & 1, xp.int32)
        csum = xp.cumulative_sum(bits, axis=1)
        return xp.argmax(xp.astype(csum > r[:, None], xp.int8), axis=1)

    def _optimal_bits(self, me: Any, opp: Any, agent: Any) -> Any:
        """The solver's optimal moves (bitmask) of each game's position."""
        if self._t_opt_pos is not None:
            return self.backend.take(self._t_opt_pos, self._position(me, opp, agent))
        return self.backend.take(self._t_opt, self._key3(me, opp, agent))

    def _position(self, me: Any, opp: Any, agent: Any) -> Any:
        xp = self.backend.xp
        i32, n = xp.int32, self._n
        return xp.astype(me, i32) | (xp.astype(opp, i32) << n) | (xp.astype(agent, i32) << (2 * n))

    def _key3(self, me: Any, opp: Any, agent: Any) -> Any:
        """Base-3 solver key ``sum(board[i] * 3**i)`` of each game."""
        be = self.backend
        xp = be.xp
        t_me = be.take(self._t_pow3, me)
        t_opp = be.take(self._t_pow3, opp)
        a = xp.astype(agent, xp.int32)
        return t_me + t_opp * 2 + (t_me - t_opp) * a

    def _boards(self, me: Any, opp: Any, agent: Any) -> Any:
        """int8 ``(B, N)`` boards (0 empty, 1 X, 2 O), for callable opponents."""
        xp = self.backend.xp
        shifts = self.backend.arange(self._n, xp.int64)
        mine = xp.astype((xp.astype(me, xp.int64)[:, None] >> shifts) & 1, xp.int8)
        theirs = xp.astype((xp.astype(opp, xp.int64)[:, None] >> shifts) & 1, xp.int8)
        a = xp.astype(agent, xp.int8)[:, None]
        return mine * (1 + a) + theirs * (2 - a)

    # ================================================================ opponent
    def _opponent_cells(self, me: Any, opp: Any, agent: Any, need: Any, u: Any) -> Any:
        """Cell the opponent plays in every game where ``need``; rows elsewhere are arbitrary."""
        be = self.backend
        xp = be.xp
        empty = ~(me | opp) & self._full
        eps = self.opponent_epsilon
        opponent = self.opponent
        use_random = None
        if eps > 0.0:
            # One uniform draw decides random-or-not and, rescaled, picks the cell.
            use_random = u < eps
            if eps < 1.0:
                r = xp.astype(use_random, xp.float32)
                u = (u - (1.0 - r) * eps) * (r * (1.0 / eps - 1.0 / (1.0 - eps)) + 1.0 / (1.0 - eps))
            else:
                u = u / eps
        if callable(opponent):
            cells = self._select(empty, u) if use_random is not None else be.zeros(tuple(me.shape), be.int32)
            ask = need if use_random is None else need & ~use_random
            if be.item_any(ask):
                rows = be.nonzero(ask)
                boards = self._boards(me[rows], opp[rows], agent[rows])
                got = opponent(boards, be.rng)
                cells = self._check_callable_cells(got, boards, cells, rows)
            return cells
        if opponent == "random":
            cand = empty
        elif opponent == "minimax":
            cand = self._optimal_bits(me, opp, agent)
        elif self._t_heur_pos is not None:
            cand = be.take(self._t_heur_pos, self._position(me, opp, agent))
        elif self._t_heur is not None:
            cand = be.take(self._t_heur, self._key3(me, opp, agent))
        else:
            cand = _heuristic_candidates(xp, opp, me, self._lines, self.config.k, self._full, self._centre,
                                         self._corners, self._pop)
        if use_random is not None:
            rm = self._ones_where(use_random, cand.dtype)
            cand = (empty & rm) | (cand & ~rm)
        return self._select(cand, u)

    def _check_callable_cells(self, got: Any, boards: Any, cells: Any, rows: Any) -> Any:
        be = self.backend
        xp = be.xp
        who = f"opponent {self.opponent_name!r}"
        try:
            arr = be.asarray(got)
        except Exception as err:
            raise ValueError(f"{who} must return an int array of {boards.shape[0]} empty cells, got {got!r}") from err
        m = boards.shape[0]
        if tuple(arr.shape) != (m,) or not (arr.dtype in (xp.int8, xp.int16, xp.int32, xp.int64, xp.uint8)):
            raise ValueError(
                f"{who} must return an int array of shape ({m},) (one empty cell per board), got "
                f"shape {tuple(arr.shape)} and dtype {arr.dtype}"
            )
        arr = xp.astype(arr, xp.int64)
        out_of_range = (arr < 0) | (arr >= self._n)
        if be.item_any(out_of_range):
            i = int(be.to_numpy(be.nonzero(out_of_range))[0])
            raise ValueError(f"{who} must return cells in [0, {self._n}), got {int(arr[i])} for board {i}")
        picked = xp.take_along_axis(boards, arr[:, None], axis=1)[:, 0]
        if be.item_any(picked != 0):
            i = int(be.to_numpy(be.nonzero(picked != 0))[0])
            raise ValueError(f"{who} returned cell {int(arr[i])}, which is occupied on board {i}; "
                             "it must return an empty cell")
        cells = xp.astype(cells, xp.int64)
        cells[rows] = arr
        return cells

    # ================================================================ observations and masks
    def _pack(self, fields: Sequence[tuple[Any, int, int]], width: int) -> list:
        """int64 words holding ``fields`` (``(bits, offset, nbits)``) at their column offsets."""
        xp = self.backend.xp
        nwords = (width + 63) // 64
        words: list = [None] * nwords
        for value, offset, nbits in fields:
            v = xp.astype(value, xp.int64)
            w, sh = divmod(offset, 64)
            part = v << sh if sh else v
            words[w] = part if words[w] is None else words[w] | part
            if sh and sh + nbits > 64:
                spill = (v >> (64 - sh)) & ((1 << sh) - 1)
                words[w + 1] = spill if words[w + 1] is None else words[w + 1] | spill
        for i, word in enumerate(words):
            if word is None:
                words[i] = self.backend.zeros((fields[0][0].shape[0],), self.backend.int64)
        return words

    def _marker_counts(self, st: dict) -> list:
        """Per marker, the count of its entries in each store (int arrays)."""
        if not self._M:
            return []
        mc = st["mcount"]
        if self._packed:
            mb = self._mbits
            return [(mc >> (mb * m)) & ((1 << mb) - 1) for m in range(self._M)]
        return [mc[:, m] for m in range(self._M)]

    def _build_obs(self, st: dict) -> Any:
        if self._obs_fast:
            return self._build_obs_fast(st)
        be = self.backend
        xp = be.xp
        n, rules = self._n, self.rules
        fields = [(st["me"], 0, n), (st["opp"], n, n)]
        if self._thinking:
            fields += [(st["pos"], 2 * n, n), (st["neg"], 3 * n, n)]
        elif self._maxT > 0:  # thoughts left / max_thoughts stays 1.0: a constant bit
            fields.append((xp.ones_like(st["me"]), rules.obs_thoughts_left, 1))
        obs = be.unpack_words(self._pack(fields, rules.obs_size), rules.obs_size, be.float32)
        if self._thinking:
            # count / S in float32: one correctly rounded division, the float32 of the core's Python c / S.
            f32 = be.float32
            S, maxT = float(self._S), float(self._maxT)
            for m, count in enumerate(self._marker_counts(st)):
                obs[:, rules.obs_marker + m] = xp.astype(count, f32) / S
            obs[:, rules.obs_thoughts_left] = xp.astype(st["tleft"], f32) / maxT
            obs[:, rules.obs_entries] = xp.astype(st["slen"], f32) / S
        return obs

    def _legal_fields(self, st: dict) -> list:
        """The legal actions as ``(bits, action offset, width)`` fields, one per action block."""
        be = self.backend
        xp = be.xp
        n = self._n
        moves = ~(st["me"] | st["opp"]) & self._full
        if self._reset_can_end:
            over = self._won(st["opp"]) | ((st["me"] | st["opp"]) == self._full)
            moves = moves & ~self._ones_where(over, moves.dtype)
        fields = [(moves, 0, n)]
        if self._thinking:
            has = st["tleft"] > 0
            if self._reset_can_end:
                has = has & ~over
            hm = self._ones_where(has, st["pos"].dtype)
            pos, neg = st["pos"], st["neg"]
            off = self.rules.offsets
            if "propose" in off:
                fields.append((~pos & self._full & hm, off["propose"], n))
            if "negate" in off:
                fields.append((~neg & self._full & hm, off["negate"], n))
            if "forget" in off:
                fields.append(((pos | neg) & hm, off["forget"], n))
            if "marker" in off:
                has64 = xp.astype(has, xp.int64)
                for start in range(0, self._M, 32):
                    width = min(32, self._M - start)
                    fields.append((has64 * ((1 << width) - 1), off["marker"] + start, width))
        return fields

    def _build_mask(self, st: dict) -> Any:
        return self.backend.unpack_words(self._pack(self._legal_fields(st), self._A), self._A, self.backend.bool)

    def _format_obs(self, obs: Any, mask: Any) -> Any:
        if self.obs_mode == "flat":
            return obs
        return {"observation": obs, "action_mask": self.backend.xp.astype(mask, self.backend.int8)}

    # ================================================================ state
    def _fresh_state(self, count: int) -> dict:
        be = self.backend
        st = {
            "me": be.zeros((count,), self._bb),
            "opp": be.zeros((count,), self._bb),
            "agent": be.zeros((count,), be.int8),
        }
        if self._thinking:
            st["pos"] = be.zeros((count,), self._bb)
            st["neg"] = be.zeros((count,), self._bb)
            if self._packed:
                st["store"] = be.zeros((count,), self._store_dtype)
            else:
                st["store"] = be.full((count, self._S), -1, self._store_dtype)
            st["slen"] = be.zeros((count,), self._len)
            if self._M:
                st["mcount"] = be.zeros((count,) if self._packed else (count, self._M), self._mc_dtype)
            st["tleft"] = be.full((count,), self._maxT, self._tl)
            st["thoughts"] = be.zeros((count,), self._count)
        return st

    def state_nbytes_per_game(self) -> int:
        """Bytes of state one game holds (bitboards, store, counters); observations and masks are outputs."""
        st = self._state or self._fresh_state(1)
        total = 0
        for value in st.values():
            per_row = 1
            for dim in value.shape[1:]:
                per_row *= int(dim)
            total += per_row * (value.element_size() if hasattr(value, "element_size") else value.itemsize)
        return total

    def _reset_rows(self, st: dict, rows: Any) -> tuple[dict, Any]:
        """``st`` with the games where ``rows`` (bool) started afresh: side drawn, the opponent's opening move made.

        Also returns each game's opening *variant* (0: the learner plays X; ``1 + c``: it plays O and the
        opponent opened on cell ``c``), which picks the new episode's first observation and mask from
        :attr:`_tmpl_obs` / :attr:`_tmpl_mask`; None when the learner always plays X.
        """
        be = self.backend
        xp = be.xp
        B = self.num_envs
        setting = self.agent_player_setting
        rm8 = self._ones_where(rows, be.int8)
        out = dict(st)
        if setting == "X":
            out["agent"] = st["agent"] & ~rm8
        elif setting == "O":
            out["agent"] = st["agent"] | (rm8 & 1)
        else:
            drawn = xp.astype(be.uniform(B) < 0.5, be.int8)
            out["agent"] = (st["agent"] & ~rm8) | (drawn & rm8)
        rmb = self._ones_where(rows, self._bb)
        keep = ~rmb
        out["me"] = st["me"] & keep
        opp = st["opp"] & keep
        variant = None
        if setting != "X":
            first = rows & (out["agent"] == 1)
            u = be.uniform(B) if self._opponent_draws else be.zeros((B,), be.float32)
            zero = xp.zeros_like(opp)
            cells = xp.astype(self._opponent_cells(zero, zero, out["agent"], first, u), xp.int32)
            opp = opp | (be.take(self._t_cell_bit, cells) & self._ones_where(first, self._bb))
            variant = (cells + 1) & self._ones_where(first, xp.int32)
        out["opp"] = opp
        if self._thinking:
            out["pos"] = st["pos"] & keep
            out["neg"] = st["neg"] & keep
            if self._packed:
                out["store"] = st["store"] & ~self._ones_where(rows, self._store_dtype)
            else:
                out["store"] = xp.where(rows[:, None], xp.full_like(st["store"], -1), st["store"])
            out["slen"] = st["slen"] & ~self._ones_where(rows, self._len)
            if self._M:
                if self._packed:
                    out["mcount"] = st["mcount"] & ~self._ones_where(rows, self._mc_dtype)
                else:
                    out["mcount"] = xp.where(rows[:, None], xp.zeros_like(st["mcount"]), st["mcount"])
            rt = self._ones_where(rows, self._tl)
            out["tleft"] = (st["tleft"] & ~rt) | (rt & self._maxT)
            out["thoughts"] = st["thoughts"] & ~self._ones_where(rows, self._count)
        return out, variant

    def _build_templates(self) -> None:
        """First observation and mask of a new episode, per opening variant (see :meth:`_reset_rows`)."""
        be = self.backend
        n = self._n
        st = self._fresh_state(n + 1)
        agent = np.zeros(n + 1, np.int8)
        agent[1:] = 1
        opp = np.zeros(n + 1, np.int64)
        opp[1:] = [1 << c for c in range(n)]
        st["agent"] = be.asarray(agent)
        st["opp"] = be.asarray(np.array([_signed(int(v), self._bb_bits) if int(v) >> (self._bb_bits - 1) else int(v)
                                         for v in opp], np.int64).astype(self._bb_np))
        self._tmpl_obs = self._build_obs(st)
        self._tmpl_mask = self._build_mask(st)

    # ================================================================ API
    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]:
        """Reset every game (or, with ``options={"reset_mask": bool array}``, those games); seed the generators.

        Returns the observations and ``{"action_mask": ...}``.
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
        if rows is None:
            self._state = self._fresh_state(B)
            rows = be.full((B,), True, be.bool)
        self._state, _ = self._reset_rows(self._state, rows)
        self._needs_reset = False
        obs = self._build_obs(self._state)
        self._mask = self._build_mask(self._state)
        return self._format_obs(obs, self._mask), {"action_mask": self._mask}

    def compile(self, **kwargs: Any) -> ThoughtVectorEnv:
        """Torch backend: ``torch.compile`` :meth:`step` and :meth:`sample_actions` (fuses the array operations).

        ``kwargs`` go to ``torch.compile``. The first call compiles (tens of seconds); returns ``self``.
        """
        if self.backend.is_numpy:
            raise ValueError("compile() needs backend='torch'")
        import torch

        if callable(self.opponent):  # user code stays plain Python (dynamo would rewrite its numpy calls)
            self.opponent = torch.compiler.disable(self.opponent)
        self.step = torch.compile(self.step, **kwargs)  # type: ignore[method-assign]
        self.sample_actions = torch.compile(self.sample_actions, **kwargs)  # type: ignore[method-assign]
        return self

    def action_masks(self) -> Any:
        """Bool ``(num_envs, A)``: legal actions of each game now (sb3-contrib's MaskablePPO reads it)."""
        if self._mask is None:
            raise RuntimeError("action_masks() called before reset()")
        return self._mask

    def agent_players(self) -> Any:
        """int8 ``(num_envs,)``: the learner's side in each game now (0 = X, 1 = O)."""
        return self._state["agent"]

    def sample_actions(self) -> Any:
        """One uniformly random legal action per game (action 0 where none is legal), from the env's generator.

        Drawn from the bitboards, without touching the ``(num_envs, A)`` mask: the batched
        ``action_space.sample(mask)`` of random rollouts and of the benchmarks. One draw per game picks the
        rank ``r`` among the legal actions; the block holding it and the ``r``-th legal id in it follow.
        """
        if self._needs_reset:
            raise RuntimeError("sample_actions() called before reset()")
        if self._props_per_state and not self._reset_can_end:
            return self._sample_actions_props()
        be = self.backend
        xp = be.xp
        i32 = xp.int32
        fields = self._legal_fields(self._state)
        marker_off = self.rules.offsets.get("marker", self._A)
        counts = []
        for bits, offset, width in fields:
            if offset < marker_off:
                counts.append(xp.astype(self._pop(bits), i32))
            else:  # a marker chunk: all of its bits are set or none
                counts.append(xp.astype(bits != 0, i32) * width)
        total = counts[0]
        for c in counts[1:]:
            total = total + c
        r = xp.astype(be.uniform(self.num_envs) * xp.astype(total, xp.float32), i32)
        r = xp.minimum(r, total - 1)
        # Walk the blocks in order: a game whose rank reaches a block's start moves its choice into that block.
        bits_sel = xp.astype(fields[0][0], xp.int64)
        rank = r
        offset_sel = xp.zeros_like(r)
        in_marker = None
        start = counts[0]
        for (bits, offset, _width), count in zip(fields[1:], counts[1:]):
            inside = self._ones_where(r >= start, i32)
            inside64 = xp.astype(inside, xp.int64)
            bits_sel = (bits_sel & ~inside64) | (xp.astype(bits, xp.int64) & inside64)
            rank = (rank & ~inside) | ((r - start) & inside)
            offset_sel = (offset_sel & ~inside) | (inside & offset)
            if offset >= marker_off:
                in_marker = inside if in_marker is None else in_marker | inside
            start = start + count
        pick = xp.astype(self._select_rank(xp.astype(bits_sel, self._bb), rank), i32)
        if in_marker is not None:  # the r-th marker of a chunk (chunks may be wider than the board)
            pick = (pick & ~in_marker) | (rank & in_marker)
        return offset_sel + pick

    def _sample_actions_props(self) -> Any:
        """:meth:`sample_actions` when every proposition has the same number ``k`` of legal thoughts whatever
        its state (propose, negate and forget all on: 2), so rank ``r`` among the thoughts is proposition
        ``r // k``, its ``r % k``-th legal channel (a fixed bijection: uniform stays uniform)."""
        be = self.backend
        xp = be.xp
        i32 = xp.int32
        st = self._state
        n, k = self._n, self._props_per_state
        moves = ~(st["me"] | st["opp"]) & self._full
        c_move = xp.astype(self._pop(moves), i32)
        has = xp.astype(st["tleft"] > 0, i32)
        total = c_move + has * (k * n + self._M)
        r = xp.astype(be.uniform(self.num_envs) * xp.astype(total, xp.float32), i32)
        r = xp.minimum(r, total - 1)
        move = xp.astype(self._select_rank(moves, r), i32)
        rt = r - c_move
        # clamped (rows without a thought ignore it); no Python scalars in xp calls: on a GPU they become copies
        q = xp.minimum(xp.maximum(rt // k, xp.zeros_like(rt)), xp.full_like(rt, n - 1))
        which = rt - (rt // k) * k
        state = ((xp.astype(st["pos"], i32) >> q) & 1) + ((xp.astype(st["neg"], i32) >> q) & 1) * 2
        prop_action = be.take(self._t_prop_kind_off, state * k + which) + q
        thought = prop_action
        if self._M:
            marker = self.rules.offsets["marker"] + rt - k * n
            mm = self._ones_where(rt >= k * n, i32)
            thought = (prop_action & ~mm) | (marker & mm)
        tm = self._ones_where(rt >= 0, i32)
        return (move & ~tm) | (thought & tm)

    def _select_rank(self, bits: Any, r: Any) -> Any:
        """The ``r``-th set bit of ``bits`` (rows with ``r`` out of range give an arbitrary cell)."""
        be = self.backend
        xp = be.xp
        if self._small:
            rr = xp.minimum(xp.maximum(r, xp.zeros_like(r)), xp.full_like(r, self._n - 1))
            return be.take(self._t_select, xp.astype(bits, xp.int32) * self._n + rr)
        b = xp.astype((xp.astype(bits, xp.int64)[:, None] >> self._t_shifts) & 1, xp.int32)
        csum = xp.cumulative_sum(b, axis=1)
        return xp.argmax(xp.astype(csum > r[:, None], xp.int8), axis=1)

    def _check_actions(self, actions: Any) -> Any:
        be = self.backend
        xp = be.xp
        try:
            a = be.asarray(actions)
        except Exception as err:
            raise TypeError(f"actions must be an int array of shape ({self.num_envs},), got {actions!r}") from err
        if tuple(a.shape) != (self.num_envs,):
            raise ValueError(f"actions must have shape ({self.num_envs},), got shape {tuple(a.shape)}")
        if be.is_numpy:
            if not np.issubdtype(a.dtype, np.integer) or a.dtype == np.bool_:
                raise TypeError(f"actions must be integers in [0, {self._A}), got dtype {a.dtype}")
            lo, hi = int(a.min()), int(a.max())
            if lo < 0 or hi >= self._A:
                raise ValueError(f"actions must be ints in [0, {self._A}), got {lo if lo < 0 else hi}")
            return a if a.dtype == np.intp else a.astype(np.intp)
        if a.dtype not in (xp.int8, xp.int16, xp.int32, xp.int64, xp.uint8):
            raise TypeError(f"actions must be integers in [0, {self._A}), got dtype {a.dtype}")
        if not self.check_actions:  # no device-to-host sync (CUDA graphs); out-of-range ids are then undefined
            return xp.astype(a, xp.int64)
        bad = (a < 0) | (a >= self._A)
        if be.item_any(bad):
            raise ValueError(f"actions must be ints in [0, {self._A}), got {int(a[be.nonzero(bad)[0]])}")
        return xp.astype(a, xp.int64)

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict]:
        if self._needs_reset:
            raise RuntimeError("step() called before reset(); call reset() first")
        be = self.backend
        xp = be.xp
        a = self._check_actions(actions)
        st = self._state
        B, n, full = self.num_envs, self._n, self._full
        bb = self._bb
        me, opp, agent = st["me"], st["opp"], st["agent"]
        thinking = self._thinking

        bit = be.take(self._t_bit, a)
        occ = me | opp
        move_free = (occ & bit) == 0
        if thinking:
            pos, neg, tleft = st["pos"], st["neg"], st["tleft"]
            ch = be.take(self._t_chan, a)
            is_move = ch == _CH_MOVE
            pb = (pos & bit) != 0
            nb = (neg & bit) != 0
            s = ch * 3 + xp.astype(pb, xp.int8) + xp.astype(nb, xp.int8) * 2
            thought_ok = be.take(self._t_ok, s) & (tleft > 0)
            legal = (is_move & move_free) | (~is_move & thought_ok)
        elif self._A > n:  # thought blocks exist but max_thoughts=0: every thought is illegal
            is_move = a < n
            legal = is_move & move_free
        else:
            is_move = None
            legal = move_free
        if self._reset_can_end:
            legal = legal & ~(self._won(opp) | (occ == full))
        if self.illegal_action == "raise" and not bool(xp.all(legal)):
            i = int(be.to_numpy(be.nonzero(~legal))[0])
            action = int(be.to_numpy(a)[i])
            channel, arg = self.rules.decode[action]
            raise ValueError(
                f"action {action} ({channel} {arg}) of env {i} is illegal: {self._illegal_reason(i, action)}"
            )
        illegal = ~legal
        mv = legal if is_move is None else is_move & legal

        # ------------------------------------------------------------ shaping inputs before the step
        shaping = self.shaping if thinking else None  # without thoughts every shaping variant pays 0
        if shaping in ("oracle", "potential"):
            opt0 = self._optimal_bits(me, opp, agent)
        if shaping == "potential":
            phi0 = self._potential(pos, neg, opt0)

        # ------------------------------------------------------------ thoughts
        new = dict(st)
        if thinking:
            th = ~is_move & legal
            think = self._think_packed if self._packed else self._think_array
            store, slen, mcount, pos1, neg1 = think(a, ch, bit, pb, nb, th, st)
            tleft = tleft - xp.astype(th, tleft.dtype)
            new["thoughts"] = st["thoughts"] + xp.astype(th, st["thoughts"].dtype)

        # ------------------------------------------------------------ the learner's move
        mvm = self._ones_where(mv, bb)
        me2 = me | (bit & mvm)
        won = mv & self._won(me2)
        full2 = (me2 | opp) == full
        draw = mv & ~won & full2
        reply = mv & ~won & ~full2
        if thinking:
            rt = self._ones_where(mv, tleft.dtype)
            tleft = (tleft & ~rt) | (rt & self._maxT)
            pos2, neg2 = pos1, neg1
            if self.config.persist == "turn":  # the mover's store empties
                keep = ~mvm
                pos2, neg2 = pos1 & keep, neg1 & keep
                if self._packed:
                    store = store & ~self._ones_where(mv, store.dtype)
                    if self._M:
                        mcount = mcount & ~self._ones_where(mv, mcount.dtype)
                else:
                    store = xp.where(mv[:, None], xp.full_like(store, -1), store)
                    if self._M:
                        mcount = xp.where(mv[:, None], xp.zeros_like(mcount), mcount)
                slen = slen & ~self._ones_where(mv, slen.dtype)
            new.update(pos=pos2, neg=neg2, store=store, slen=slen, tleft=tleft)
            if self._M:
                new["mcount"] = mcount

        # ------------------------------------------------------------ the opponent's reply
        u = be.uniform(B) if self._opponent_draws else be.zeros((B,), be.float32)
        cells = self._opponent_cells(me2, opp, agent, reply, u)
        obit = be.take(self._t_cell_bit, cells) & self._ones_where(reply, bb)
        opp2 = opp | obit
        owon = reply & self._won(opp2)
        ofull = reply & ~owon & ((me2 | opp2) == full)
        new["me"], new["opp"] = me2, opp2

        # ------------------------------------------------------------ outcome and rewards
        i8 = xp.int8
        code1 = xp.astype(won, i8) + xp.astype(draw | ofull, i8) * 2 + xp.astype(owon | illegal, i8) * 3
        terminated = code1 != 0
        f64 = be.float64
        reward_game = be.take(self._t_reward_game, code1)
        zero64 = be.zeros((B,), f64)

        def const(value: float) -> Any:  # float64 on both backends (torch.where of Python floats is float32)
            return be.full((B,), value, f64)

        if thinking and self.thought_cost != 0.0:
            reward_cost = xp.where(th, const(-self.thought_cost), zero64)
        else:
            reward_cost = zero64
        scale = self.shaping_scale
        if shaping is None:
            reward_shaping = zero64
        elif shaping == "prediction":
            hit_pos = reply & ((pos1 & obit) != 0)
            hit_neg = reply & ((neg1 & obit) != 0)
            reward_shaping = xp.where(hit_pos, const(scale), xp.where(hit_neg, const(-scale), zero64))
        elif shaping == "oracle":
            in_opt = (opt0 & bit) != 0
            good = xp.where(ch == _CH_PROPOSE, in_opt, xp.where(ch == _CH_NEGATE, ~in_opt,
                                                                xp.where(pb, ~in_opt, in_opt)))
            reward_shaping = xp.where(th & (ch != _CH_MARKER), xp.where(good, const(scale), const(-scale)), zero64)
        else:  # potential: Φ after each decision point, -Φ when the game ends (see tttthought_env.shaping)
            gamma = self.shaping_gamma
            phi_t = self._potential(pos1, neg1, opt0)
            value = xp.where(th, gamma * phi_t - phi0, -phi0)
            opt2 = self._optimal_bits(me2, opp2, agent)
            phi2 = self._potential(pos2, neg2, opt2)
            reward_shaping = xp.where(reply & ~terminated, gamma * phi2 - phi0, value)
        rewards = reward_game + reward_shaping + reward_cost

        # ------------------------------------------------------------ autoreset (same step)
        thoughts_end = new.get("thoughts")
        # Observations and masks of every game as it stands (the terminal ones where a game ended); then the
        # games that ended start again, and their rows take the first observation and mask of a new episode.
        obs = self._build_obs(new)
        mask = self._build_mask(new)
        if be.is_numpy:
            ended = np.flatnonzero(terminated)
            final_obs = np.empty_like(obs)
            if ended.size:
                final_obs[ended] = obs[ended]
                new, variant = self._reset_rows(new, terminated)
                if variant is None:
                    obs[ended] = self._tmpl_obs[0]
                    mask[ended] = self._tmpl_mask[0]
                else:
                    v = variant[ended]
                    obs[ended] = self._tmpl_obs[v]
                    mask[ended] = self._tmpl_mask[v]
        else:  # no data-dependent shapes on the device
            final_obs = obs
            new, variant = self._reset_rows(new, terminated)
            v = variant if variant is not None else be.zeros((B,), be.int32)
            col = terminated[:, None]
            obs = xp.where(col, be.take(self._tmpl_obs, v), obs)
            mask = xp.where(col, be.take(self._tmpl_mask, v), mask)
        self._state = new
        self._mask = mask
        infos = {
            "action_mask": mask,
            "reward_game": reward_game,
            "reward_shaping": reward_shaping,
            "reward_cost": reward_cost,
            "step_kind": xp.astype(~is_move, i8) if is_move is not None else be.zeros((B,), i8),
            "illegal_action": illegal,
            "_illegal_action": illegal,
            "outcome": code1 - 1,
            "_outcome": terminated,
            "thoughts": thoughts_end & self._ones_where(terminated, thoughts_end.dtype)
            if thoughts_end is not None else be.zeros((B,), be.int32),
            "_thoughts": terminated,
            "final_obs": self._format_obs(final_obs, be.zeros(tuple(mask.shape), be.bool)),
            "_final_obs": terminated,
        }
        truncations = be.zeros((B,), be.bool)
        return self._format_obs(obs, mask), rewards, terminated, truncations, infos

    # ---------------------------------------------------------------- step pieces
    def _think_packed(self, a, ch, bit, pb, nb, th, st):
        """Apply the legal thoughts (rows ``th``) to bit-packed stores: SWAR search, delete and append."""
        be = self.backend
        xp = be.xp
        i64 = xp.int64
        n, S, cb = self._n, self._S, self._cbits
        pos, neg = st["pos"], st["neg"]
        P = xp.astype(st["store"], i64)
        slen = xp.astype(st["slen"], i64)
        thm = self._ones_where(th, i64)
        add1 = be.take(self._t_add1, a) & thm  # code + 1 of the entry the thought appends, 0 for none
        has_rem = th & (pb | nb)  # propose/negate/forget of a proposition already in the store: its entry leaves
        hrm = self._ones_where(has_rem, i64)
        rem1 = (be.take(self._t_arg, a) + 1 + xp.astype(nb, i64) * n) & hrm
        # SWAR: the field equal to rem1 becomes zero; its top bit is the lowest one flagged (exact for the lowest).
        x = P ^ (rem1 * self._ones)
        flagged = (x - self._ones) & ~x & self._highs
        low = flagged & -flagged
        evict = (add1 != 0) & ~has_rem & (slen == S)
        evm = self._ones_where(evict, i64)
        # Fields below the deleted one stay; the rest shift down one field. No deletion: lowmask = -1.
        lowmask = ((((low >> (cb - 1)) - 1)) & hrm) | (~hrm & ~evm)
        evicted1 = P & self._field & evm
        P = (P & lowmask) | ((P >> cb) & ~lowmask)
        slen = slen - xp.astype(has_rem | evict, i64)
        P = P | (add1 << (slen * cb))
        slen = slen + xp.astype(add1 != 0, i64)
        # +/- bits: drop the removed and the evicted propositions, then set the new entry's.
        bbm = self._ones_where(has_rem, pos.dtype)
        keep = ~((bit & bbm) | be.take(self._t_code_bit, evicted1))
        pos = (pos & keep) | (bit & self._ones_where(th & (ch == _CH_PROPOSE), pos.dtype))
        neg = (neg & keep) | (bit & self._ones_where(th & (ch == _CH_NEGATE), neg.dtype))
        mcount = None
        if self._M:
            mcount = st["mcount"] + be.take(self._t_mc_delta, add1) - be.take(self._t_mc_delta, evicted1)
        return xp.astype(P, self._store_dtype), xp.astype(slen, self._len), mcount, pos, neg

    def _think_array(self, a, ch, bit, pb, nb, th, st):
        """:meth:`_think_packed` for stores too big to pack: an ``(S,)`` array of codes per game."""
        be = self.backend
        xp = be.xp
        n, S = self._n, self._S
        store, slen, pos, neg = st["store"], st["slen"], st["pos"], st["neg"]
        code = store.dtype
        arg = xp.astype(be.take(self._t_arg, a), code)
        minus1 = xp.full_like(arg, -1)
        rem = xp.where(th & pb, arg, xp.where(th & nb, arg + n, minus1))
        add = xp.where(th, xp.astype(be.take(self._t_add, a), code), minus1)
        has_rem = rem >= 0
        has_add = add >= 0
        cols = be.arange(S, xp.int32)
        at = xp.astype(xp.argmax(xp.astype(store == rem[:, None], xp.int8), axis=1), xp.int32)
        evict = has_add & ~has_rem & (xp.astype(slen, xp.int32) == S)
        d = xp.where(has_rem, at, xp.where(evict, xp.zeros_like(at), xp.full_like(at, S)))
        evicted = xp.where(evict, store[:, 0], minus1)
        shifted = xp.concat([store[:, 1:], xp.full_like(store[:, :1], -1)], axis=1)
        store = xp.where(cols[None, :] >= d[:, None], shifted, store)
        slen = slen - xp.astype(d < S, slen.dtype)
        store = xp.where((cols[None, :] == xp.astype(slen, xp.int32)[:, None]) & has_add[:, None], add[:, None], store)
        slen = slen + xp.astype(has_add, slen.dtype)
        keep = ~(xp.where(has_rem, bit, xp.zeros_like(bit)) | be.take(self._t_code_bit, xp.astype(evicted, xp.int64) + 1))
        zero = xp.zeros_like(pos)
        pos = (pos & keep) | xp.where(th & (ch == _CH_PROPOSE), bit, zero)
        neg = (neg & keep) | xp.where(th & (ch == _CH_NEGATE), bit, zero)
        mcount = None
        if self._M:
            codes = self._t_marker_codes[None, :]
            mc = st["mcount"]
            mcount = mc + xp.astype(xp.astype(add, xp.int64)[:, None] == codes, mc.dtype) - xp.astype(
                xp.astype(evicted, xp.int64)[:, None] == codes, mc.dtype)
        return store, slen, mcount, pos, neg

    def _potential(self, pos: Any, neg: Any, opt: Any) -> Any:
        """Φ of :class:`~tttthought_env.shaping.Shaping`: scale * (correct - incorrect) / N, float64."""
        xp = self.backend.xp
        full = self._full
        not_opt = ~opt & full
        i32 = xp.int32
        correct = xp.astype(self._pop(pos & opt), i32) + xp.astype(self._pop(neg & not_opt), i32)
        incorrect = xp.astype(self._pop(pos & not_opt), i32) + xp.astype(self._pop(neg & opt), i32)
        return self.shaping_scale * xp.astype(correct - incorrect, self.backend.float64) / self._n

    def _illegal_reason(self, i: int, action: int) -> str:
        """The single env's wording of why ``action`` is illegal in game ``i``."""
        state = self.game_state(i)
        channel, arg = self.rules.decode[action]
        board = state["board"]
        if self._reset_can_end:
            opp_mark = 2 - state["agent"]
            won = any(all(board[c] == opp_mark for c in line) for line in winning_lines(
                self.config.rows, self.config.cols, self.config.k))
            if won or bool(np.all(board != 0)):
                return "the game is over"
        if channel == "move":
            return f"cell {arg} is occupied"
        if state["thoughts_left"] <= 0:
            return "no thoughts are left this turn"
        if channel == "propose":
            return f"+{arg} is already in the store"
        if channel == "negate":
            return f"-{arg} is already in the store"
        return f"neither +{arg} nor -{arg} is in the store"

    # ---------------------------------------------------------------- single-env views
    def info_at(self, infos: dict, i: int) -> dict:
        """Row ``i`` of ``infos`` as the single env's ``info`` dict of the same step.

        ``"action_mask"`` is the mask the single env reports after that step: all False where the episode
        ended (the vector env's own ``infos["action_mask"]`` row is then the new episode's).
        """
        be = self.backend

        def get(key: str) -> Any:
            return be.to_numpy(infos[key][i])

        info: dict[str, Any] = {}
        if bool(get("_illegal_action")):
            info["illegal_action"] = True
        info["step_kind"] = STEP_KINDS[int(get("step_kind"))]
        if bool(get("_outcome")):
            info["outcome"] = OUTCOMES[int(get("outcome"))]
            info["thoughts"] = int(get("thoughts"))
            info["action_mask"] = np.zeros(self._A, bool)
        else:
            info["action_mask"] = np.asarray(get("action_mask"), dtype=bool)
        for key in ("reward_game", "reward_shaping", "reward_cost"):
            info[key] = float(get(key))
        return info

    def game_state(self, i: int) -> dict:
        """Game ``i`` in plain Python: board (int8 ``N``), side, store entries oldest first, thoughts left."""
        be = self.backend
        st = {key: be.to_numpy(value[i]) for key, value in self._state.items()}
        n = self._n
        mask = (1 << n) - 1
        me, opp, agent = int(st["me"]) & mask, int(st["opp"]) & mask, int(st["agent"])
        board = np.zeros(n, np.int8)
        for c in range(n):
            if me >> c & 1:
                board[c] = agent + 1
            elif opp >> c & 1:
                board[c] = 2 - agent
        codes: list[int] = []
        if self._thinking:
            if self._packed:
                packed = int(st["store"])
                for f in range(self._S):
                    value = packed >> (self._cbits * f) & self._field
                    if value == 0:
                        break
                    codes.append(value - 1)
            else:
                codes = [c for c in st["store"].tolist() if c >= 0]
        store = tuple(("+", c) if c < n else ("-", c - n) if c < 2 * n else ("#", c - 2 * n) for c in codes)
        return {"board": board, "agent": agent, "store": store,
                "thoughts_left": int(st["tleft"]) if self._thinking else self._maxT,
                "thoughts": int(st["thoughts"]) if self._thinking else 0}

    def close_extras(self, **kwargs: Any) -> None:
        self._state = {}


# ==================================================================== helpers shared with the table builds
def _np_popcount(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.int64)
    count = np.zeros(x.shape, np.int64)
    while np.any(x):
        count += x & 1
        x = x >> 1
    return count


def _heuristic_candidates(xp: Any, mover: Any, other: Any, lines: list, k: int, full: int, centre: int,
                          corners: int, popcount: Callable) -> Any:
    """Cells :class:`~tttthought_env.opponents.HeuristicOpponent` chooses among, as bitmasks.

    Winning cells of ``mover``, else cells blocking ``other``'s immediate win, else free centre cells, else
    free corners, else every empty cell. One Python loop over the winning lines, none over games.
    """
    occ = mover | other
    empty = ~occ & full
    zero = xp.zeros_like(mover)

    def completing(marks: Any) -> Any:
        out = zero
        for line in lines:
            own = marks & line
            free = empty & line
            ready = (popcount(own) == k - 1) & (popcount(free) == 1)
            out = out | xp.where(ready, free, zero)
        return out

    win = completing(mover)
    block = completing(other)
    centre_free = empty & centre
    corner_free = empty & corners
    cand = xp.where(win != 0, win, xp.where(block != 0, block, xp.where(
        centre_free != 0, centre_free, xp.where(corner_free != 0, corner_free, empty))))
    return cand


def make_vector_env(env_id: str, num_envs: int, **kwargs: Any) -> ThoughtVectorEnv:
    """The vector env of a registered id (``"tttthought/Full-v0"``...) with its settings; ``kwargs`` override."""
    from tttthought_env.registration import GYMNASIUM_DEFAULTS, TASKS

    if env_id not in TASKS:
        raise ValueError(f"env_id must be one of {tuple(TASKS)}, got {env_id!r}")
    return ThoughtVectorEnv(num_envs, **{**GYMNASIUM_DEFAULTS, **TASKS[env_id], **kwargs})


# ==================================================================== stable-baselines3
_SB3_CLASS: list = []


def __getattr__(name: str) -> Any:
    """``SB3VecEnv`` is built on first access, so importing this module does not import stable-baselines3."""
    if name == "SB3VecEnv":
        if not _SB3_CLASS:
            _SB3_CLASS.append(_make_sb3_class())
        return _SB3_CLASS[0]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _make_sb3_class() -> type:
    import time

    from stable_baselines3.common.vec_env import VecEnv

    class SB3VecEnv(VecEnv):
        """A stable-baselines3 ``VecEnv`` over a :class:`ThoughtVectorEnv` (no Python loop over games in ``step``).

        ``step_wait`` returns numpy observations, float32 rewards, bool dones and one info dict per game; games
        that ended carry ``"terminal_observation"``, ``"TimeLimit.truncated"`` (always False: episodes end by
        themselves), ``"outcome"``, ``"thoughts"`` and ``"episode"`` (``{"r", "l", "t"}``, as SB3's Monitor
        writes it). ``env_method("action_masks")`` returns the masks, so sb3-contrib's ``get_action_masks``
        and MaskablePPO work. Other ``env_method``/``get_attr`` calls go to the vector env once and are
        repeated per game; ``set_attr`` sets the vector env's attribute.
        """

        def __init__(self, vector_env: ThoughtVectorEnv) -> None:
            if not isinstance(vector_env, ThoughtVectorEnv):
                raise TypeError(f"vector_env must be a ThoughtVectorEnv, got {type(vector_env).__name__}")
            self.venv = vector_env
            super().__init__(vector_env.num_envs, vector_env.single_observation_space,
                             vector_env.single_action_space)
            self._actions: np.ndarray | None = None
            self._ep_return = np.zeros(self.num_envs, np.float64)
            self._ep_len = np.zeros(self.num_envs, np.int64)
            self._t0 = time.time()

        def _np(self, x: Any) -> Any:
            be = self.venv.backend
            if isinstance(x, dict):
                return {key: be.to_numpy(value) for key, value in x.items()}
            return be.to_numpy(x)

        def reset(self) -> Any:
            seed = self._seeds[0] if self._seeds and self._seeds[0] is not None else None
            obs, _ = self.venv.reset(seed=seed)
            self._reset_seeds()
            self._reset_options()
            self._ep_return[:] = 0.0
            self._ep_len[:] = 0
            return self._np(obs)

        def step_async(self, actions: np.ndarray) -> None:
            self._actions = actions

        def step_wait(self) -> Any:
            obs, rewards, terminated, truncated, infos = self.venv.step(np.asarray(self._actions).reshape(-1))
            obs = self._np(obs)
            rewards = self.venv.backend.to_numpy(rewards)
            dones = self.venv.backend.to_numpy(terminated) | self.venv.backend.to_numpy(truncated)
            self._ep_return += rewards
            self._ep_len += 1
            info_list: list[dict] = [{} for _ in range(self.num_envs)]
            ended = np.flatnonzero(dones)
            if ended.size:
                final = self._np(infos["final_obs"])
                outcome = self.venv.backend.to_numpy(infos["outcome"])
                thoughts = self.venv.backend.to_numpy(infos["thoughts"])
                elapsed = round(time.time() - self._t0, 6)
                for i in ended.tolist():
                    info_list[i] = {
                        "terminal_observation": {key: value[i] for key, value in final.items()}
                        if isinstance(final, dict) else final[i],
                        "TimeLimit.truncated": False,
                        "outcome": OUTCOMES[int(outcome[i])],
                        "thoughts": int(thoughts[i]),
                        "episode": {"r": float(self._ep_return[i]), "l": int(self._ep_len[i]), "t": elapsed},
                    }
                self._ep_return[ended] = 0.0
                self._ep_len[ended] = 0
            return obs, rewards.astype(np.float32), dones, info_list

        def close(self) -> None:
            self.venv.close()

        def action_masks(self) -> np.ndarray:
            return self.venv.backend.to_numpy(self.venv.action_masks())

        def _indices(self, indices: Any) -> list[int]:
            return list(self._get_indices(indices))

        def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
            value = getattr(self.venv, attr_name)
            return [value for _ in self._indices(indices)]

        def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
            setattr(self.venv, attr_name, value)

        def env_method(self, method_name: str, *method_args: Any, indices: Any = None, **method_kwargs: Any) -> list:
            idx = self._indices(indices)
            if method_name == "action_masks":
                masks = self.action_masks()
                return [masks[i] for i in idx]
            result = getattr(self.venv, method_name)(*method_args, **method_kwargs)
            return [result for _ in idx]

        def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
            return [False for _ in self._indices(indices)]

        def get_images(self) -> list:
            return [None for _ in range(self.num_envs)]

    SB3VecEnv.__module__ = __name__
    return SB3VecEnv
