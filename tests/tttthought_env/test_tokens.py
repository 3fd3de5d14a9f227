"""obs_mode="tokens": the position as (type, value, position) rows, in all three envs and both views; it carries the
same information as the flat observation (decoded into it here on random games)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tttthought_env import ThoughtTicTacToeEnv
from tttthought_env.pettingzoo import AGENTS, raw_env
from tttthought_env.vector import ThoughtVectorEnv


def flat_from_tokens(obs: dict, n: int, memory: int, markers: int, max_thoughts: int, view: str) -> np.ndarray:
    """The flat observation the tokens describe (docs/spec.md, "Observations" and "Token observations")."""
    tokens, used = obs["tokens"], obs["token_mask"].astype(bool)
    assert (tokens[~used] == 0).all() and (used == (tokens[:, 0] != 0)).all()
    cells, store, budget = tokens[:n], tokens[n:n + memory], tokens[-1]
    assert (cells[:, 1] == np.arange(n)).all() and (cells[:, 2] == np.arange(n)).all()
    if view == "full":
        first, second = cells[:, 0] == 2, cells[:, 0] == 3
    else:
        first, second = np.isin(cells[:, 0], (8, 9)), cells[:, 0] == 9
    entries = store[store[:, 0] != 0]
    assert (entries[:, 2] == np.arange(len(entries))[::-1]).all()  # ages: oldest first, 0 the newest
    pos, neg = np.zeros(n), np.zeros(n)
    pos[entries[entries[:, 0] == 4, 1]] = 1
    neg[entries[entries[:, 0] == 5, 1]] = 1
    marker_counts = [np.count_nonzero((entries[:, 0] == 6) & (entries[:, 1] == m)) / memory for m in range(markers)]
    assert budget[0] == 7 and budget[2] == 0
    return np.concatenate([first, second, pos, neg, marker_counts,
                           [budget[1] / max(max_thoughts, 1), len(entries) / memory]]).astype(np.float32)


CONFIGS = [dict(), dict(channels=()), dict(memory_size=3, max_thoughts=4), dict(rows=4, cols=4, k=3, num_markers=3),
           dict(channels=("propose", "forget"), persist="turn")]


def _decode_args(env) -> dict:
    layout = env.layout
    return dict(n=layout.n_cells, memory=layout.memory_size, markers=layout.marker_slots,
                max_thoughts=env.config.max_thoughts, view=env.config.view)


@settings(max_examples=40, deadline=None)
@given(cfg=st.sampled_from(CONFIGS), view=st.sampled_from(["full", "last_move"]), side=st.sampled_from(["X", "O"]),
       seed=st.integers(0, 2**16))
def test_tokens_decode_into_the_flat_observation_gymnasium(cfg, view, side, seed):
    tokens_env = ThoughtTicTacToeEnv(obs_mode="tokens", view=view, agent_player=side, **cfg)
    flat_env = ThoughtTicTacToeEnv(view=view, agent_player=side, **cfg)
    rng = np.random.default_rng(seed)
    (obs, info), (flat, _) = tokens_env.reset(seed=seed), flat_env.reset(seed=seed)
    while True:
        assert tokens_env.observation_space.contains(obs)
        np.testing.assert_array_equal(flat_from_tokens(obs, **_decode_args(tokens_env)), flat)
        np.testing.assert_array_equal(obs["action_mask"], info["action_mask"].astype(np.int8))
        action = int(rng.choice(np.flatnonzero(info["action_mask"])))
        obs, _, terminated, _, info = tokens_env.step(action)
        flat, *_ = flat_env.step(action)
        if terminated:
            break


@settings(max_examples=20, deadline=None)
@given(view=st.sampled_from(["full", "last_move"]), seed=st.integers(0, 2**16))
def test_tokens_decode_into_the_flat_observation_pettingzoo(view, seed):
    e, flat = raw_env(obs_mode="tokens", view=view), raw_env(obs_mode="flat", view=view)
    e.reset(seed=seed)
    flat.reset(seed=seed)
    rng = np.random.default_rng(seed)
    while not e.game.done:
        for agent in AGENTS:
            obs = e.observe(agent)
            assert e.observation_space(agent).contains(obs)
            np.testing.assert_array_equal(flat_from_tokens(obs, **_decode_args(e)), flat.observe(agent))
        action = int(rng.choice(np.flatnonzero(e.action_masks())))
        e.step(action)
        flat.step(action)


def test_tokens_on_a_hand_played_position(lowest_empty_opponent):
    env = ThoughtTicTacToeEnv(obs_mode="tokens", opponent=lowest_empty_opponent)
    env.reset(seed=0)
    env.step(4)  # the opponent answers on 0
    env.step(env.encode_action("propose", 8))
    obs, *_ = env.step(env.encode_action("marker", 1))
    tokens = obs["tokens"]
    assert tokens.dtype == np.int64 and tokens.shape == (9 + 9 + 1, 3) and obs["token_mask"].dtype == np.int8
    assert tokens[:9, 0].tolist() == [3, 1, 1, 1, 2, 1, 1, 1, 1]  # the opponent's 0, my 4
    assert tokens[9:12].tolist() == [[4, 8, 1], [6, 1, 0], [0, 0, 0]]  # +8 (older), marker 1 (newest), padding
    assert tokens[-1].tolist() == [7, 1, 0]  # one thought left
    assert obs["token_mask"].tolist() == [1] * 11 + [0] * 7 + [1]
    twin = ThoughtTicTacToeEnv(obs_mode="tokens", opponent=lowest_empty_opponent, view="last_move")
    twin.reset(seed=0)
    obs, *_ = twin.step(4)
    assert obs["tokens"][:9, 0].tolist() == [9, 1, 1, 1, 8, 1, 1, 1, 1]  # the last move on 0, occupied 4


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("cfg", CONFIGS + [dict(rows=8, cols=8, k=4)])
def test_vector_tokens_are_the_cores(backend, cfg):
    if backend == "torch":
        pytest.importorskip("torch")
    for view in ("full", "last_move"):
        vec = ThoughtVectorEnv(4, obs_mode="tokens", view=view, agent_player="random", backend=backend, **cfg)
        obs, _ = vec.reset(seed=0)
        for _ in range(30):
            tokens = vec.backend.to_numpy(obs["tokens"])
            assert vec.observation_space.contains({key: vec.backend.to_numpy(value) for key, value in obs.items()})
            for i in range(4):
                game = vec.game_at(i)
                np.testing.assert_array_equal(tokens[i], game.tokens(game.to_move))
            obs, _, terminated, _, infos = vec.step(vec.sample_actions())
            if bool(vec.backend.to_numpy(terminated).any()):
                final = vec.backend.to_numpy(infos["final_obs"]["tokens"])
                assert final.shape == tokens.shape and final.dtype == np.int64
