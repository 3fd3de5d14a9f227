"""The ``tttthought`` command line.

    tttthought main                  train MaskablePPO on Full-v0 with R(δx), evaluate, plot, replay (~3 min)
    tttthought play                  play in the terminal against minimax, a heuristic or a saved agent
    tttthought replay EPISODE.jsonl  turn a recorded episode into an animated GIF or an HTML page
    tttthought bench                 environment throughput benchmark
    tttthought tasks                 the registered ids and their settings
    tttthought demo                  one episode of a solver-guided agent thinking aloud
    tttthought train|eval|...        the baselines' commands (need the ``baselines`` extra)

Heavy imports (PyTorch, SB3, matplotlib) happen inside the commands that need them, so
``tttthought --help`` is quick and works without the extras.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXTRA_HINT = "pip install -c constraints.txt -e '.[baselines]'"
#: Subcommands the baselines package provides; shown (with a hint) when it cannot be imported.
#: Modules of the optional extras: a command that misses one says which extra to install.
OPTIONAL_MODULES = {"sb3_contrib", "stable_baselines3", "torch", "matplotlib", "yaml", "tqdm", "rich", "tensorboard",
                    "PIL", "ray"}
#: The main job's budget: about 1-2 minutes of training on two laptop cores, 3 minutes in all at most.
MAIN_TIMESTEPS = 600_000
MAIN_EVAL_GAMES = 500
BASELINE_COMMANDS = {"train": "train one baseline run", "eval": "evaluate a saved agent with the protocol",
                     "grid": "run the grid of conditions x algorithms x seeds", "report": "tables and plots of results"}


class CommandError(Exception):
    """An error that the CLI prints as one line (no traceback) before exiting with status 2."""


# ------------------------------------------------------------------------------ demo
def demo_episode(seed: int = 0, task: str = "tttthought/Full-v0", record: str | None = None) -> list[str]:
    """Play one episode in which a solver-guided agent thinks aloud before each move; return the frames.

    With ``record``, the episode is also written there as JSON lines (see :mod:`tttthought_env.replay`).
    """
    import gymnasium

    import tttthought_env  # noqa: F401  (registers the ids)
    from tttthought_env.solver import get_solver

    env = gymnasium.make(task, render_mode="ansi")
    recorder = None
    if record:
        from tttthought_env.replay import RecordEpisode

        env = recorder = RecordEpisode(env, Path(record).parent, name_prefix=".demo")
    core_env = env.unwrapped
    solver = get_solver(core_env.config.rows, core_env.config.cols, core_env.config.k)
    _, info = env.reset(seed=seed)
    frames = [env.render()]
    done = False
    while not done:
        # Think: assert one optimal move and negate one non-optimal empty cell, then play what it asserted.
        optimal = solver.optimal_moves(core_env.game.board)
        mask = info["action_mask"]
        plan = [("propose", int(optimal.nonzero()[0][0]))]
        bad = [c for c in range(core_env.game.n) if core_env.game.board[c] == 0 and not optimal[c]]
        if bad:
            plan.append(("negate", bad[0]))
        for channel, arg in plan:
            if channel in core_env.rules.offsets and mask[core_env.encode_action(channel, arg)]:
                _, reward, done, _, info = env.step(core_env.encode_action(channel, arg))
                frames.append(f"-- thought: {channel} {arg}  (reward {reward:+.2f})\n{env.render()}")
                mask = info["action_mask"]
        _, reward, done, _, info = env.step(core_env.encode_action("move", plan[0][1]))
        frames.append(f"-- move: {plan[0][1]}  (reward {reward:+.2f})\n{env.render()}")
    frames.append(f"outcome: {info['outcome']}, thoughts this episode: {info['thoughts']}")
    env.close()
    if recorder is not None and recorder.paths:
        recorder.paths[-1].replace(record)
    return frames


def cmd_demo(args: argparse.Namespace) -> int:
    for frame in demo_episode(seed=args.seed, task=_task_id(args.task), record=args.record):
        print(frame)
        print()
    if args.record:
        print(f"recorded to {args.record}; replay it with: tttthought replay {args.record}")
    return 0


# ----------------------------------------------------------------------------- tasks
TASK_COLUMNS = ("id", "channels", "max_thoughts", "memory_size", "num_markers", "persist", "opponent", "actions",
                "obs", "max_episode_steps")


def task_rows() -> list[dict[str, Any]]:
    """One row per registered Gymnasium id: its settings, action and observation sizes, step limit."""
    import gymnasium

    import tttthought_env  # noqa: F401
    from tttthought_env.core import Config, rules_for
    from tttthought_env.registration import TASKS

    rows = []
    for task_id in TASKS:
        spec = gymnasium.spec(task_id)
        kwargs = spec.kwargs
        keys = ("rows", "cols", "k", "channels", "max_thoughts", "memory_size", "num_markers", "persist")
        config = Config(**{key: kwargs[key] for key in keys if key in kwargs})
        rules = rules_for(config)
        opponent = kwargs.get("opponent", "random")
        epsilon = kwargs.get("opponent_epsilon", 0.0)
        rows.append({
            "id": task_id,
            "board": f"{config.rows}x{config.cols}, k={config.k}",
            "channels": ", ".join(config.channels) or "none",
            "max_thoughts": config.max_thoughts if config.channels else 0,
            "memory_size": config.memory_size,
            "num_markers": config.num_markers if "marker" in config.channels else 0,
            "persist": config.persist,
            "opponent": f"{opponent} (epsilon {epsilon:g})" if epsilon else str(opponent),
            "actions": rules.action_size,
            "obs": rules.obs_size,
            "max_episode_steps": spec.max_episode_steps,
            "kwargs": dict(kwargs),
        })
    return rows


def tasks_markdown() -> str:
    """The tasks table as Markdown (docs/tasks.md is this, generated by scripts/gen_tasks_doc.py)."""
    rows = task_rows()
    head = ("| id | board | channels | max_thoughts | memory_size | markers | persist | opponent | actions "
            "| obs size | max_episode_steps |")
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        lines.append(f"| `{r['id']}` | {r['board']} | {r['channels']} | {r['max_thoughts']} | {r['memory_size']} | "
                     f"{r['num_markers']} | {r['persist']} | {r['opponent']} | {r['actions']} | {r['obs']} | "
                     f"{r['max_episode_steps']} |")
    return "\n".join(lines)


def cmd_tasks(args: argparse.Namespace) -> int:
    rows = task_rows()
    if args.format == "markdown":
        print(tasks_markdown())
        return 0
    if args.format == "json":
        print(json.dumps(rows, indent=2, default=list))
        return 0
    shown = [dict(r, id=r["id"]) for r in rows]
    columns = ("id", "board", "channels", "max_thoughts", "memory_size", "num_markers", "persist", "opponent",
               "actions", "obs", "max_episode_steps")
    print(_table(columns, [[str(r[c]) for c in columns] for r in shown]))
    print("\nAny argument can be overridden: gymnasium.make(id, rows=4, cols=4, shaping='potential', ...)")
    return 0


def _table(header: Sequence[str], rows: list[Sequence[str]], align_right: Sequence[int] = ()) -> str:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def fmt(cells: Sequence[Any]) -> str:
        return "  ".join(str(c).rjust(w) if i in align_right else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)])


def _task_id(task: str) -> str:
    return task if "/" in task else f"tttthought/{task}"


# ------------------------------------------------------------------------------ play
def cmd_play(args: argparse.Namespace) -> int:
    from tttthought_env.play import PlayError, play

    try:
        outcomes = play(task=_task_id(args.task) if args.task else None, opponent=args.opponent, human=args.you,
                        seed=args.seed, games=args.games, record=args.record, shaping=args.shaping,
                        deterministic=not args.stochastic)
    except PlayError as err:
        raise CommandError(str(err)) from None
    except KeyboardInterrupt:
        print("\nbye")
        return 130
    return 0 if outcomes else 1


# ---------------------------------------------------------------------------- replay
def cmd_replay(args: argparse.Namespace) -> int:
    from tttthought_env.replay import replay_file

    source = Path(args.episode)
    if not source.exists():
        raise CommandError(f"no episode file at {source} (record one with `tttthought demo --record ep.jsonl`, "
                           "`tttthought play --record ep.jsonl` or the RecordEpisode wrapper)")
    gif, html_path = args.gif, args.html
    if gif is None and html_path is None:
        gif, html_path = source.with_suffix(".gif"), source.with_suffix(".html")
    try:
        written = replay_file(source, gif=gif, html_path=html_path, fps=args.fps)
    except ValueError as err:
        raise CommandError(str(err)) from None
    for path in written:
        print(f"wrote {path}")
    return 0


# ----------------------------------------------------------------------------- bench
def cmd_bench(args: argparse.Namespace) -> int:
    try:
        bench = importlib.import_module("tttthought_env.bench")
    except ImportError as err:
        raise CommandError(f"the benchmark module tttthought_env.bench is not available ({err})") from None
    run_bench = getattr(bench, "run_bench", None)
    format_table = getattr(bench, "format_table", None)
    if run_bench is None or format_table is None:
        raise CommandError("tttthought_env.bench has no run_bench()/format_table(); this build is incomplete")
    import inspect

    accepted = inspect.signature(run_bench).parameters
    kwargs = {"quick": not args.full}
    if "verbose" in accepted:
        kwargs["verbose"] = args.verbose
    if args.rounds is not None and "rounds" in accepted:
        kwargs["rounds"] = args.rounds
    print("measuring environment throughput (random masked play with auto-reset)...", flush=True)
    rows = run_bench(**kwargs)
    print(format_table(rows))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))
        print(f"\nwrote {args.json}")
    return 0


# ------------------------------------------------------------------------------ main
def _require_baselines() -> None:
    missing = []
    for module in ("sb3_contrib", "stable_baselines3", "torch", "matplotlib", "yaml"):
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
    return _table(header, rows, align_right=range(1, len(header)))


def plot_learning_curve(record: dict[str, Any], path: str | Path) -> Path:
    """Draw-or-better against minimax over training steps, saved as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = record["curve"]
    steps = [p["step"] for p in points]
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    ax.plot(steps, [p["draw_or_better"] for p in points], marker="o", label="draw-or-better vs minimax")
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

    if is_dict and env.unwrapped.obs_mode != "dict":  # pragma: no cover - the run config fixes obs_mode
        raise CommandError("the saved model expects dict observations; record with obs_mode='dict'")
    return record_policy_episode(env, policy, path, seed=seed)


def run_main(out: str | Path = "runs/main", timesteps: int | None = MAIN_TIMESTEPS, eval_games: int = MAIN_EVAL_GAMES,
             seed: int = 0, condition: str = "potential", capacity: str = "default", progress_bar: bool = True,
             hyperparams: dict[str, Any] | None = None, stream: Any = None) -> dict[str, Any]:
    """The main job: train, evaluate, print the results table, save the curve PNG and an episode replay.

    Returns ``{"record": ..., "paths": {...}}``. ``timesteps=None`` takes the (smaller) budget of
    ``baselines/hyperparams/maskable_ppo.yml``, the one the benchmark grid uses. Nothing is downloaded.
    """
    stream = sys.stdout if stream is None else stream
    _require_baselines()
    from baselines.config import CONDITIONS, make_run_config
    from baselines.train import load_model, train, write_record

    if condition not in CONDITIONS:
        raise CommandError(f"condition must be one of {', '.join(CONDITIONS)}, got {condition!r}")

    def say(text: str = "") -> None:
        print(text, file=stream, flush=True)

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / "model.zip"
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
    say("\nthought utility = score with thoughts - score with thoughts masked, same games (docs/benchmark.md)")
    curve_path = plot_learning_curve(record, out / "learning_curve.png")
    model, saved_config = load_model(model_path)
    episode_path = record_agent_episode(model, saved_config["task"], saved_config["env"], out / "episode.jsonl",
                                        seed=seed)
    from tttthought_env.replay import write_gif, write_html

    gif_path = write_gif(episode_path, out / "episode.gif")
    html_path = write_html(episode_path, out / "episode.html")
    paths = {"record": record_path, "model": model_path, "learning_curve": curve_path, "episode": episode_path,
             "replay_gif": gif_path, "replay_html": html_path}
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


# ------------------------------------------------------------------------ baselines
def _missing_baselines(err: BaseException):
    def run(args: argparse.Namespace) -> int:
        raise CommandError(f"`tttthought {args.command}` needs the baselines extra ({err}); install it with: "
                           f"{EXTRA_HINT}")

    return run


def add_baseline_commands(sub: Any) -> None:
    """Add the baselines' subcommands (``baselines.cli.add_subcommands``), or stubs that explain what is missing."""
    try:
        module = importlib.import_module("baselines.cli")
        add = module.add_subcommands
    except (ImportError, AttributeError) as err:
        for name, text in BASELINE_COMMANDS.items():
            stub = sub.add_parser(name, help=f"{text} (needs the baselines extra)", add_help=False)
            stub.set_defaults(func=_missing_baselines(err), accepts_extra=True)
        return
    add(sub)


# ---------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    from tttthought_env import __version__

    parser = argparse.ArgumentParser(
        prog="tttthought", description="Tic-tac-toe and m,n,k games where thinking is an action.",
        epilog="Start with `tttthought main` (about 3 minutes on 2 cores). Docs: docs/index.md",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"tttthought-env {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    main = sub.add_parser("main", help="the main job: train MaskablePPO with R(δx), evaluate, plot, replay (~3 min)",
                          description="Train MaskablePPO on tttthought/Full-v0 with potential shaping, evaluate it "
                                      "with the benchmark protocol, print a results table, save a learning-curve PNG "
                                      "and an episode replay. Nothing is downloaded.")
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

    play = sub.add_parser("play", help="play in the terminal against minimax, a heuristic or a saved agent",
                          description="Play against minimax, a heuristic, a random player or a saved MaskablePPO "
                                      "agent (.zip). On your turn type a cell (4) to move, or think first: "
                                      "propose 4 (+4), negate 0 (-0), forget 4, marker 1 (#1); help, quit.")
    play.add_argument("--opponent", default="minimax",
                      help="minimax (default), heuristic, random, or the path of a saved agent .zip")
    play.add_argument("--task", default=None,
                      help="registered id, e.g. Full-v0 (default: Full-v0, or the id that fits a saved agent)")
    play.add_argument("--you", default="X", choices=("X", "O", "alternate"), help="your side (X moves first)")
    play.add_argument("--games", type=int, default=1)
    play.add_argument("--seed", type=int, default=None)
    play.add_argument("--record", default=None, help="record the game(s) to this .jsonl file for `replay`")
    play.add_argument("--shaping", default=None, choices=("oracle", "potential", "prediction"),
                      help="show what this R(δx) pays for your thoughts")
    play.add_argument("--stochastic", action="store_true", help="a saved agent samples instead of its best action")
    play.set_defaults(func=cmd_play)

    replay = sub.add_parser("replay", help="turn a recorded episode (.jsonl) into an animated GIF or HTML page",
                            description="Turn a recorded episode (JSON lines from RecordEpisode, `demo --record` "
                                        "or `play --record`) into an animated GIF and/or a self-contained HTML page "
                                        "with the thought stores beside the board. Without --gif/--html both are "
                                        "written next to the episode.")
    replay.add_argument("episode", help="the .jsonl episode file")
    replay.add_argument("--gif", default=None, help="write an animated GIF here")
    replay.add_argument("--html", default=None, help="write a self-contained HTML page here")
    replay.add_argument("--fps", type=float, default=1.5, help="GIF frames per second (default 1.5)")
    replay.set_defaults(func=cmd_replay)

    bench = sub.add_parser("bench", help="environment throughput benchmark (steps per second)")
    bench.add_argument("--full", action="store_true", help="the full benchmark (default: the quick one)")
    bench.add_argument("--rounds", type=int, default=None, help="measurement rounds (median kept)")
    bench.add_argument("--verbose", action="store_true", help="print each measurement as it is taken")
    bench.add_argument("--json", default=None, help="also write the rows as JSON here")
    bench.set_defaults(func=cmd_bench)

    tasks = sub.add_parser("tasks", help="list the registered ids and their settings")
    tasks.add_argument("--format", default="text", choices=("text", "markdown", "json"))
    tasks.set_defaults(func=cmd_tasks)

    demo = sub.add_parser("demo", help="play one episode with a thinking agent, rendered as text")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--task", default="tttthought/Full-v0")
    demo.add_argument("--record", default=None, help="record the episode to this .jsonl file for `replay`")
    demo.set_defaults(func=cmd_demo)

    add_baseline_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command is None:  # bare `tttthought`: say what there is
        parser.print_help()
        return 0
    if extra and not getattr(args, "accepts_extra", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args.func(args) or 0)
    except CommandError as err:
        print(f"tttthought {args.command}: error: {err}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as err:
        root = (err.name or "").split(".")[0]
        if root not in OPTIONAL_MODULES:
            raise
        print(f"tttthought {args.command}: error: this command needs {root}, which is not installed; "
              f"install the baselines extra: {EXTRA_HINT}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
