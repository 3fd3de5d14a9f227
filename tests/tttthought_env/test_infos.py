"""One info shape (issue 11): every info of every env, at reset and at every step, for every agent.

Each info has exactly ``INFO_KEYS``, numeric values only (codes into ``STEP_KINDS`` / ``OUTCOMES``, never a
name or ``None``), the same type per key throughout, ``outcome == RUNNING`` exactly while the game runs,
``step_kind == NO_STEP`` only at a reset (and for the PettingZoo agent that did not act), and ``thoughts``
the count of (legal) thought steps so far this episode. Checked under random legal play with illegal
actions sprinkled in, for the Gymnasium env (raw and through ``gymnasium.make``), the PettingZoo env (both
agents, ``env.infos`` and ``env.last()``) and the vector env (the ``infos`` arrays and ``info_at``), and the
single env's info against the vector env's ``info_at`` on the same game. Mutant wrappers (a string outcome,
a reset info missing keys, a thoughts count only at the end) must fail the same checks.
"""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import tttthought_env  # noqa: F401  (registers the ids)
from tttthought_env import ThoughtTicTacToeEnv
from tttthought_env.pettingzoo import AGENTS, env as pz_env, raw_env
from tttthought_env.registration import TASKS
from tttthought_env.transition import INFO_KEYS, MOVE, NO_STEP, OUTCOMES, RUNNING, STEP_KINDS, THOUGHT
from tttthought_env.vector import ThoughtVectorEnv

#: Configurations of the contract: the registered extremes, shaping, the learner as O, a bigger board.
GYM_CONFIGS = {
    "Plain-v0": dict(TASKS["tttthought/Plain-v0"]),
    "Full-v0": dict(TASKS["tttthought/Full-v0"]),
    "potential": dict(shaping="potential", thought_cost=0.05),
    "agent_O": dict(agent_player="O", draw_reward=0.5),
    "4x4": dict(rows=4, cols=4, k=3, max_thoughts=2, memory_size=3),
}
PZ_CONFIGS = {
    "Plain-v0": dict(TASKS["tttthought/Plain-v0"]),
    "Full-v0": dict(TASKS["tttthought/Full-v0"]),
    "potential": dict(shaping="potential", thought_cost=0.05),
    "flat": dict(obs_mode="flat", draw_reward=0.5),
    "4x4": dict(rows=4, cols=4, k=3, max_thoughts=2, memory_size=3),
}
P_ILLEGAL = 0.04  # an illegal action ends the episode (illegal_action="lose"): rare, so games also end by play


def lowest_empty(board, rng) -> int:
    """A deterministic opponent: the lowest empty cell."""
    return int(np.flatnonzero(np.asarray(board) == 0)[0])


def lowest_empty_batched(boards, rng) -> np.ndarray:
    """The same rule for a batch of boards (the vector env's callable opponent)."""
    return np.argmax(np.asarray(boards) == 0, axis=1)


# ------------------------------------------------------------------------------------------------ the checks
def is_numeric(value) -> bool:
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "biuf"
    return isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating))


def type_of(value):
    return ("ndarray", value.dtype, value.shape) if isinstance(value, np.ndarray) else type(value)


class InfoContract:
    """Checks infos one by one and remembers each key's type: the same type for the same key throughout."""

    def __init__(self, n_actions: int) -> None:
        self.n_actions = n_actions
        self.types: dict[str, object] = {}

    def check(self, info: dict, where: str) -> dict:
        assert isinstance(info, dict), where
        assert sorted(info) == sorted(INFO_KEYS) and len(info) == len(INFO_KEYS), \
            f"{where}: keys {sorted(info)} != INFO_KEYS"
        for key, value in info.items():
            assert value is not None and not isinstance(value, str), f"{where}: info[{key!r}] = {value!r}"
            assert is_numeric(value), f"{where}: info[{key!r}] = {value!r} is not numeric"
            t = self.types.setdefault(key, type_of(value))
            assert type_of(value) == t, f"{where}: info[{key!r}] is {type_of(value)}, earlier {t}"
        mask = info["action_mask"]
        # bool (int8 is PettingZoo's mask convention, which its api_test samples with): 0/1 entries, one per action.
        assert isinstance(mask, np.ndarray) and mask.dtype in (np.bool_, np.int8), f"{where}: mask {mask.dtype}"
        assert mask.shape == (self.n_actions,) and np.isin(mask, (0, 1)).all(), where
        assert info["step_kind"] in (NO_STEP, MOVE, THOUGHT), where
        assert info["outcome"] == RUNNING or 0 <= info["outcome"] < len(OUTCOMES), where
        assert isinstance(info["illegal_action"], (bool, np.bool_)), where
        assert int(info["thoughts"]) == info["thoughts"] >= 0, where
        for key in ("reward_game", "reward_shaping", "reward_cost"):
            assert np.isfinite(info[key]), where
        return info

    def check_reset(self, info: dict, where: str) -> dict:
        self.check(info, where)
        assert info["step_kind"] == NO_STEP and info["outcome"] == RUNNING, where
        assert info["thoughts"] == 0 and not info["illegal_action"], where
        assert info["reward_game"] == info["reward_shaping"] == info["reward_cost"] == 0.0, where
        return info


def choose(rng: np.random.Generator, mask: np.ndarray, n_cells: int, p_illegal: float) -> int:
    """A random action: now and then an illegal one, else a legal move or (often) a legal thought."""
    illegal = np.flatnonzero(~mask)
    if illegal.size and rng.random() < p_illegal:
        return int(rng.choice(illegal))
    thoughts = np.flatnonzero(mask[n_cells:]) + n_cells
    if thoughts.size and rng.random() < 0.5:
        return int(rng.choice(thoughts))
    return int(rng.choice(np.flatnonzero(mask[:n_cells])))


# ------------------------------------------------------------------------------------------------ Gymnasium
def gym_contract(env, seed: int = 0, episodes: int = 12, p_illegal: float = P_ILLEGAL) -> dict:
    """Play ``episodes`` random episodes checking every info; return counts of what was seen."""
    base = env.unwrapped
    n, contract = base.config.n_cells, InfoContract(base.action_space.n)
    rng = np.random.default_rng(seed)
    seen = {"illegal": 0, "thought": 0, "steps": 0, "outcomes": set()}
    for episode in range(episodes):
        _, info = env.reset(seed=seed + episode)
        contract.check_reset(info, f"episode {episode} reset")
        np.testing.assert_array_equal(info["action_mask"], base.action_masks())
        thoughts, terminated, t = 0, False, 0
        while not terminated:
            where = f"episode {episode} step {t}"
            mask = base.action_masks().copy()
            a = choose(rng, mask, n, p_illegal)
            _, reward, terminated, truncated, info = env.step(a)
            contract.check(info, where)
            assert not truncated, where
            illegal = not mask[a]
            kind = MOVE if a < n else THOUGHT
            thoughts += kind == THOUGHT and not illegal
            assert info["step_kind"] == kind, f"{where}: step_kind {info['step_kind']} for {STEP_KINDS[kind]}"
            assert info["illegal_action"] == illegal and type(info["illegal_action"]) is bool, where
            assert info["thoughts"] == thoughts, f"{where}: thoughts {info['thoughts']} != {thoughts} so far"
            assert (info["outcome"] == RUNNING) == (not terminated), where
            np.testing.assert_array_equal(info["action_mask"], base.action_masks(), err_msg=where)
            assert reward == pytest.approx(info["reward_game"] + info["reward_shaping"] + info["reward_cost"])
            if not terminated:
                assert info["reward_game"] == 0.0, where
            seen["illegal"] += illegal
            seen["thought"] += kind == THOUGHT
            seen["steps"] += 1
            t += 1
        assert not info["action_mask"].any()
        seen["outcomes"].add(OUTCOMES[info["outcome"]])
        if info["illegal_action"]:
            assert OUTCOMES[info["outcome"]] == "loss"
    return seen


@pytest.mark.parametrize("cfg", list(GYM_CONFIGS.values()), ids=list(GYM_CONFIGS))
def test_gymnasium_env_infos(cfg):
    env = ThoughtTicTacToeEnv(opponent="random", **cfg)
    seen = gym_contract(env, seed=1, episodes=16)
    assert seen["illegal"] > 0 and seen["steps"] > 16
    if cfg.get("channels", ("x",)):
        assert seen["thought"] > 0


@pytest.mark.parametrize("env_id", ["tttthought/Plain-v0", "tttthought/Full-v0"])
@pytest.mark.parametrize("extra", [dict(), dict(shaping="potential"), dict(agent_player="O"),
                                   dict(rows=4, cols=4, k=3, opponent="heuristic")],
                         ids=["default", "potential", "agent_O", "4x4"])
def test_gymnasium_make_infos(env_id, extra):
    env = gymnasium.make(env_id, **extra)
    seen = gym_contract(env, seed=2, episodes=25, p_illegal=0.08)
    assert seen["illegal"] > 0


def test_gymnasium_infos_of_a_raised_illegal_action_leave_the_next_info_in_shape():
    env = ThoughtTicTacToeEnv(opponent="random", illegal_action="raise")
    contract = InfoContract(env.action_space.n)
    _, info = env.reset(seed=0)
    contract.check_reset(info, "reset")
    with pytest.raises(ValueError):
        env.step(env.encode_action("forget", 0))
    _, _, _, _, info = env.step(env.encode_action("propose", 0))
    contract.check(info, "after the refused action")
    assert info["illegal_action"] is False and info["thoughts"] == 1 and info["step_kind"] == THOUGHT


# ------------------------------------------------------------------------------------------------ PettingZoo
def pz_contract(e, seed: int = 0, episodes: int = 10, p_illegal: float = P_ILLEGAL) -> dict:
    base = e.unwrapped
    n, contract = base.config.n_cells, InfoContract(base.action_space(AGENTS[0]).n)
    rng = np.random.default_rng(seed)
    seen = {"illegal": 0, "thought": 0}
    for episode in range(episodes):
        e.reset(seed=seed + episode)
        for p, name in enumerate(AGENTS):
            info = contract.check_reset(e.infos[name], f"episode {episode} reset {name}")
            assert info["action_mask"].any() == (p == 0), "only player_0 is to act at the reset"
            np.testing.assert_array_equal(info["action_mask"], base.action_masks(name))
        contract.check_reset(e.last()[4], f"episode {episode} reset last()")
        thoughts, t = [0, 0], 0
        while not any(e.terminations.values()):
            actor = e.agent_selection
            player = AGENTS.index(actor)
            mask = base.action_masks(actor).copy()
            a = choose(rng, mask, n, p_illegal)
            e.step(a)
            illegal, kind = not mask[a], (MOVE if a < n else THOUGHT)
            thoughts[player] += kind == THOUGHT and not illegal
            for p, name in enumerate(AGENTS):
                where = f"episode {episode} step {t} ({actor} played {a}) info of {name}"
                info = contract.check(e.infos[name], where)
                if p == player:
                    assert info["step_kind"] == kind and info["illegal_action"] == illegal, where
                else:
                    assert info["step_kind"] == NO_STEP and info["illegal_action"] is False, where
                assert type(info["illegal_action"]) is bool, where
                assert info["thoughts"] == thoughts[p], f"{where}: thoughts {info['thoughts']} != {thoughts[p]}"
                assert (info["outcome"] == RUNNING) == (not e.terminations[name]), where
                # Its own mask: all False unless it is to act now.
                np.testing.assert_array_equal(info["action_mask"], base.action_masks(name), err_msg=where)
                assert info["action_mask"].any() == (not e.terminations[name] and e.agent_selection == name), where
                if not e.terminations[name]:
                    assert info["reward_game"] == 0.0, where
            _, _, terminated, _, info = e.last()
            contract.check(info, f"episode {episode} step {t} last()")
            assert info == e.infos[e.agent_selection] or info is e.infos[e.agent_selection]
            seen["illegal"] += illegal
            seen["thought"] += kind == THOUGHT
            t += 1
        outcomes = {name: OUTCOMES[e.infos[name]["outcome"]] for name in AGENTS}
        assert sorted(outcomes.values()) in (["draw", "draw"], ["loss", "win"]), outcomes
        for agent in e.agent_iter():  # the dead steps, as PettingZoo's classic games are used
            _, _, terminated, _, info = e.last()
            contract.check(info, f"episode {episode} dead step of {agent}")
            assert terminated and info["outcome"] != RUNNING and not info["action_mask"].any()
            e.step(None)
    return seen


@pytest.mark.parametrize("factory", [pz_env, raw_env], ids=["env", "raw_env"])
@pytest.mark.parametrize("cfg", list(PZ_CONFIGS.values()), ids=list(PZ_CONFIGS))
def test_pettingzoo_env_infos(factory, cfg):
    seen = pz_contract(factory(**cfg), seed=3, episodes=12)
    assert seen["illegal"] > 0
    if cfg.get("channels", ("x",)):
        assert seen["thought"] > 0


# ------------------------------------------------------------------------------------------------ vector env
def check_vector_infos(infos: dict, num_envs: int, dtypes: dict, where: str) -> None:
    extra = {"final_obs", "_final_obs", "final_info", "_final_info"} & set(infos)
    assert set(infos) - extra == set(INFO_KEYS) | {"_" + key for key in INFO_KEYS}, f"{where}: {sorted(infos)}"
    for key in INFO_KEYS:
        value = np.asarray(infos[key])
        assert value.shape[0] == num_envs and value.dtype.kind in "biuf", f"{where}: infos[{key!r}] {value.dtype}"
        assert dtypes.setdefault(key, value.dtype) == value.dtype, f"{where}: infos[{key!r}] dtype changed"
        assert np.asarray(infos["_" + key]).all(), f"{where}: every game has a value of {key!r}"


VECTOR_CONFIGS = {
    "Plain-v0": dict(TASKS["tttthought/Plain-v0"]),
    "Full-v0": dict(TASKS["tttthought/Full-v0"]),
    "potential": dict(shaping="potential", thought_cost=0.05),
    "agent_O": dict(agent_player="O", draw_reward=0.5),
    "4x4": dict(rows=4, cols=4, k=3, max_thoughts=2, memory_size=3),
}


@pytest.mark.parametrize("mode", ["same_step", "next_step"])
@pytest.mark.parametrize("cfg", list(VECTOR_CONFIGS.values()), ids=list(VECTOR_CONFIGS))
def test_vector_env_infos(cfg, mode):
    B, steps = 6, 120
    vec = ThoughtVectorEnv(B, opponent="random", autoreset_mode=mode, **cfg)
    n, dtypes = vec.layout.n_cells, {}
    contracts = [InfoContract(vec.single_action_space.n) for _ in range(B)]
    _, infos = vec.reset(seed=4)
    check_vector_infos(infos, B, dtypes, "reset")
    for i in range(B):
        contracts[i].check_reset(vec.info_at(infos, i), f"reset game {i}")
    rng = np.random.default_rng(4)
    thoughts = np.zeros(B, int)
    pending = np.zeros(B, bool)  # next-step mode: games that ended and are reset by this step
    ended = 0
    for t in range(steps):
        masks = np.asarray(vec.action_masks())
        # A game that ended last step in next-step mode has no legal action: its action is ignored.
        actions = np.array([0 if pending[i] else choose(rng, masks[i], n, P_ILLEGAL) for i in range(B)])
        _, _, terminated, _, infos = vec.step(actions)
        terminated = np.asarray(terminated)
        check_vector_infos(infos, B, dtypes, f"step {t}")
        for i in range(B):
            where = f"step {t} game {i} action {actions[i]}"
            info = vec.info_at(infos, i)
            if pending[i]:  # its action is ignored: the info of a fresh episode
                contracts[i].check_reset(info, where)
                thoughts[i] = 0
                continue
            contracts[i].check(info, where)
            illegal, kind = not masks[i][actions[i]], (MOVE if actions[i] < n else THOUGHT)
            thoughts[i] += kind == THOUGHT and not illegal
            assert info["step_kind"] == kind and info["illegal_action"] == illegal, where
            assert info["thoughts"] == thoughts[i], f"{where}: thoughts {info['thoughts']} != {thoughts[i]}"
            assert (info["outcome"] == RUNNING) == (not terminated[i]), where
            if terminated[i]:
                ended += 1
                thoughts[i] = 0
        pending = terminated & (mode == "next_step")
    assert ended > 0


# ------------------------------------------------------------------------------------------------ single == vector
@pytest.mark.parametrize("cfg", [dict(TASKS["tttthought/Full-v0"]), dict(TASKS["tttthought/Plain-v0"]),
                                 dict(agent_player="O", shaping="potential", thought_cost=0.1),
                                 dict(rows=4, cols=4, k=3, max_thoughts=2)],
                         ids=["Full-v0", "Plain-v0", "O_potential", "4x4"])
def test_single_env_info_equals_the_vector_envs_info_at(cfg):
    B = 4
    vec = ThoughtVectorEnv(B, opponent=lowest_empty_batched, **cfg)
    singles = [ThoughtTicTacToeEnv(opponent=lowest_empty, **cfg) for _ in range(B)]
    n = vec.layout.n_cells

    def same(got: dict, want: dict, where: str) -> None:
        assert list(got) == list(want) == list(INFO_KEYS), where
        for key in INFO_KEYS:
            if isinstance(want[key], np.ndarray):
                np.testing.assert_array_equal(got[key], want[key], err_msg=f"{where}: {key}")
            else:
                assert got[key] == want[key] and type(got[key]) is type(want[key]), \
                    f"{where}: {key} {got[key]!r} != {want[key]!r}"

    _, infos = vec.reset(seed=5)
    for i in range(B):
        same(vec.info_at(infos, i), singles[i].reset(seed=i)[1], f"reset game {i}")
    rng = np.random.default_rng(5)
    ended = 0
    for t in range(80):
        actions = [choose(rng, singles[i].action_masks().copy(), n, P_ILLEGAL) for i in range(B)]
        _, _, terminated, _, infos = vec.step(np.array(actions))
        for i in range(B):
            _, _, term, _, info = singles[i].step(actions[i])
            assert bool(np.asarray(terminated)[i]) == term
            same(vec.info_at(infos, i), info, f"step {t} game {i} action {actions[i]}")
            if term:
                ended += 1
                singles[i].reset()
    assert ended > 0


# ------------------------------------------------------------------------------------------------ mutants fail
class Mutant(gymnasium.Wrapper):
    """A wrong implementation of the infos, to show the checks above catch it."""

    def __init__(self, env, kind: str) -> None:
        super().__init__(env)
        self.kind = kind

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        if self.kind == "reset_missing_keys":
            info = {"action_mask": info["action_mask"]}
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        info = dict(info)
        if self.kind == "string_outcome" and terminated:
            info["outcome"] = OUTCOMES[info["outcome"]]
        if self.kind == "string_step_kind":
            info["step_kind"] = STEP_KINDS[info["step_kind"]]
        if self.kind == "end_only_keys" and not terminated:
            for key in ("outcome", "thoughts", "illegal_action"):
                del info[key]
        if self.kind == "thoughts_only_at_end" and not terminated:
            info["thoughts"] = 0
        if self.kind == "outcome_none_while_running" and not terminated:
            info["outcome"] = None
        if self.kind == "numpy_scalar_at_end" and terminated:
            info["reward_game"] = np.float32(info["reward_game"])
        return obs, reward, terminated, truncated, info


@pytest.mark.parametrize("kind", ["reset_missing_keys", "string_outcome", "string_step_kind", "end_only_keys",
                                  "thoughts_only_at_end", "outcome_none_while_running", "numpy_scalar_at_end"])
def test_a_wrong_info_shape_fails_the_contract(kind):
    env = Mutant(ThoughtTicTacToeEnv(opponent="random", **TASKS["tttthought/Full-v0"]), kind)
    with pytest.raises(AssertionError):
        gym_contract(env, seed=1, episodes=6)


class PettingZooMutant(raw_env):
    """Only the actor's info has ``step_kind`` (the old shape)."""

    def step(self, action):
        actor = self.agent_selection
        super().step(action)
        for name in AGENTS:
            if name != actor and name in self.infos:
                self.infos[name].pop("step_kind", None)


def test_a_wrong_pettingzoo_info_shape_fails_the_contract():
    with pytest.raises(AssertionError, match="INFO_KEYS"):
        pz_contract(PettingZooMutant(), seed=3, episodes=3)
