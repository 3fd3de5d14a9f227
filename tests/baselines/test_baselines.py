"""Tests of the baselines package: config, masked QR-DQN, training, the grid + eval + report pipeline, Ray.

Budgets are tiny (the whole file runs in a few minutes on 2 cores); the full grid is scripts/run_grid.sh.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import torch as th

from baselines.config import ALGOS, CAPACITIES, CONDITIONS, load_hyperparams, make_run_config
from baselines.envs import make_train_env
from baselines.masked_qrdqn import MaskedQRDQN, masked_argmax, random_legal_actions


# ------------------------------------------------------------------------------------------------ config
@pytest.mark.parametrize("algo", tuple(ALGOS))
@pytest.mark.parametrize("capacity", CAPACITIES)
def test_hyperparams_merge_capacity(algo, capacity):
    params = load_hyperparams(algo, capacity)
    assert params["total_timesteps"] > 0 and params["n_envs"] > 0
    arch = params["policy_kwargs"]["net_arch"]
    hidden = arch["pi"] if isinstance(arch, dict) else arch
    assert hidden == ([16] if capacity == "tiny" else [64, 64])


def test_run_config_sets_observation_and_illegal_mode_per_algo():
    masked = make_run_config("qrdqn", "thoughts")
    plain = make_run_config("qrdqn_unmasked", "thoughts")
    ppo = make_run_config("maskable_ppo", "oracle", capacity="tiny", seed=4)
    assert masked["env"]["obs_mode"] == "dict" and masked["hyperparams"]["masked"] is True
    assert plain["env"]["obs_mode"] == "flat" and plain["env"]["illegal_action"] == "lose"
    assert plain["hyperparams"]["masked"] is False
    assert ppo["task"] == "tttthought/Full-v0" and ppo["env"]["shaping"] == "oracle" and ppo["seed"] == 4
    assert all(make_run_config("maskable_ppo", c)["env"]["agent_player"] == "random" for c in CONDITIONS)
    json.dumps(ppo)  # a run config is JSON-able


def test_cli_registers_subcommands_on_a_host_parser():
    from baselines.cli import add_subcommands

    parser = argparse.ArgumentParser(prog="tttthought")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["train", "--algo", "qrdqn", "--condition", "oracle", "--capacity", "tiny"])
    assert args.command == "train" and callable(args.func)
    for command in (["eval", "model.safetensors"], ["grid", "--jobs", "3", "--dry-run"], ["report"]):
        assert callable(parser.parse_args(command).func)


# ------------------------------------------------------------------------------------------ masked QR-DQN
def test_masked_argmax_ignores_illegal_actions_and_never_nans():
    values = th.tensor([[1.0, 5.0, 3.0], [0.0, 0.0, 0.0], [-th.inf, 2.0, 1.0]])
    mask = th.tensor([[True, False, True], [False, False, False], [True, False, True]])
    chosen = masked_argmax(values, mask)
    assert chosen[0].item() == 2 and chosen[2].item() == 2
    assert 0 <= chosen[1].item() < 3  # no legal action (terminal): some index, never NaN


def test_random_legal_actions_are_legal_and_cover_the_mask():
    rng = np.random.default_rng(0)
    mask = np.zeros((2000, 6), bool)
    mask[:, [1, 4]] = True
    actions = random_legal_actions(mask, rng)
    assert set(actions.tolist()) == {1, 4}
    assert abs((actions == 1).mean() - 0.5) < 0.05


def _masked_model(**kwargs):
    config = make_run_config("qrdqn", "thoughts", capacity="tiny")
    env = make_train_env(config["task"], 8, config["env"], seed=0)
    params = {"learning_starts": 200, "buffer_size": 5000, "batch_size": 32, "target_update_interval": 200,
                  "policy_kwargs": {"net_arch": [16], "n_quantiles": 5}}
    params.update(kwargs)
    return MaskedQRDQN("MultiInputPolicy", env, seed=0, device="cpu", **params), env


def test_masked_qrdqn_acts_explores_and_stores_only_legal_actions():
    model, env = _masked_model()
    model.learn(1200)
    buffer = model.replay_buffer
    filled = buffer.buffer_size if buffer.full else buffer.pos
    masks = buffer.observations["action_mask"][:filled].astype(bool)  # (filled, n_envs, A)
    actions = buffer.actions[:filled, :, 0].astype(int)
    legal = np.take_along_axis(masks, actions[..., None], axis=2)[..., 0]
    assert legal.all(), "an illegal action was taken during warm-up, exploration or greedy acting"
    obs = env.reset()
    for exploration_rate in (1.0, 0.0):  # pure exploration, then pure greedy
        model.exploration_rate = exploration_rate
        for _ in range(30):
            action, _ = model.predict(obs, deterministic=exploration_rate == 0.0)
            mask = np.stack(env.env_method("action_masks"))
            assert mask[np.arange(len(action)), action].all()
            obs, _, _, _ = env.step(action)
    assert all(th.isfinite(p).all() for p in model.policy.parameters())


def test_masked_qrdqn_target_takes_the_max_over_the_next_mask_only():
    from sb3_contrib.common.utils import quantile_huber_loss
    from stable_baselines3.common.logger import Logger

    model, env = _masked_model(learning_starts=0, gamma=0.9)
    model.set_logger(Logger(folder=None, output_formats=[]))
    n_actions = env.action_space.n
    first = env.reset()
    obs = {key: np.repeat(value[:1], env.num_envs, axis=0) for key, value in first.items()}
    # One transition (action 0, reward 1, not done), stored many times; in its next observation only
    # action 0 is legal.
    next_obs = {"observation": obs["observation"].copy(), "action_mask": np.zeros_like(obs["action_mask"])}
    next_obs["action_mask"][:, 0] = 1
    for _ in range(4):
        model.replay_buffer.add(obs, next_obs, np.zeros(env.num_envs, int), np.ones(env.num_envs),
                                np.zeros(env.num_envs), [{} for _ in range(env.num_envs)])
    # Make the target network value the (illegal) action 1 far above everything.
    last = [m for m in model.quantile_net_target.quantile_net if isinstance(m, th.nn.Linear)][-1]
    with th.no_grad():
        bias = last.bias.view(-1, n_actions)  # (n_quantiles, A): output is viewed as (quantiles, actions)
        bias[:, 1] += 100.0
    with th.no_grad():  # expected losses, before the gradient step changes the network
        o = {k: th.as_tensor(v[:1]) for k, v in obs.items()}
        no = {k: th.as_tensor(v[:1]) for k, v in next_obs.items()}
        next_q = model.quantile_net_target(no)  # (1, Q, A)
        current = model.quantile_net(o)[:, :, 0]
        expected_masked = quantile_huber_loss(current, 1.0 + 0.9 * next_q[:, :, 0], sum_over_quantiles=True)
        expected_unmasked = quantile_huber_loss(current, 1.0 + 0.9 * next_q[:, :, 1], sum_over_quantiles=True)
    model.train(gradient_steps=1, batch_size=8)
    loss = model.logger.name_to_value["train/loss"]
    assert loss == pytest.approx(expected_masked.item(), rel=1e-4)
    assert abs(loss - expected_unmasked.item()) > 1.0


def test_vector_and_single_training_envs_give_the_same_spaces():
    config = make_run_config("qrdqn", "oracle")
    single = make_train_env(config["task"], 2, config["env"], seed=0, vec="single")
    auto = make_train_env(config["task"], 2, config["env"], seed=0, vec="auto")
    assert single.observation_space == auto.observation_space and single.action_space == auto.action_space


# ------------------------------------------------------------------------------------ learning, pipeline
def test_maskable_ppo_on_plain_clearly_beats_a_random_opponent():
    """After 30k steps, 400 games (200 as X, 200 as O) against the uniform random opponent.

    A uniformly random player against it wins 58.5% as X and 28.8% as O (exact, from the game tree):
    43.7% overall, with a mean score of 0.0. Over 400 games the standard error is 0.025 for the win rate
    and 0.047 for the score (per-game score variance <= 0.88), so the thresholds below (win rate >= 0.6,
    score >= 0.3) sit more than 6 standard errors above random play: they cannot pass by luck.
    """
    from baselines.train import train

    config = make_run_config("maskable_ppo", task="tttthought/Plain-v0", seed=0, total_timesteps=30_000,
                             env={"opponent": "random", "opponent_epsilon": 0.0, "agent_player": "random"},
                             eval_games=400)
    config["eval"]["opponents"] = ["random"]
    record = train(config)
    result = record["final"]["vs_random"]
    assert result["games"] == 400
    assert result["win"] >= 0.6, result
    assert result["score"] >= 0.3, result


def test_a_run_is_reproducible_from_its_seed():
    """Same config, same record (curve and final metrics): results do not depend on where or beside what a run ran."""
    from baselines.train import train

    def strip(record):
        return [{k: v for k, v in p.items() if k != "train_seconds"} for p in record["curve"]], record["final"]

    config = make_run_config("maskable_ppo", "oracle", capacity="tiny", seed=3, total_timesteps=2048, eval_games=20)
    config["hyperparams"].update(eval_every=1024, n_steps=32)
    assert strip(train(config)) == strip(train(config))


def test_training_skips_distribution_checks_without_changing_the_record(monkeypatch):
    """The checks are off only while a run trains (then the default is back), and a run is the same without them."""
    import torch as th

    import baselines.train as train_module

    def strip(record):
        return [{k: v for k, v in p.items() if k != "train_seconds"} for p in record["curve"]], record["final"]

    config = make_run_config("maskable_ppo", "lastmove_world", capacity="tiny", seed=5, total_timesteps=1024,
                             eval_games=10)
    config["hyperparams"].update(eval_every=512, n_steps=16)
    default = th.distributions.Distribution._validate_args
    checked = strip(train_module._train_and_evaluate(config))  # as SB3 runs by default: every argument checked
    during = []
    original = train_module._train_and_evaluate

    def spy(run_config):
        during.append(th.distributions.Distribution._validate_args)
        return original(run_config)

    monkeypatch.setattr(train_module, "_train_and_evaluate", spy)
    assert strip(train_module.train(config)) == checked
    assert during == [False] and th.distributions.Distribution._validate_args == default


def _tiny_grid(tmp_path: Path, **kwargs):
    from baselines.grid import grid_jobs

    return grid_jobs(seeds=[0], conditions=["plain", "oracle"], algos=["maskable_ppo", "qrdqn"],
                     capacities=["tiny"], budget_scale=0.01, eval_games=20, save_models=tmp_path / "models",
                     **kwargs)


def test_smoke_grid_eval_and_report_pipeline(tmp_path):
    """Both algorithms on two conditions (plus plain QR-DQN), tiny budgets: grid -> records -> eval -> report."""
    from baselines.cli import main
    from baselines.grid import record_path, run_grid

    jobs = _tiny_grid(tmp_path)
    assert len(jobs) == 5  # 2 conditions x 2 algos x tiny, plus plain QR-DQN on plain
    results = tmp_path / "results"
    summary = run_grid(jobs, results, processes=2, progress=False)
    assert summary["failed"] == [] and summary["done"] == 5
    for job in jobs:
        record = json.loads(record_path(results, job).read_text())
        assert record["run"]["seed"] == 0 and record["versions"]["torch"]
        assert record["curve"] and record["curve"][0]["step"] == 0
        for opponent in ("random", "minimax", "training"):
            assert record["final"][f"vs_{opponent}"]["games"] == 20
        assert record["final"]["thinking"] == (job["condition"] == "oracle")
        assert record["final"]["vs_random"]["illegal_actions"] == 0  # evaluated masked
        assert record["wall_seconds"] > 0
    # Resume: nothing left to do.
    again = run_grid(jobs, results, processes=2, progress=False)
    assert again["done"] == 0 and again["skipped"] == 5
    # eval loads a checkpoint saved by the grid.
    model = tmp_path / "models" / "oracle" / "qrdqn" / "tiny" / "seed0.safetensors"  # weights + seed0.json
    assert main(["eval", str(model), "--games", "10", "--out", str(tmp_path / "eval.json")]) == 0
    assert json.loads((tmp_path / "eval.json").read_text())["final"]["vs_minimax"]["games"] == 10
    # report regenerates the document, figures and the per-run CSV from the records alone.
    doc, img = tmp_path / "docs" / "results.md", tmp_path / "docs" / "img"
    assert main(["report", "--results", str(results), "--out", str(doc), "--img", str(img)]) == 0
    text = doc.read_text()
    assert "| MaskablePPO | tiny | oracle | 1 |" in text and "masked QR-DQN" in text
    assert "Probability of improvement" in text and "## Reading" in text and "not the headline grid" in text
    for png in ("learning_curves.png", "performance_profiles.png", "iqm_intervals.png"):
        assert (img / png).stat().st_size > 1000
    assert len((results / "run_metrics.csv").read_text().splitlines()) == 6
    first = text
    main(["report", "--results", str(results), "--out", str(doc), "--img", str(img)])
    assert doc.read_text() == first  # deterministic


def test_smoke_architecture_grid_with_cloned_thinking_and_its_report(tmp_path):
    """The architecture grid's cells at tiny budgets, `pretrained` included (a token network clones the teacher
    from its token view): every run writes a record, and the report reads them beside the MLP's."""
    from baselines.cli import main
    from baselines.grid import grid_jobs, run_grid

    jobs = grid_jobs(seeds=[0], conditions=["lastmove_plain", "lastmove_pretrained"], algos=["maskable_ppo"],
                     capacities=["tiny"], archs=["mlp", "deepsets"], budget_scale=0.01, eval_games=10)
    results = tmp_path / "results"
    summary = run_grid(jobs, results, processes=1, progress=False)
    assert summary["failed"] == [] and summary["done"] == 4
    doc = tmp_path / "results.md"
    assert main(["report", "--results", str(results), "--out", str(doc), "--img", str(tmp_path / "img")]) == 0
    text = doc.read_text()
    assert "| MaskablePPO | deepsets | tiny | lastmove_pretrained |" in text
    assert "**Architectures against the MLP**" in text and (tmp_path / "img" / "axes_last_move.png").exists()


def test_grid_on_a_local_ray_instance(tmp_path):
    ray = pytest.importorskip("ray")
    from baselines.grid import grid_jobs, record_path, run_grid

    jobs = grid_jobs(seeds=[0, 1], conditions=["plain"], algos=["maskable_ppo"], capacities=["tiny"],
                     unmasked=False, budget_scale=0.01, eval_games=10)
    try:
        summary = run_grid(jobs, tmp_path, ray_address="local", progress=False)
    finally:
        if ray.is_initialized():
            ray.shutdown()
    assert summary["failed"] == [] and summary["done"] == 2
    for job in jobs:
        assert json.loads(record_path(tmp_path, job).read_text())["run"]["seed"] == job["seed"]
