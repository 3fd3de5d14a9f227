"""The batched vector env against the single env, on both backends, and its SB3 adapter.

The differential test drives ``ThoughtVectorEnv`` and one ``ThoughtTicTacToeEnv`` per game with the same
actions and a deterministic opponent (a batched callable for the vector env, the same rule per board for the
single env) and requires identical observations, masks, rewards, terminations and infos at every step.
"""

from __future__ import annotations

import numpy as np
import pytest

import tttthought_env  # noqa: F401  (registers the ids)
from tttthought_env.gymnasium_env import ThoughtTicTacToeEnv
from tttthought_env.registration import TASKS
from tttthought_env.vector import OUTCOMES, STEP_KINDS, ThoughtVectorEnv, make_vector_env

BACKENDS = ["numpy", pytest.param("torch", marks=pytest.mark.filterwarnings("ignore::UserWarning"))]


def _torch_or_skip(backend: str) -> None:
    if backend == "torch":
        pytest.importorskip("torch")


# ---------------------------------------------------------------------------------------- deterministic opponent
def _pick(board: np.ndarray) -> int:
    """A deterministic, board-dependent empty cell: hash of the board modulo the number of empty cells."""
    board = np.asarray(board, dtype=np.int64)
    empty = np.flatnonzero(board == 0)
    h = int((board * (np.arange(board.size) * 7 + 3)).sum())
    return int(empty[h % empty.size])


def single_opponent(board: np.ndarray, rng: np.random.Generator) -> int:
    return _pick(board)


def batched_opponent(boards, rng) -> np.ndarray:
    """The same rule for a batch of boards, vectorized (boards are a tensor on the torch backend)."""
    b = boards.cpu().numpy() if hasattr(boards, "cpu") else np.asarray(boards)
    b = b.astype(np.int64)
    n = b.shape[1]
    h = (b * (np.arange(n) * 7 + 3)).sum(axis=1)
    empty = b == 0
    r = h % empty.sum(axis=1)
    rank = np.cumsum(empty, axis=1) - 1
    return np.argmax(empty & (rank == r[:, None]), axis=1)


# ---------------------------------------------------------------------------------------- configurations
ODD_CONFIGS = [
    # small store with eviction, every channel, persist="turn", many markers, O and costs
    dict(channels=("propose", "negate", "forget", "marker"), max_thoughts=2, memory_size=3, num_markers=3,
         persist="turn", agent_player="O", thought_cost=0.05, draw_reward=0.5, shaping="potential",
         shaping_gamma=0.9),
    dict(channels=("negate", "forget", "marker"), max_thoughts=4, memory_size=2, num_markers=1,
         agent_player="random", shaping="oracle", obs_mode="dict"),
    dict(channels=("propose", "forget"), max_thoughts=1, memory_size=5, shaping="prediction", draw_reward=-0.5),
    dict(rows=3, cols=4, k=3, channels=("propose", "negate", "forget"), max_thoughts=2, memory_size=4,
         shaping="oracle", agent_player="O"),
    dict(rows=4, cols=4, k=3, channels=("propose", "negate", "marker"), max_thoughts=2, memory_size=3,
         shaping="prediction", agent_player="random"),
    dict(rows=1, cols=5, k=2, channels=("marker",), num_markers=2, memory_size=2, agent_player="O"),
    # a store too big to bit-pack (16 entries x 6 bits): the array path
    dict(rows=4, cols=4, k=3, max_thoughts=3, num_markers=2, shaping="prediction", thought_cost=0.1),
    dict(rows=2, cols=2, k=2, channels=("propose",), max_thoughts=0),
    # over 16 cells: no bitboard tables, the generic path
    dict(rows=4, cols=5, k=4, channels=("propose", "negate", "forget", "marker"), max_thoughts=2, memory_size=4,
         num_markers=2, shaping="prediction", agent_player="random", persist="turn"),
    # the opponent's opening move ends the game (k=1): every learner action is illegal
    dict(rows=1, cols=3, k=1, channels=("propose",), agent_player="O"),
]
REGISTERED = [dict(settings) for settings in TASKS.values()]
CONFIG_IDS = [tid.split("/")[1] for tid in TASKS] + [f"odd{i}" for i in range(len(ODD_CONFIGS))]


def _compare_obs(got, want, where: str) -> None:
    if isinstance(want, dict):
        for key in want:
            np.testing.assert_array_equal(np.asarray(got[key]), want[key], err_msg=f"{where}: obs[{key!r}]")
    else:
        np.testing.assert_array_equal(np.asarray(got), want, err_msg=f"{where}: obs")


def _row(be, obs, i):
    if isinstance(obs, dict):
        return {key: be.to_numpy(value[i]) for key, value in obs.items()}
    return be.to_numpy(obs[i])


def _compare_info(got: dict, want: dict, where: str) -> None:
    assert set(got) == set(want), f"{where}: info keys {sorted(got)} != {sorted(want)}"
    for key, value in want.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(got[key], value, err_msg=f"{where}: info[{key!r}]")
        else:
            assert got[key] == value and type(got[key]) is type(value), f"{where}: info[{key!r}] {got[key]!r} != {value!r}"


def run_differential(config: dict, backend: str, num_envs: int = 6, steps: int = 70, seed: int = 0,
                     p_illegal: float = 0.08) -> None:
    vec = ThoughtVectorEnv(num_envs, opponent=batched_opponent, backend=backend, **config)
    be = vec.backend
    side_setting = config.get("agent_player", "X")
    singles = [ThoughtTicTacToeEnv(opponent=single_opponent, **config) for _ in range(num_envs)]
    obs_v, info_v = vec.reset(seed=seed)

    def reset_single(i: int):
        if side_setting == "random":  # the side the vector env drew (its own generator) for this episode
            singles[i].agent_player_setting = "XO"[int(be.to_numpy(vec.agent_players())[i])]
        return singles[i].reset(seed=seed + i)

    for i in range(num_envs):
        o, info = reset_single(i)
        _compare_obs(_row(be, obs_v, i), o, f"reset env {i}")
        np.testing.assert_array_equal(be.to_numpy(info_v["action_mask"][i]), info["action_mask"])
    rng = np.random.default_rng(seed)
    episodes = 0
    for t in range(steps):
        masks = be.to_numpy(vec.action_masks())
        actions = np.empty(num_envs, np.int64)
        for i in range(num_envs):
            legal = np.flatnonzero(masks[i])
            if legal.size == 0 or rng.random() < p_illegal:
                actions[i] = rng.integers(vec.single_action_space.n)
            else:
                actions[i] = legal[rng.integers(legal.size)]
        obs_v, rew_v, term_v, trunc_v, info_v = vec.step(actions)
        rew_v, term_v, trunc_v = be.to_numpy(rew_v), be.to_numpy(term_v), be.to_numpy(trunc_v)
        for i in range(num_envs):
            where = f"step {t} env {i} action {actions[i]}"
            o, r, term, trunc, info = singles[i].step(int(actions[i]))
            assert bool(term_v[i]) == term and bool(trunc_v[i]) == trunc, where
            assert float(rew_v[i]) == r, f"{where}: reward {float(rew_v[i])!r} != {r!r}"
            _compare_info(vec.info_at(info_v, i), info, where)
            if term:
                episodes += 1
                assert bool(be.to_numpy(info_v["_final_obs"])[i]), where
                _compare_obs(_row(be, info_v["final_obs"], i), o, where + " (final_obs)")
                o, info = reset_single(i)
                _compare_obs(_row(be, obs_v, i), o, where + " (after autoreset)")
                np.testing.assert_array_equal(be.to_numpy(info_v["action_mask"][i]), info["action_mask"],
                                              err_msg=where + " (mask after autoreset)")
            else:
                _compare_obs(_row(be, obs_v, i), o, where)
                np.testing.assert_array_equal(be.to_numpy(vec.action_masks()[i]), singles[i].action_masks(),
                                              err_msg=where)
    assert episodes > 0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("config", REGISTERED + ODD_CONFIGS, ids=CONFIG_IDS)
def test_vector_env_matches_single_env(config: dict, backend: str) -> None:
    _torch_or_skip(backend)
    run_differential(config, backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_vector_env_matches_single_env_long_thinking(backend: str) -> None:
    """Long episodes full of thoughts and few illegal actions: stores fill up, evict and get forgotten."""
    _torch_or_skip(backend)
    config = dict(channels=("propose", "negate", "forget", "marker"), max_thoughts=6, memory_size=4, num_markers=2,
                  shaping="potential", thought_cost=0.01)
    run_differential(config, backend, num_envs=5, steps=150, p_illegal=0.01, seed=3)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("config", [REGISTERED[-1], ODD_CONFIGS[0], ODD_CONFIGS[1], ODD_CONFIGS[4], ODD_CONFIGS[8]],
                         ids=["Full", "odd0", "odd1-generic", "odd4-generic", "odd8-generic"])
def test_sample_actions_are_legal_and_uniform(config: dict, backend: str) -> None:
    _torch_or_skip(backend)
    vec = ThoughtVectorEnv(2000, opponent=batched_opponent, backend=backend, **config)
    be = vec.backend
    vec.reset(seed=4)
    for t in range(6):
        mask = be.to_numpy(vec.action_masks())
        actions = be.to_numpy(vec.sample_actions())
        assert mask[np.arange(2000), actions].all()
        vec.step(actions)
    # uniform over the legal actions: every game in the same state, many draws
    vec = ThoughtVectorEnv(4000, opponent=batched_opponent, backend=backend, **{**config, "agent_player": "X"})
    vec.reset(seed=1)
    legal = np.flatnonzero(be.to_numpy(vec.action_masks())[0])
    counts = np.bincount(be.to_numpy(vec.sample_actions()), minlength=vec.single_action_space.n)
    assert set(np.flatnonzero(counts)) <= set(legal.tolist())
    expected = 4000 / legal.size
    assert counts[legal].min() > 0.6 * expected and counts[legal].max() < 1.4 * expected


# ---------------------------------------------------------------------------------------- built-in opponents
def _opponent_replies(vec: ThoughtVectorEnv, steps: int, seed: int):
    """Yield (board after the learner's move, the opponent's reply cell) for every reply seen."""
    be = vec.backend
    vec.reset(seed=seed)
    rng = np.random.default_rng(seed)
    n = vec.layout.n_cells
    for _ in range(steps):
        before = [vec.game_state(i) for i in range(vec.num_envs)]
        masks = be.to_numpy(vec.action_masks())
        actions = np.array([rng.choice(np.flatnonzero(m[:n])) for m in masks])  # moves only
        _, _, _, _, infos = vec.step(actions)
        for i in range(vec.num_envs):
            after = vec.info_at(infos, i)
            if after["outcome"] >= 0:
                continue  # the game ended, maybe before the reply; the next state is a new game
            board = before[i]["board"].copy()
            board[actions[i]] = before[i]["agent"] + 1
            new_board = vec.game_state(i)["board"]
            (cell,) = np.flatnonzero(new_board != board)
            yield board, int(cell)


@pytest.mark.parametrize("backend", BACKENDS)
def test_minimax_opponent_plays_only_optimal_moves(backend: str) -> None:
    _torch_or_skip(backend)
    from tttthought_env.solver import get_solver

    solver = get_solver(3, 3, 3)
    vec = ThoughtVectorEnv(32, opponent="minimax", channels=(), backend=backend)
    seen = 0
    for board, cell in _opponent_replies(vec, 12, seed=1):
        assert solver.optimal_moves(board)[cell], (board, cell)
        seen += 1
    assert seen > 100


def _heuristic_candidates(board: np.ndarray) -> set:
    """HeuristicOpponent's rule (docstring of tttthought_env.opponents): win, block, centre, corner, any."""
    from tttthought_env.core import winning_lines

    mover = 1 if np.count_nonzero(board == 1) == np.count_nonzero(board == 2) else 2

    def completing(mark: int) -> set:
        return {c for line in winning_lines(3, 3, 3) for c in line
                if board[c] == 0 and sum(board[d] == mark for d in line) == 2}

    empty = {int(c) for c in np.flatnonzero(board == 0)}
    return completing(mover) or completing(3 - mover) or ({4} & empty) or ({0, 2, 6, 8} & empty) or empty


@pytest.mark.parametrize("backend", BACKENDS)
def test_heuristic_opponent_follows_its_rule(backend: str) -> None:
    _torch_or_skip(backend)
    vec = ThoughtVectorEnv(32, opponent="heuristic", channels=(), backend=backend, agent_player="O")
    seen = 0
    for board, cell in _opponent_replies(vec, 10, seed=2):
        candidates = _heuristic_candidates(board)
        assert cell in candidates, (board, cell, candidates)
        seen += 1
    assert seen > 100


@pytest.mark.parametrize("backend", BACKENDS)
def test_random_opponent_opening_is_uniform_and_seeded(backend: str) -> None:
    _torch_or_skip(backend)
    vec = ThoughtVectorEnv(4000, opponent="random", agent_player="O", channels=(), backend=backend)
    obs, _ = vec.reset(seed=5)
    obs = vec.backend.to_numpy(obs)
    counts = obs[:, 9:18].sum(axis=0)  # the opponent's opening mark, from the learner's side
    assert counts.sum() == 4000 and counts.min() > 4000 / 9 * 0.75, counts
    again, _ = ThoughtVectorEnv(4000, opponent="random", agent_player="O", channels=(), backend=backend).reset(seed=5)
    np.testing.assert_array_equal(vec.backend.to_numpy(again), obs)


# ---------------------------------------------------------------------------------------- API and errors
def test_vector_env_is_a_gymnasium_vector_env_with_same_step_autoreset() -> None:
    from gymnasium.vector import AutoresetMode, VectorEnv

    vec = make_vector_env("tttthought/Full-v0", 16)
    assert isinstance(vec, VectorEnv)
    assert vec.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    assert vec.opponent == "minimax" and vec.opponent_epsilon == 0.5
    obs, info = vec.reset(seed=0)
    assert vec.observation_space.contains(obs)
    assert vec.single_observation_space.shape == (40,) and vec.single_action_space.n == 38
    obs, rewards, term, trunc, infos = vec.step(np.zeros(16, np.int64))
    assert vec.observation_space.contains(obs)
    assert rewards.dtype == np.float64 and term.dtype == bool and not trunc.any()
    assert infos["action_mask"].shape == (16, 38) and infos["step_kind"].tolist() == [0] * 16
    assert vec.autoreset_mode == AutoresetMode.SAME_STEP
    assert STEP_KINDS[0] == "move" and OUTCOMES == ("win", "draw", "loss")


def test_state_fits_in_64_bytes_per_game() -> None:
    full = make_vector_env("tttthought/Full-v0", 1000)
    assert full.state_nbytes_per_game() <= 64 and full.state_nbytes_per_game() == 22
    full.reset(seed=0)
    total = sum(v.nbytes for v in full._state.arrays().values())
    assert total == 1000 * full.state_nbytes_per_game()
    assert make_vector_env("tttthought/Plain-v0", 10).state_nbytes_per_game() <= full.state_nbytes_per_game()


def test_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="12 cells"):
        ThoughtVectorEnv(4, rows=4, cols=4, k=3, opponent="minimax")
    with pytest.raises(ValueError, match="12 cells"):
        ThoughtVectorEnv(4, rows=4, cols=4, k=3, shaping="oracle")
    with pytest.raises(ValueError, match="cannot be vectorized"):
        ThoughtVectorEnv(4, shaping=lambda before, thought, after: 0.0)
    with pytest.raises(ValueError, match="num_envs"):
        ThoughtVectorEnv(0)
    with pytest.raises(ValueError, match="backend"):
        ThoughtVectorEnv(2, backend="jax")
    with pytest.raises(ValueError, match="render"):
        ThoughtVectorEnv(2, render_mode="human")
    with pytest.raises(ValueError, match=r"\[1, 1048576\]"):
        ThoughtVectorEnv(2**20 + 1)
    with pytest.raises(ValueError, match="autoreset_mode"):
        ThoughtVectorEnv(2, autoreset_mode="Disabled")
    with pytest.raises(ValueError, match="memory_size"):
        ThoughtVectorEnv(1, memory_size=10**9)
    vec = ThoughtVectorEnv(3)
    with pytest.raises(RuntimeError):
        vec.step(np.zeros(3, np.int64))
    vec.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        vec.step(np.zeros(4, np.int64))
    with pytest.raises(ValueError, match=r"\[0, 38\)"):
        vec.step(np.array([0, 1, 38]))
    with pytest.raises(TypeError):
        vec.step(np.zeros(3, np.float32))


def test_illegal_action_raise_matches_single_env_message() -> None:
    vec = ThoughtVectorEnv(2, illegal_action="raise", opponent=batched_opponent)
    single = ThoughtTicTacToeEnv(illegal_action="raise", opponent=single_opponent)
    vec.reset(seed=0)
    single.reset(seed=0)
    vec.step(np.array([4, 4]))
    single.step(4)
    before = {key: value.copy() for key, value in vec._state.arrays().items()}
    with pytest.raises(ValueError) as single_err:
        single.step(4)
    with pytest.raises(ValueError, match="of env 1 is illegal") as vec_err:
        vec.step(np.array([0, 4]))
    assert str(single_err.value).split(": ", 1)[1] == str(vec_err.value).split(": ", 1)[1]
    for key, value in vec._state.arrays().items():  # nothing moved
        np.testing.assert_array_equal(value, before[key])


def test_callable_opponent_errors() -> None:
    vec = ThoughtVectorEnv(2, opponent=lambda boards, rng: np.zeros(boards.shape[0], np.int64))
    vec.reset(seed=0)
    with pytest.raises(ValueError, match="occupied"):
        vec.step(np.array([0, 0]))
    vec = ThoughtVectorEnv(2, opponent=lambda boards, rng: np.zeros(5, np.int64))
    vec.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        vec.step(np.array([0, 1]))


@pytest.mark.parametrize("backend", BACKENDS)
def test_seeded_runs_repeat_and_reset_mask(backend: str) -> None:
    _torch_or_skip(backend)

    def run():
        vec = make_vector_env("tttthought/Full-v0", 8, backend=backend, agent_player="random")
        obs, _ = vec.reset(seed=11)
        out = [vec.backend.to_numpy(obs)]
        rng = np.random.default_rng(0)
        for _ in range(20):
            m = vec.backend.to_numpy(vec.action_masks())
            obs, *_ = vec.step(np.array([rng.choice(np.flatnonzero(row)) for row in m]))
            out.append(vec.backend.to_numpy(obs))
        return vec, np.stack(out)

    vec, first = run()
    _, second = run()
    np.testing.assert_array_equal(first, second)
    rows = np.zeros(8, bool)
    rows[[1, 5]] = True
    before = vec.backend.to_numpy(vec.action_masks()).copy()
    _, info = vec.reset(options={"reset_mask": rows})
    assert vec.game_state(1)["store"] == () and vec.game_state(5)["thoughts"] == 0
    np.testing.assert_array_equal(vec.backend.to_numpy(info["action_mask"])[~rows], before[~rows])


# ---------------------------------------------------------------------------------------- stable-baselines3
def test_sb3_adapter_masks_and_terminal_observation() -> None:
    pytest.importorskip("stable_baselines3")
    pytest.importorskip("sb3_contrib")
    from sb3_contrib.common.maskable.utils import get_action_masks, is_masking_supported
    from stable_baselines3.common.vec_env import VecEnv

    from tttthought_env.vector import SB3VecEnv

    vec = make_vector_env("tttthought/Plain-v0", 8)
    env = SB3VecEnv(vec)
    assert isinstance(env, VecEnv) and is_masking_supported(env)
    env.seed(3)
    obs = env.reset()
    assert obs.shape == (8, 38)
    ended = 0
    for _ in range(12):
        masks = get_action_masks(env)
        assert masks.shape == (8, 9) and masks.dtype == bool
        actions = np.array([np.flatnonzero(m)[0] for m in masks])
        obs, rewards, dones, infos = env.step(actions)
        assert rewards.dtype == np.float32 and len(infos) == 8
        for i in np.flatnonzero(dones):
            ended += 1
            info = infos[i]
            assert info["TimeLimit.truncated"] is False and info["outcome"] in range(len(OUTCOMES))  # a code, as in every info
            assert info["terminal_observation"].shape == (38,)
            assert info["terminal_observation"][:18].sum() > obs[i][:18].sum()  # the finished board has more marks
            assert info["episode"]["l"] >= 3
        for i in np.flatnonzero(~dones):
            assert "terminal_observation" not in infos[i]
    assert ended > 0


def test_maskable_ppo_trains_on_64_vector_games() -> None:
    pytest.importorskip("sb3_contrib")
    import torch
    from sb3_contrib import MaskablePPO

    from tttthought_env.vector import SB3VecEnv

    torch.set_num_threads(1)
    env = SB3VecEnv(make_vector_env("tttthought/Full-v0", 64, shaping="oracle"))
    model = MaskablePPO("MlpPolicy", env, n_steps=32, batch_size=512, n_epochs=2, seed=0, verbose=0,
                        policy_kwargs={"net_arch": [32]})
    model.learn(total_timesteps=4096)
    assert model.num_timesteps >= 4096
    assert len(model.ep_info_buffer) > 0


def test_compile_needs_torch_and_sb3_env_method() -> None:
    with pytest.raises(ValueError, match="torch"):
        ThoughtVectorEnv(2).compile()
    pytest.importorskip("stable_baselines3")
    from tttthought_env.vector import SB3VecEnv

    env = SB3VecEnv(ThoughtVectorEnv(3))
    env.reset()
    assert env.get_attr("num_envs") == [3, 3, 3]
    assert env.env_method("state_nbytes_per_game", indices=[0, 2]) == [22, 22]
    assert [m.shape for m in env.env_method("action_masks", indices=[1])] == [(38,)]
    assert env.env_is_wrapped(object) == [False] * 3


def test_bench_loops_and_table() -> None:
    from benchmarks import bench

    assert bench.VectorLoop("tttthought/Full-v0", 64).run(3) == 192
    assert bench.VectorLoop("tttthought/Plain-v0", 64, sampler="mask").run(3) == 192
    assert bench.GymLoop(ThoughtTicTacToeEnv()).run(50) == 50
    rows = [
        {"kind": "candidate", "group": "vector", "name": "pgx tic_tac_toe JAX", "task": "t", "batch": 8,
         "steps_per_s": 100.0, "steps_per_cpu_s": 100.0},
        {"kind": "candidate", "group": "vector", "name": "ours vector numpy [Plain-v0]", "task": "t", "batch": 8,
         "steps_per_s": 120.0, "steps_per_cpu_s": 160.0},
        {"kind": "candidate", "group": "vector", "name": "ours vector numpy [Full-v0]", "task": "t", "batch": 8,
         "steps_per_s": None, "note": "not installed (x)"},
    ]
    ratios = bench.compare(rows)
    (plain,) = [r for r in ratios if r["name"] == "ours vector numpy [Plain-v0]"]
    assert plain["ratio"] == pytest.approx(1.2) and plain["cpu_ratio"] == pytest.approx(1.6) and plain["met"] is False
    table = bench.format_table(rows + ratios)
    assert "1.20x" in table and "NO" in table and "skipped: not installed (x)" in table


def test_sample_actions_with_more_markers_than_cells() -> None:
    # a marker chunk wider than the board once indexed the board's rank-select table out of range
    vec = ThoughtVectorEnv(64, rows=1, cols=1, k=1, channels=("forget", "marker"), num_markers=3,
                           agent_player="random", memory_size=2)
    vec.reset(seed=0)
    for _ in range(20):
        mask, actions = vec.action_masks(), vec.sample_actions()
        assert (mask[np.arange(64), actions] | ~mask.any(axis=1)).all()
        vec.step(actions)
