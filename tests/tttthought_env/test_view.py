"""view="last_move": the two mark planes show the occupied cells and the other player's last move; the rest of
the observation, the mask and the game are those of view="full" (docs/spec.md, "Views")."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tttthought_env  # noqa: F401  (registers the ids)
from tttthought_env import ThoughtTicTacToeEnv
from tttthought_env.config import VIEWS, Config
from tttthought_env.pettingzoo import AGENTS, raw_env
from tttthought_env.vector import ThoughtVectorEnv


def planes(obs: np.ndarray, n: int) -> tuple[list[int], list[int]]:
    return np.flatnonzero(obs[:n]).tolist(), np.flatnonzero(obs[n:2 * n]).tolist()


def test_views_and_a_bad_view_is_a_named_error():
    assert VIEWS == ("full", "last_move") and Config().view == "full"
    for bad in ("partial", None, 1):
        with pytest.raises(ValueError, match=r"view must be one of \('full', 'last_move'\), got"):
            ThoughtTicTacToeEnv(view=bad)
        with pytest.raises(ValueError, match="view must be one of"):
            raw_env(view=bad)
        with pytest.raises(ValueError, match="view must be one of"):
            ThoughtVectorEnv(2, view=bad)


def test_last_move_planes_on_a_hand_played_game(lowest_empty_opponent):
    env = ThoughtTicTacToeEnv(opponent=lowest_empty_opponent, view="last_move")
    obs, _ = env.reset(seed=0)
    assert planes(obs, 9) == ([], [])  # nothing occupied, no last move before the opponent's first
    obs, *_ = env.step(env.encode_action("propose", 7))
    assert planes(obs, 9) == ([], []) and obs[2 * 9 + 7] == 1.0  # the store planes are unchanged
    obs, *_ = env.step(4)  # the opponent answers on 0
    assert planes(obs, 9) == ([0, 4], [0])
    obs, *_ = env.step(8)  # the opponent answers on 1
    assert planes(obs, 9) == ([0, 1, 4, 8], [1])
    assert env.game.board.tolist() == [2, 2, 0, 0, 1, 0, 0, 0, 1]  # the game itself is the full view's


def test_last_move_as_o_sees_the_opening(lowest_empty_opponent):
    env = ThoughtTicTacToeEnv(opponent=lowest_empty_opponent, view="last_move", agent_player="O")
    obs, _ = env.reset(seed=0)
    assert planes(obs, 9) == ([0], [0])


def test_pettingzoo_each_player_sees_the_others_last_move():
    e = raw_env(view="last_move", channels=())
    e.reset(seed=0)
    e.step(4)  # player_0 (X) on 4
    assert planes(e.observe(AGENTS[1])["observation"], 9) == ([4], [4])
    assert planes(e.observe(AGENTS[0])["observation"], 9) == ([4], [])  # player_1 has not moved yet
    e.step(2)  # player_1 (O) on 2
    assert planes(e.observe(AGENTS[0])["observation"], 9) == ([2, 4], [2])
    assert planes(e.observe(AGENTS[1])["observation"], 9) == ([2, 4], [4])


def _full_to_last_move(full: np.ndarray, n: int, last: int) -> np.ndarray:
    """What view="last_move" shows of the full view's observation, the other's last move being ``last``."""
    out = full.copy()
    out[:n] = full[:n] + full[n:2 * n]
    out[n:2 * n] = 0.0
    if last >= 0:
        out[n + last] = 1.0
    return out


@settings(max_examples=40, deadline=None)
@given(task=st.sampled_from(["Plain-v0", "Propose-v0", "ProposeNegate-v0", "Full-v0"]),
       side=st.sampled_from(["X", "O", "random"]), seed=st.integers(0, 2**16))
def test_the_twin_is_the_full_view_with_two_planes_replaced(task, side, seed):
    """Same seed, same actions: the twin's games, masks and rewards equal its full-view task's; its first two
    planes are the occupied cells and the opponent's last move, its other slots the same."""
    full = gymnasium.make(f"tttthought/{task}", agent_player=side).unwrapped
    twin = gymnasium.make(f"tttthought/LastMove-{task}", agent_player=side).unwrapped
    assert full.observation_space == twin.observation_space and full.action_space == twin.action_space
    n, rng = 9, np.random.default_rng(seed)
    for episode in range(3):
        (obs_f, info_f), (obs_t, info_t) = full.reset(seed=seed + episode), twin.reset(seed=seed + episode)
        while True:
            last = twin.last_opponent_move if twin.last_opponent_move is not None else -1
            np.testing.assert_array_equal(obs_t, _full_to_last_move(obs_f, n, last))
            np.testing.assert_array_equal(info_t["action_mask"], info_f["action_mask"])
            action = int(rng.choice(np.flatnonzero(info_f["action_mask"])))
            obs_f, reward_f, term_f, _, info_f = full.step(action)
            obs_t, reward_t, term_t, _, info_t = twin.step(action)
            assert (reward_t, term_t) == (reward_f, term_f)
            if term_f:
                break


def test_the_vector_twin_equals_the_single_twin(lowest_empty_opponent):
    vec = ThoughtVectorEnv(3, view="last_move", opponent="heuristic", agent_player="O")
    obs, _ = vec.reset(seed=1)
    for i in range(3):
        game = vec.game_at(i)
        np.testing.assert_array_equal(obs[i], game.observation(game.to_move))
        assert planes(obs[i], 9)[1] == [vec.game_state(i)["opponent_last_move"]]
