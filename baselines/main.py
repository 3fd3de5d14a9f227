"""``tttthought main``: train MaskablePPO on Full-v0 with R(δx), evaluate it, plot the curve, record a replay.

The command is a plugin of the ``tttthought`` command line (entry point group ``tttthought_env.commands``
in pyproject.toml): :func:`add_command` registers it. Heavy imports (PyTorch, SB3, matplotlib) happen
inside :func:`run_main`, so ``tttthought --help`` stays quick.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium

from tttthought_env.cli import EXTRA_HINT, CommandError, text_table

__all__ = ["MAIN_EVAL_GAMES", "MAIN_TIMESTEPS", "add_command", "plot_learning_curve", "record_agent_episode",
           "results_table", "run_main"]

#: The main job's budget: about 1-2 minutes of training on two laptop cores, 3 minutes in all at most.
MAIN_TIMESTEPS = 600_000
MAIN_EVAL_GAMES = 500
#: Modules the main job needs beyond the env package (all in the ``baselines`` extra).
REQUIRED_MODULES = ("sb3_contrib", "stable_baselines3", "torch", "matplotlib", "yaml")


def require_baselines() -> None:
    """CommandError naming what is missing unless the baselines extra is installed."""
    missing = []
    for module in REQUIRED_MODULES:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise CommandError(f"this command needs the baselines extra (missing: {', '.join(missing)}); "
                           f"install it with: {EXTRA_HINT}")
    try:
        importlib.import_module("baselines.train")
    except ImportError as err:
        raise CommandError(f"the baselines package cannot be imported ({err}); install with: {EXTRA_HINT}") from None


def _training_opponents(run_config: dict[str, Any]) -> str:
    """In words: the opponent mix of the run's hyperparameters, or the env settings' single opponent."""
    mix = run_config["hyperparams"].get("opponent_mix")
    if mix:
        return "a mix: " + ", ".join(f"{m['share']:.0%} of the games {m.get('opponent', 'minimax')} with "
                                     f"{m.get('epsilon', 0.0):.0%} random moves" for m in mix)
    registered = gymnasium.spec(run_config["task"]).kwargs
    opponent = run_config["env"].get("opponent", registered.get("opponent", "random"))
    epsilon = run_config["env"].get("opponent_epsilon", registered.get("opponent_epsilon", 0.0))
    return f"{opponent} with {epsilon:.0%} of its moves uniformly random"


def results_table(record: dict[str, Any]) -> str:
    """The main job's results table: win/draw/loss against each opponent, thoughts per move, thought utility."""
    final = record["final"]
    header = ("opponent", "games", "win", "draw", "loss", "draw-or-better", "thoughts/move", "correct thoughts",
              "thought utility")
    rows = []
    for name in ("random", "minimax", "training"):
        result = final.get(f"vs_{name}")
        if not result:
            continue
        correct = result.get("correct_thought_fraction")
        rows.append([
            name, str(result["games"]), f"{result['win']:.3f}", f"{result['draw']:.3f}", f"{result['loss']:.3f}",
            f"{result['draw_or_better']:.3f}", f"{result['thoughts_per_move']:.2f}",
            "-" if correct is None else f"{correct:.3f}", f"{final.get(f'thought_utility_{name}', 0.0):+.3f}",
        ])
    return text_table(header, rows, align_right=range(1, len(header)))


def plot_learning_curve(record: dict[str, Any], path: str | Path) -> Path:
    """Draw-or-better against minimax over training steps, saved as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = record["curve"]
    steps = [p["step"] for p in points]
    # The curve's points come from fewer games than the final evaluation: say how many, so a last point of
    # 0.99 beside a table's 0.946 reads as the noise of a small sample, not a contradiction.
    games = record.get("config", {}).get("hyperparams", {}).get("curve_games", "?")
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    ax.plot(steps, [p["draw_or_better"] for p in points], marker="o",
            label=f"draw-or-better vs minimax ({games} games per point)")
    ax.plot(steps, [p["win"] for p in points], marker=".", linestyle="--", label="win vs minimax")
    ax2 = ax.twinx()
    ax2.plot(steps, [p["thoughts_per_move"] for p in points], color="tab:green", alpha=0.6, linestyle=":",
             label="thoughts per move")
    ax2.set_ylabel("thoughts per move")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("training steps (moves and thoughts)")
    ax.set_ylabel("rate")
    run = record.get("run", {})
    ax.set_title(f"{run.get('algo', '')} on {run.get('task', '')}, {run.get('condition', '')}, seed {run.get('seed', '')}",
                 fontsize=9)
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3,
              fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def record_agent_episode(model: Any, task: str, env_config: dict[str, Any], path: str | Path, seed: int = 0,
                         opponent: str = "minimax", agent_player: str = "X") -> Path:
    """One deterministic masked episode of ``model`` against ``opponent``, recorded as JSON lines."""
    import gymnasium

    from tttthought_env.replay import record_policy_episode

    settings = {**env_config, "opponent": opponent, "opponent_epsilon": 0.0, "agent_player": agent_player}
    env = gymnasium.make(task, **settings)
    is_dict = hasattr(model.observation_space, "spaces")

    def policy(obs: Any, mask: Any) -> int:
        action, _ = model.predict(obs, action_masks=mask, deterministic=True)
        return int(action)

    if is_dict and not hasattr(env.observation_space, "spaces"):  # pragma: no cover - the run config fixes obs_mode
        raise CommandError("the saved model expects dict observations; record with obs_mode='dict'")
    return record_policy_episode(env, policy, path, seed=seed)


def _write_outputs(record: dict[str, Any], out: Path, seed: int) -> dict[str, Path]:
    """The learning-curve PNG, one recorded episode of the saved model, and its GIF and HTML replays."""
    from baselines.train import load_model
    from tttthought_env.replay import write_gif, write_html

    curve_path = plot_learning_curve(record, out / "learning_curve.png")
    model, saved_config = load_model(out / "model.safetensors")
    episode_path = record_agent_episode(model, saved_config["task"], saved_config["env"], out / "episode.jsonl",
                                        seed=seed)
    return {"learning_curve": curve_path, "episode": episode_path,
            "replay_gif": write_gif(episode_path, out / "episode.gif"),
            "replay_html": write_html(episode_path, out / "episode.html")}


def run_main(out: str | Path = "runs/main", timesteps: int | None = MAIN_TIMESTEPS, eval_games: int = MAIN_EVAL_GAMES,
             seed: int = 0, condition: str = "potential", capacity: str = "default", progress_bar: bool = True,
             hyperparams: dict[str, Any] | None = None, stream: Any = None) -> dict[str, Any]:
    """The main job: train, evaluate, print the results table, save the curve PNG and an episode replay.

    Returns ``{"record": ..., "paths": {...}}``. ``timesteps=None`` takes the budget of
    ``baselines/hyperparams/maskable_ppo.yml``, the one the benchmark grid uses. Nothing is downloaded.
    """
    stream = sys.stdout if stream is None else stream
    require_baselines()
    from baselines.config import CONDITIONS, make_run_config
    from baselines.train import train, write_record

    if condition not in CONDITIONS:
        raise CommandError(f"condition must be one of {', '.join(CONDITIONS)}, got {condition!r}")

    def say(text: str = "") -> None:
        print(text, file=stream, flush=True)

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / "model.safetensors"
    run_config = make_run_config("maskable_ppo", condition, capacity=capacity, seed=seed, total_timesteps=timesteps,
                                 eval_games=eval_games, save_path=str(model_path), progress_bar=progress_bar,
                                 hyperparams=hyperparams)
    params = run_config["hyperparams"]
    shaping = run_config["env"].get("shaping") or "none"
    say(f"tttthought main: MaskablePPO on {run_config['task']} (shaping: {shaping}), "
        f"{params['total_timesteps']:,} steps, seed {seed}; evaluation: {eval_games} games per opponent")
    began = time.perf_counter()
    record = train(run_config)
    record_path = write_record(record, out / "record.json")
    say(f"\ntrained in {record['train_seconds']:.0f} s, evaluated in {record['final_eval_seconds']:.0f} s "
        f"({record['total_timesteps']:,} steps)\n")
    say(results_table(record))
    say(f"\ntrained against {_training_opponents(run_config)}; evaluated against the opponents in the table")
    say("correct thoughts = thoughts the exact solver agrees with: propose p where p is an optimal move now, "
        "negate p where it is not")
    say("thought utility = score with thoughts - score with thoughts masked, same games (docs/benchmark.md)")
    paths = {"record": record_path, "model": model_path, **_write_outputs(record, out, seed)}
    say(f"\ndone in {time.perf_counter() - began:.0f} s. Files:")
    width = max(len(k) for k in paths)
    for key, path in paths.items():
        say(f"  {key.ljust(width)}  {path}")
    say(f"\nplay against the agent: tttthought play --opponent {model_path}")
    return {"record": record, "paths": paths}


def cmd_main(args: argparse.Namespace) -> int:
    hyperparams = {"eval_every": args.eval_every} if args.eval_every else None
    run_main(out=args.out, timesteps=args.timesteps, eval_games=args.eval_games, seed=args.seed,
             condition=args.condition, capacity=args.capacity, progress_bar=not args.no_progress,
             hyperparams=hyperparams)
    return 0


def add_command(subparsers: Any) -> None:
    """Register ``main`` on the ``tttthought`` subparsers (the ``tttthought_env.commands`` entry point)."""
    main = subparsers.add_parser(
        "main", help="the main job: train MaskablePPO with R(δx), evaluate, plot, replay (~3 min)",
        description="Train MaskablePPO on tttthought/Full-v0 with potential shaping, evaluate it with the benchmark "
                    "protocol, print a results table, save a learning-curve PNG and an episode replay. Nothing is "
                    "downloaded.")
    main.add_argument("--out", default="runs/main", help="output folder (default: runs/main)")
    main.add_argument("--timesteps", type=int, default=MAIN_TIMESTEPS,
                      help=f"training steps, thoughts included (default: {MAIN_TIMESTEPS:,})")
    main.add_argument("--eval-games", type=int, default=MAIN_EVAL_GAMES,
                      help=f"evaluation games per opponent, half as X and half as O (default: {MAIN_EVAL_GAMES})")
    main.add_argument("--eval-every", type=int, default=None, help="steps between learning-curve points")
    main.add_argument("--seed", type=int, default=0)
    main.add_argument("--condition", default="potential",
                      help="plain, thoughts, oracle, potential (default) or prediction")
    main.add_argument("--capacity", default="default", choices=("tiny", "default"), help="network size")
    main.add_argument("--no-progress", action="store_true", help="no progress bar")
    main.set_defaults(func=cmd_main)
