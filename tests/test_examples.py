"""Every example in examples/ runs at a tiny size; self-play learns against minimax from the right perspective."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from tttthought_env import OUTCOMES

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_every_example_has_main_and_a_script_entry():
    names = sorted(p.stem for p in EXAMPLES.glob("*.py"))
    assert names == ["cleanrl_ppo", "custom_shaping", "maskable_ppo", "pettingzoo_aec", "random_agent", "selfplay"]
    for name in names:
        text = (EXAMPLES / f"{name}.py").read_text()
        assert "def main(" in text and 'if __name__ == "__main__":' in text


def test_random_agent():
    result = load("random_agent").main(episodes=20, verbose=False)
    assert math.isclose(result["win"] + result["draw"] + result["loss"], 1.0)
    assert result["thoughts_per_move"] > 0.5  # random legal play thinks often on Full-v0


def test_pettingzoo_aec():
    result = load("pettingzoo_aec").main(games=6, verbose=False)
    assert sum(result["outcomes_player_0"].values()) == 6
    assert result["outcomes_player_0"].get("win", 0) == 0  # minimax is never beaten
    assert result["thoughts"]["player_0"] > 0 and result["thoughts"]["player_1"] == 0


def test_maskable_ppo():
    pytest.importorskip("sb3_contrib")
    result = load("maskable_ppo").main(total_timesteps=512, eval_episodes=4, verbose=False)
    assert -1.0 <= result["mean_return"] <= 1.0


def test_custom_shaping():
    module = load("custom_shaping")
    from tttthought_env.core import board_from_string
    from tttthought_env.shaping import ThoughtView

    board = board_from_string("XX./OO./...")
    view = ThoughtView(board, (), 0)
    assert module.tactics_shaping(view, ("propose", 2), view) == 0.05  # X wins at 2
    assert module.tactics_shaping(view, ("propose", 5), view) == 0.05  # or blocks O at 5
    assert module.tactics_shaping(view, ("propose", 0), view) == -0.05  # occupied
    result = module.main(total_timesteps=0, episodes=5, verbose=False)
    assert result["thoughts"] > 0 and result["mean_shaping"] != 0.0


def test_custom_shaping_trains():
    pytest.importorskip("sb3_contrib")
    result = load("custom_shaping").main(total_timesteps=512, episodes=1, verbose=False)
    assert result["model"].num_timesteps >= 512


def test_cleanrl_ppo():
    pytest.importorskip("torch")
    result = load("cleanrl_ppo").main(total_timesteps=1024, num_envs=4, num_steps=128, eval_games=4, verbose=False)
    assert result["episodes"] > 0
    assert all(math.isfinite(v) for v in result["losses"].values())
    assert 0.0 <= result["after"]["draw_or_better"] <= 1.0


def test_selfplay_env_takes_the_learner_point_of_view():
    selfplay = load("selfplay")
    from tttthought_env.registration import TASKS

    class LowestEmpty:  # a deterministic opponent: the lowest empty cell
        def act(self, obs, mask, rng, greedy=False):
            return int(np.flatnonzero(mask)[0])

    pool = selfplay.OpponentPool(greedy=1.0)
    pool.snapshots = [LowestEmpty()]
    env = selfplay.SelfPlayEnv(pool, dict(TASKS["tttthought/Plain-v0"]))
    seen = set()
    for seed in range(20):
        obs, _ = env.reset(seed=seed)
        learner = env.learner
        seen.add(learner)
        player = 0 if learner == "player_0" else 1
        assert np.array_equal(obs, env.aec.game.observation(player))
        assert np.array_equal(obs, env.aec.observe(learner))
        if player == 1:  # the opponent (X) opened at cell 0: in O's observation that is an *opponent* mark
            assert obs[9 + 0] == 1.0 and obs[:9].sum() == 0
            # O plays 8, 7, ...: X completes 0-1-2 and the learner is told it lost, from its own side.
            rewards = []
            for cell in (8, 7):
                obs, reward, terminated, _, info = env.step(cell)
                rewards.append(reward)
            assert terminated and rewards[-1] == -1.0 and OUTCOMES[info["outcome"]] == "loss"
        else:  # the learner is X: 0, 3, 6 wins against O's 1, 2
            for cell in (0, 3, 6):
                obs, reward, terminated, _, info = env.step(cell)
            assert terminated and reward == 1.0 and OUTCOMES[info["outcome"]] == "win"
    assert seen == {"player_0", "player_1"}


def test_selfplay_ppo_runs():
    pytest.importorskip("sb3_contrib")
    result = load("selfplay").main(total_timesteps=1024, learner="ppo", snapshot_every=512, eval_games=4,
                                   verbose=False)
    assert result["model"].num_timesteps >= 1024


def test_selfplay_learns_to_hold_minimax():
    """Draw-or-better against perfect play rises from the untrained level to well above it.

    200 greedy evaluation games per measurement (half as X, half as O) against minimax, which picks at
    random among optimal moves: the standard error of a rate is at most 0.035, so a rise of 0.35 is
    more than ten standard errors; an untrained (uniformly random) player holds minimax in ~15% of games.
    """
    result = load("selfplay").main(total_timesteps=200_000, learner="q", eval_games=200, seed=0, verbose=False)
    before, after = result["before"]["draw_or_better"], result["after"]["draw_or_better"]
    assert before <= 0.3
    assert after >= 0.6
    assert after - before >= 0.35


def test_the_readme_gymnasium_snippet_gives_the_same_episode_every_run():
    import re
    import subprocess
    import sys
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    snippet = next(block for block in re.findall(r"```python\n(.*?)```", readme, re.S) if "gymnasium.make" in block)
    runs = [subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, timeout=120)
            for _ in range(2)]
    assert all(run.returncode == 0 for run in runs), runs[0].stderr
    assert "thoughts" in runs[0].stdout and runs[0].stdout == runs[1].stdout
