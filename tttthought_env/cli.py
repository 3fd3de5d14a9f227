"""The ``tttthought`` command line: ``main`` (train MaskablePPO with R(δx), evaluate, plot, replay; ~3 min),
``play``, ``replay`` (an episode as a GIF or HTML page), ``tasks``, ``demo``, the baselines' ``train``, ``eval``,
``grid`` and ``report``, and ``bench`` (which says how to run ``benchmarks/bench.py``).

``main`` and the baselines' commands are plugins: installed packages add them through the entry point group
``tttthought_env.commands``, each a function of the argparse subparsers; this package never imports ``baselines``.
Heavy imports happen inside the commands, so ``tttthought --help`` is quick and works without the extras.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from importlib.metadata import distributions
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import gymnasium

    from tttthought_env.gymnasium_env import ThoughtTicTacToeEnv
    from tttthought_env.solver import Solver

EXTRA_HINT = "pip install -c constraints.txt -e '.[baselines]'"
#: Modules of the optional extras: a command that misses one says which extra to install.
OPTIONAL_MODULES = {"sb3_contrib", "stable_baselines3", "torch", "matplotlib", "yaml", "tqdm", "rich", "tensorboard",
                    "PIL", "ray"}
#: The entry point group of the plugin commands: ``name = "module:function"``, ``function(subparsers)``.
PLUGIN_GROUP = "tttthought_env.commands"
#: Commands the baselines package provides; listed (with a hint) even when it is not installed.
PLUGIN_COMMANDS = {"main": "the main job: train MaskablePPO with R(δx), evaluate, plot, replay (~3 min)",
                   "train": "train one baseline run", "eval": "evaluate a saved agent with the protocol",
                   "grid": "run the grid of conditions x algorithms x seeds",
                   "sweep": "the equal tuning sweep of every condition", "probe": "the capacity probe (supervised)",
                   "report": "tables and plots of results"}
BENCH_HINT = ("the throughput benchmark is not part of the installed package; from a source checkout run "
              "`python benchmarks/bench.py` (add --full for the full one; peers need "
              "pip install -c constraints.txt -e '.[bench]'), see docs/performance.md")


class CommandError(Exception):
    """An error that the CLI prints as one line (no traceback) before exiting with status 2."""


# ------------------------------------------------------------------------------ demo
def _lowest(bits: int) -> int:
    return (bits & -bits).bit_length() - 1


def demo_thoughts(solver: Solver, marks: Sequence[int], all_cells: int) -> tuple[int, list[tuple[str, int]]]:
    """The demo agent's plan: the lowest optimal cell, thoughts asserting it and negating one non-optimal empty cell."""
    optimal = solver.optimal_bits_from_marks(marks[0], marks[1])
    bad = all_cells & ~(optimal | marks[0] | marks[1])
    return _lowest(optimal), [("propose", _lowest(optimal))] + ([("negate", _lowest(bad))] if bad else [])


def demo_episode(seed: int = 0, task: str = "tttthought/Full-v0", record: str | None = None) -> list[str]:
    """Play one episode in which a solver-guided agent thinks aloud before each move; return the frames.
    With ``record``, the episode is also written there as JSON lines (see :mod:`tttthought_env.replay`)."""
    import gymnasium

    import tttthought_env  # noqa: F401  (registers the ids)
    from tttthought_env.replay import RecordEpisode
    from tttthought_env.solver import get_solver
    from tttthought_env.transition import OUTCOMES

    env = gymnasium.make(task if "/" in task else f"tttthought/{task}", render_mode="ansi")
    if record:
        env = recorder = RecordEpisode(env, Path(record).parent, name_prefix=".demo")
    core_env = cast("ThoughtTicTacToeEnv", env.unwrapped)
    solver = get_solver(core_env.config.rows, core_env.config.cols, core_env.config.k)
    _, info = env.reset(seed=seed)
    frames, done = [str(env.render())], False
    while not done:
        cell, plan = demo_thoughts(solver, core_env.game.marks, core_env.layout.all_cells)
        for channel, arg in [*plan, ("move", cell)]:
            action = core_env.encode_action(channel, arg) if channel in core_env.layout.blocks else -1
            if channel == "move" or (action >= 0 and info["action_mask"][action]):  # the thoughts allowed and left
                _, reward, done, _, info = env.step(action)
                what = f"move: {arg}" if channel == "move" else f"thought: {channel} {arg}"
                frames.append(f"-- {what}  (reward {float(reward):+.2f})\n{env.render()}")
    frames.append(f"outcome: {OUTCOMES[info['outcome']]}, thoughts this episode: {info['thoughts']}")
    env.close()
    if record:
        recorder.paths[-1].replace(record)
    return frames


def cmd_demo(args: argparse.Namespace) -> int:
    for frame in demo_episode(seed=args.seed, task=args.task, record=args.record):
        print(frame, end="\n\n")
    if args.record:
        print(f"recorded to {args.record}; replay it with: tttthought replay {args.record}")
    return 0


# ----------------------------------------------------------------------------- tasks
TASK_COLUMNS = ("id", "board", "view", "channels", "max_thoughts", "memory_size", "num_markers", "persist",
                "opponent", "actions", "obs", "longest_episode")
_MARKDOWN_HEADS = {"num_markers": "markers", "obs": "obs size", "longest_episode": "longest episode"}


def task_rows() -> list[dict[str, Any]]:
    """One row per registered Gymnasium id: its settings, action and observation sizes, longest episode."""
    import gymnasium

    import tttthought_env  # noqa: F401
    from tttthought_env.config import Config
    from tttthought_env.layout import layout_for
    from tttthought_env.registration import TASKS

    rows = []
    for task_id in TASKS:
        spec = gymnasium.spec(task_id)
        config = Config.from_settings(spec.kwargs)
        layout = layout_for(config)
        opponent, epsilon = spec.kwargs.get("opponent", "random"), spec.kwargs.get("opponent_epsilon", 0.0)
        rows.append({"id": task_id, "board": f"{config.rows}x{config.cols}, k={config.k}", "view": config.view,
                     "channels": ", ".join(config.channels) or "none",
                     "max_thoughts": config.max_thoughts if config.channels else 0, "memory_size": config.memory_size,
                     "num_markers": config.num_markers if "marker" in config.channels else 0,
                     "persist": config.persist,
                     "opponent": f"{opponent} (epsilon {epsilon:g})" if epsilon else str(opponent),
                     "actions": layout.action_size, "obs": layout.obs_size,
                     "longest_episode": layout.max_episode_moves_and_thoughts, "kwargs": dict(spec.kwargs)})
    return rows


def tasks_markdown() -> str:
    """The tasks table as Markdown (docs/tasks.md is this, generated by scripts/gen_tasks_doc.py)."""
    rows = [[f"`{row['id']}`", *(str(row[c]) for c in TASK_COLUMNS[1:])] for row in task_rows()]
    lines = [f"| {' | '.join(cells)} |" for cells in [[_MARKDOWN_HEADS.get(c, c) for c in TASK_COLUMNS], *rows]]
    return "\n".join([lines[0], "|" + "---|" * len(TASK_COLUMNS), *lines[1:]])


def cmd_tasks(args: argparse.Namespace) -> int:
    if args.format == "markdown":
        print(tasks_markdown())
    elif args.format == "json":
        print(json.dumps(task_rows(), indent=2, default=list))
    else:
        print(text_table(TASK_COLUMNS, [[str(row[c]) for c in TASK_COLUMNS] for row in task_rows()]))
        print("\nAny argument can be overridden: gymnasium.make(id, rows=4, cols=4, shaping='potential', ...)")
    return 0


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]], align_right: Iterable[int] = ()) -> str:
    """A plain-text table: columns padded to their widest cell, ``align_right`` columns right-aligned."""
    align_right = set(align_right)
    widths = [max([len(str(h)), *(len(str(r[i])) for r in rows)]) for i, h in enumerate(header)]

    def fmt(cells: Sequence[Any]) -> str:
        return "  ".join(str(c).rjust(w) if i in align_right else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)])


# ----------------------------------------------------------------- play, replay, bench
def cmd_play(args: argparse.Namespace) -> int:
    from tttthought_env.play import PlayError, play

    try:
        outcomes = play(task=args.task, opponent=args.opponent, human=args.you, seed=args.seed, games=args.games,
                        record=args.record, shaping=args.shaping, deterministic=not args.stochastic,
                        trust_checkpoint=args.trust_checkpoint)
    except PlayError as err:
        raise CommandError(str(err)) from None
    except KeyboardInterrupt:
        print("\nbye")
        return 130
    return 0 if outcomes else 1


def cmd_replay(args: argparse.Namespace) -> int:
    from tttthought_env.replay import replay_file
    from tttthought_env.replay.gif import check_fps

    source = Path(args.episode)
    if not source.is_file():
        raise CommandError(f"no episode file at {source} (record one with `tttthought demo --record ep.jsonl`, "
                           "`tttthought play --record ep.jsonl` or the RecordEpisode wrapper)")
    try:
        check_fps(args.fps)
    except ValueError as err:
        raise CommandError(f"--fps: {err}") from None
    both = args.gif is None and args.html is None  # neither asked for: write both next to the episode
    gif, html_path = (source.with_suffix(".gif"), source.with_suffix(".html")) if both else (args.gif, args.html)
    try:
        written = replay_file(source, gif=gif, html_path=html_path, fps=args.fps)
    except ValueError as err:
        raise CommandError(f"{source}: {err}") from None
    except ModuleNotFoundError as err:
        if (err.name or "").split(".")[0] != "PIL":
            raise
        from tttthought_env.replay.gif import PIL_HINT

        raise CommandError(PIL_HINT) from None
    for path in written:
        print(f"wrote {path}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    raise CommandError(BENCH_HINT)


# ---------------------------------------------------------------------- plugin commands
def _unavailable(name: str, reason: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        raise CommandError(f"`tttthought {name}` needs the baselines extra ({reason}); install it with: {EXTRA_HINT}")

    return run


def plugin_entry_points() -> dict[str, Any]:
    """``{command name: entry point}`` of the installed ``tttthought_env.commands`` plugins."""
    # Every distribution, duplicates included: entry_points() keeps only the first copy of a name, and a
    # stale *.egg-info in the working directory would then hide the installed commands.
    found: dict[str, Any] = {}
    for ep in (ep for dist in distributions() for ep in dist.entry_points if ep.group == PLUGIN_GROUP):
        found.setdefault(ep.name, ep)
    return found


def add_plugin_command(sub: Any, name: str, found: dict[str, Any]) -> None:
    """Add command ``name`` from its entry point in ``found``, or a stub whose one-line error says what is missing."""
    reason = "the package that provides it is not installed"
    if name in found:
        try:
            register = found[name].load()
        except (ImportError, AttributeError) as err:
            reason = str(err)
        else:
            register(sub)
            return
    stub = sub.add_parser(name, help=f"{PLUGIN_COMMANDS.get(name, name)} (needs the baselines extra)", add_help=False)
    stub.set_defaults(func=_unavailable(name, reason), accepts_extra=True)


# ---------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    from tttthought_env import __version__

    parser = argparse.ArgumentParser(
        prog="tttthought", description="Tic-tac-toe and m,n,k games where thinking is an action.",
        epilog="Start with `tttthought main` (about 3 minutes on 2 cores). Docs: docs/index.md",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"tttthought-env {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    plugins = plugin_entry_points()
    add_plugin_command(sub, "main", plugins)  # first in the help: the command to start with

    play = sub.add_parser("play", help="play in the terminal against minimax, a heuristic or a saved agent",
                          description="Play against minimax, a heuristic, a random player or a saved MaskablePPO "
                                      "agent (.safetensors). On your turn type a cell (4) to move, or think first: "
                                      "propose 4 (+4), negate 0 (-0), forget 4, marker 1 (#1); help, quit.")
    play.add_argument("--opponent", default="minimax",
                      help="minimax (default), heuristic, random, or the path of a saved agent (.safetensors)")
    play.add_argument("--task", default=None,
                      help="registered id, e.g. Full-v0 (default: Full-v0, or the id that fits a saved agent)")
    play.add_argument("--you", default="X", choices=("X", "O", "alternate"), help="your side (X moves first)")
    play.add_argument("--games", type=int, default=1)
    play.add_argument("--seed", type=int, default=None)
    play.add_argument("--record", default=None, help="record the game(s) to this .jsonl file for `replay`")
    play.add_argument("--shaping", default=None, choices=("oracle", "potential", "prediction"),
                      help="show what this R(δx) pays for your thoughts")
    play.add_argument("--stochastic", action="store_true", help="a saved agent samples instead of its best action")
    play.add_argument("--trust-checkpoint", action="store_true",
                      help="also load an SB3 .zip agent; UNSAFE: loading one runs any code planted in the file, so "
                           "pass it only for files you made yourself or got from someone you trust")
    play.set_defaults(func=cmd_play)

    replay = sub.add_parser("replay", help="turn a recorded episode (.jsonl) into an animated GIF or HTML page",
                            description="Turn a recorded episode (from RecordEpisode, `demo --record` or `play "
                                        "--record`) into an animated GIF and/or a self-contained HTML page; without "
                                        "--gif/--html both are written next to the episode.")
    replay.add_argument("episode", help="the .jsonl episode file")
    replay.add_argument("--gif", default=None, help="write an animated GIF here")
    replay.add_argument("--html", default=None, help="write a self-contained HTML page here")
    replay.add_argument("--fps", type=float, default=1.5, help="GIF frames per second (default 1.5)")
    replay.set_defaults(func=cmd_replay)

    bench = sub.add_parser("bench", help="the throughput benchmark: says how to run benchmarks/bench.py",
                           add_help=False)
    bench.set_defaults(func=cmd_bench, accepts_extra=True)

    tasks = sub.add_parser("tasks", help="list the registered ids and their settings")
    tasks.add_argument("--format", default="text", choices=("text", "markdown", "json"))
    tasks.set_defaults(func=cmd_tasks)

    demo = sub.add_parser("demo", help="play one episode with a thinking agent, rendered as text")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--task", default="tttthought/Full-v0")
    demo.add_argument("--record", default=None, help="record the episode to this .jsonl file for `replay`")
    demo.set_defaults(func=cmd_demo)

    # Every name of PLUGIN_COMMANDS is listed, provided or not; other installed plugins add theirs.
    for name in dict.fromkeys([*PLUGIN_COMMANDS, *sorted(plugins)]):
        if name != "main":
            add_plugin_command(sub, name, plugins)
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
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # here, so that a closed pipe is answered below and not at exit
        return code
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
    except BrokenPipeError:  # `tttthought tasks | head`: the reader is gone; say nothing more
        _discard_stdout()
        return 141  # as a program killed by SIGPIPE
    except KeyboardInterrupt:
        print(f"tttthought {args.command}: interrupted", file=sys.stderr)
        return 130
    except OSError as err:  # a full disk, an unwritable folder, ...
        print(f"tttthought {args.command}: error: {os_error_line(err)}", file=sys.stderr)
        return 2


def os_error_line(err: OSError) -> str:
    """One line for an ``OSError``: what failed and on which file."""
    what = err.strerror or str(err) or type(err).__name__
    return f"{what}: {err.filename}" if err.filename else what


def _discard_stdout() -> None:
    """Point stdout at the null device, so that flushing it at exit raises nothing more."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # pragma: no cover - stdout without a file descriptor
        pass

if __name__ == "__main__":
    sys.exit(main())
