"""One run, top to bottom: run config -> vector env -> model -> learn (with a learning curve) -> evaluation -> record.

    from baselines.config import make_run_config
    from baselines.train import train
    record = train(make_run_config("maskable_ppo", "oracle", capacity="tiny", seed=3))

The record is a JSON-able dict: the config, package versions, seed, learning curve, final metrics
of the protocol in docs/benchmark.md, steps and seconds to 99% draw-or-better against minimax, and wall time.
"""

from __future__ import annotations

import copy
import json
import os
import platform
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.callbacks import BaseCallback, CallbackList

from baselines.checkpoints import atomic_write_bytes, checkpoint_paths, load_checkpoint, save_checkpoint
from baselines.config import RUN_KEYS
from baselines.envs import make_train_env
from baselines.evaluate import evaluate_against, evaluate_protocol, make_scorer
from baselines.metrics import thought_utility
from baselines.policies import count_parameters

RECORD_SCHEMA = 1


def algo_class(algo: str, masked: bool = True):
    """``(class, policy name)`` of an algorithm name of :data:`baselines.config.ALGOS`."""
    if algo == "maskable_ppo":
        from sb3_contrib import MaskablePPO

        return MaskablePPO, "MlpPolicy"
    if algo in ("qrdqn", "qrdqn_unmasked"):
        if masked and algo == "qrdqn":
            from baselines.masked_qrdqn import MaskedQRDQN

            return MaskedQRDQN, "MultiInputPolicy"
        from sb3_contrib import QRDQN

        return QRDQN, "MlpPolicy"
    raise ValueError(f"unknown algo {algo!r}")


def versions() -> dict[str, str]:
    """Versions of the packages a result depends on, and the machine it ran on."""
    import gymnasium
    import sb3_contrib
    import stable_baselines3

    import tttthought_env

    out = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": th.__version__,
        "gymnasium": gymnasium.__version__,
        "stable_baselines3": stable_baselines3.__version__,
        "sb3_contrib": sb3_contrib.__version__,
        "tttthought_env": tttthought_env.__version__,
        "platform": platform.platform(),
        "cpu_count": str(os.cpu_count()),
    }
    try:  # read-only: which commit produced the record
        done = subprocess.run(
            ["git", "rev-parse", "--verify", "HEAD"], capture_output=True, text=True, timeout=5, check=False,
            cwd=Path(__file__).resolve().parent,
        )
        if done.returncode == 0:  # a copy without git history prints "HEAD" back; record no commit then
            out["git_commit"] = done.stdout.strip()
    except (OSError, subprocess.SubprocessError):  # no git here: the record just lacks the commit
        pass
    return out


#: Hyperparameters that may be given as a schedule string (see :func:`schedule`).
SCHEDULED_KEYS: tuple[str, ...] = ("learning_rate", "clip_range")


def schedule(name: str, value: Any) -> Any:
    """A hyperparameter as SB3 takes it: a number as it is, ``"lin_<x>"`` (rl-zoo3's notation) as a linear
    schedule from ``x`` at the start of training to 0 at its end.

    YAML cannot hold a function, and a decaying step size is what lets a policy settle on the last rare
    positions instead of oscillating around them (docs/benchmark.md, "Training setup").
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.startswith("lin_"):
        try:
            start = float(value[len("lin_"):])
        except ValueError:
            start = -1.0
        if start > 0:
            return lambda progress_remaining: progress_remaining * start  # SB3 passes 1 -> 0
    raise ValueError(f"{name} must be a positive number or 'lin_<positive number>' (linear to 0), got {value!r}")


class LearningCurve(BaseCallback):
    """Every ``every`` steps (and at the start and end): ``games`` deterministic masked games vs minimax.

    Keeps the training wall time apart from the time spent evaluating, so "seconds to 99%" is training time.
    """

    def __init__(self, task: str, env_config: dict, every: int, games: int, seed: int, threshold: float) -> None:
        super().__init__()
        self.task, self.env_config = task, env_config
        self.every, self.games, self.seed, self.threshold = every, games, seed, threshold
        self.points: list[dict[str, Any]] = []
        self.eval_seconds = 0.0
        self.next_eval = 0
        self.start = 0.0
        # The budget axes besides steps (docs/benchmark.md, "Fair budgets"): the learner's board moves and its
        # games so far, counted from the training env's infos as each game ends (thoughts are steps, not moves).
        self.moves = 0
        self.games_played = 0

    def train_seconds(self) -> float:
        return time.perf_counter() - self.start - self.eval_seconds

    def _evaluate(self) -> None:
        began = time.perf_counter()
        scorer, seed = make_scorer(self.model), 7_919 * (self.seed + 1)
        result = evaluate_against(scorer, self.task, self.env_config, "minimax", self.games, seed=seed)
        # Thought utility on the same games with every thought masked (0 where the task has no thought).
        utility = 0.0
        if result["thoughts_per_move"] > 0:
            masked = evaluate_against(scorer, self.task, self.env_config, "minimax", self.games, seed=seed,
                                      mask_thoughts=True)
            utility = thought_utility(result["score"], masked["score"])
        self.eval_seconds += time.perf_counter() - began
        self.points.append({
            "step": int(self.num_timesteps), "moves": self.moves, "games": self.games_played,
            "train_seconds": round(self.train_seconds(), 3),
            "draw_or_better": result["draw_or_better"], "score": result["score"], "win": result["win"],
            "loss": result["loss"], "thoughts_per_move": result["thoughts_per_move"],
            "thought_mass": result["thought_mass"], "thought_utility": utility,
            "correct_thought_fraction": result["correct_thought_fraction"],
            "true_thought_fraction": result["true_thought_fraction"],
        })
        self.next_eval = self.num_timesteps + self.every
        self.logger.record("eval/draw_or_better_vs_minimax", result["draw_or_better"])
        self.logger.record("eval/score_vs_minimax", result["score"])
        self.logger.record("eval/thoughts_per_move", result["thoughts_per_move"])

    def _on_training_start(self) -> None:
        self.start = time.perf_counter()
        self._evaluate()

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", ()):
            if "episode" in info:  # a game ended: its learner steps minus its thoughts were board moves
                self.games_played += 1
                self.moves += int(info["episode"]["l"]) - int(info.get("thoughts", 0))
        if self.num_timesteps >= self.next_eval:
            self._evaluate()
        return True

    def _on_training_end(self) -> None:
        if not self.points or self.points[-1]["step"] < self.num_timesteps:
            self._evaluate()

    def first_reaching(self) -> tuple[int | None, float | None, int | None]:
        """Steps, training seconds and board moves at the first curve point with draw-or-better >= threshold."""
        for point in self.points:
            if point["draw_or_better"] >= self.threshold:
                return point["step"], point["train_seconds"], point["moves"]
        return None, None, None


def build_model(run_config: dict[str, Any], env) -> Any:
    """The SB3 model of a run config on ``env`` (hyperparameters from the YAML, run keys removed)."""
    params = copy.deepcopy(run_config["hyperparams"])
    masked = bool(params.get("masked", True))
    for key in RUN_KEYS:
        params.pop(key, None)
    for key in SCHEDULED_KEYS:
        if key in params:
            params[key] = schedule(key, params[key])
    cls, policy = algo_class(run_config["algo"], masked)
    arch = run_config.get("arch", "mlp")
    if arch != "mlp":  # a token network: its extractor and heads replace the capacity's MLP (policy_kwargs_for)
        from baselines.policies import policy_kwargs_for, policy_name_for

        policy = policy_name_for(arch, run_config["algo"])
        kept = {k: v for k, v in params.get("policy_kwargs", {}).items() if k != "net_arch"}  # e.g. n_quantiles
        params["policy_kwargs"] = {**kept, **policy_kwargs_for(arch, run_config["capacity"], run_config["algo"])}
    tensorboard = run_config.get("tensorboard")
    if tensorboard:
        try:
            import tensorboard as _  # noqa: F401
        except ImportError:
            raise ImportError("TensorBoard logs need the tensorboard package: pip install tensorboard") from None
    return cls(policy, env, seed=run_config["seed"], device=run_config.get("device", "cpu"),
               tensorboard_log=tensorboard or None, verbose=0, **params)


def save_model(model, path: str | Path, run_config: dict[str, Any], sb3_zip: bool = False) -> Path:
    """Save the checkpoint of ``path``: ``<stem>.safetensors`` (weights) and ``<stem>.json`` (run config).

    ``path`` may end in ``.zip`` (the old name) or not; the weights path is returned. Loading never unpickles
    (:mod:`baselines.checkpoints`). ``sb3_zip`` also writes SB3's own ``<stem>.zip``, unsafe to share.
    """
    return save_checkpoint(model, path, run_config, sb3_zip=sb3_zip)


def load_model(path: str | Path, device: str = "cpu", trust_checkpoint: bool = False) -> tuple[Any, dict[str, Any]]:
    """A checkpoint written by :func:`save_model` and its run config (:func:`baselines.checkpoints.load_checkpoint`).

    An SB3 ``.zip`` is refused (a :class:`~baselines.checkpoints.CheckpointError`) unless ``trust_checkpoint``.
    """
    return load_checkpoint(path, device=device, trust_checkpoint=trust_checkpoint)


class SafeCheckpoints(BaseCallback):
    """Every ``every`` steps, a checkpoint ``<folder>/step<N>.safetensors`` (+ ``.json``) of the model."""

    def __init__(self, every: int, folder: str | Path, run_config: dict[str, Any]) -> None:
        super().__init__()
        self.every, self.folder, self.run_config = max(int(every), 1), Path(folder), run_config
        self.next_save = self.every

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next_save:
            save_checkpoint(self.model, self.folder / f"step{self.num_timesteps}", self.run_config)
            self.next_save = self.num_timesteps + self.every
        return True


@contextmanager
def distribution_checks_off() -> Iterator[None]:
    """Skip torch.distributions' argument checks while a run trains and evaluates, then restore the default.

    SB3 builds a distribution at every rollout step and every minibatch, and checking its arguments costs about
    8% of a MaskablePPO run (61,440 steps: 20.3 s against 18.8 s of training on one core). The checks only
    raise on invalid arguments, so a run's record is bit-identical without them.
    """
    previous = th.distributions.Distribution._validate_args
    th.distributions.Distribution.set_default_validate_args(False)
    try:
        yield
    finally:
        th.distributions.Distribution.set_default_validate_args(previous)


def train(run_config: dict[str, Any]) -> dict[str, Any]:
    """Train one run and evaluate it; return its record (see the module docstring)."""
    with distribution_checks_off():
        return _train_and_evaluate(run_config)


def _train_and_evaluate(run_config: dict[str, Any]) -> dict[str, Any]:
    began, cpu_began = time.perf_counter(), time.process_time()
    th.set_num_threads(max(int(run_config.get("threads", 1)), 1))
    seed = int(run_config["seed"])
    task, env_config = run_config["task"], run_config["env"]
    params = run_config["hyperparams"]
    protocol = run_config["eval"]

    # 1. Environment: many games stepped together.
    env = make_train_env(task, int(params["n_envs"]), env_config, seed, vec=run_config.get("vec", "auto"),
                         opponent_mix=params.get("opponent_mix"))
    # 2. Model, from the YAML hyperparameters.
    model = build_model(run_config, env)
    # 2b. The pretrained condition: behaviour-clone the scripted thinker into the policy first (its time and
    #     its demonstrations are not charged to the RL budget; the record says what it cost).
    pretrained = None
    if run_config.get("pretrain"):
        from baselines.pretrain import pretrain

        pretrain_began = time.perf_counter()
        pretrained = pretrain(model, task, env_config, params.get("pretrain"), seed)
        pretrained["seconds"] = round(time.perf_counter() - pretrain_began, 3)
    # 3. Learn, with a learning curve against minimax (and optional periodic checkpoints).
    curve = LearningCurve(task, env_config, int(params["eval_every"]), int(params["curve_games"]), seed,
                          float(protocol["threshold"]))
    callbacks: list[BaseCallback] = [curve]
    if run_config.get("save_path") and run_config.get("checkpoint_every"):
        folder = str(checkpoint_paths(run_config["save_path"])[0].with_suffix("")) + "_ckpt"
        callbacks.append(SafeCheckpoints(int(run_config["checkpoint_every"]), folder, run_config))
    learn_began = time.perf_counter()
    model.learn(int(params["total_timesteps"]), callback=CallbackList(callbacks),
                progress_bar=bool(run_config.get("progress_bar", False)),
                tb_log_name=f"{run_config['condition']}_{run_config['algo']}_{run_config['capacity']}_seed{seed}")
    train_seconds = time.perf_counter() - learn_began - curve.eval_seconds
    env.close()
    # 4. Final evaluation: the protocol of docs/benchmark.md.
    eval_began = time.perf_counter()
    final = evaluate_protocol(make_scorer(model), task, env_config, int(protocol["games"]), seed=seed,
                              opponents=tuple(protocol["opponents"]), training_mix=params.get("opponent_mix"))
    eval_seconds = time.perf_counter() - eval_began
    if run_config.get("save_path"):
        save_model(model, run_config["save_path"], run_config, sb3_zip=bool(run_config.get("save_sb3_zip")))
    steps_to, seconds_to, moves_to = curve.first_reaching()
    return {
        "schema": RECORD_SCHEMA,
        "run": {key: run_config[key] for key in ("condition", "algo", "capacity", "arch", "seed", "task", "combo")
                if key in run_config},
        "config": run_config,
        "versions": versions(),
        "total_timesteps": int(model.num_timesteps),
        "curve": curve.points,
        "final": final,
        "pretrain": pretrained,
        "parameters": count_parameters(model),  # of the network that acts (baselines.policies.count_parameters)
        "steps_to_threshold": steps_to,
        "seconds_to_threshold": seconds_to,
        "moves_to_threshold": moves_to,
        "train_seconds": round(train_seconds, 3),
        "curve_eval_seconds": round(curve.eval_seconds, 3),
        "final_eval_seconds": round(eval_seconds, 3),
        "wall_seconds": round(time.perf_counter() - began, 3),
        "cpu_seconds": round(time.process_time() - cpu_began, 3),  # this process only (one torch thread by default)
    }


def write_record(record: dict[str, Any], path: str | Path) -> Path:
    """Write a record as JSON atomically: a temp file in the same folder, then ``os.replace``, so a half-written
    file never looks like a finished run; the temp file is removed on any error."""
    text = json.dumps(record, indent=1, default=_json_default)  # before touching the disk
    return atomic_write_bytes(path, text.encode())


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (tuple, set)):
        return list(value)
    return str(value)
