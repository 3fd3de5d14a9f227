"""The ``tttthought`` command line: demo, tasks, and the subcommands of the other modules."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence


def demo_episode(seed: int = 0, task: str = "tttthought/Full-v0") -> list[str]:
    """Play one episode in which a solver-guided agent thinks aloud before each move; return the frames."""
    import gymnasium

    import tttthought_env  # noqa: F401  (registers the ids)
    from tttthought_env.solver import get_solver

    env = gymnasium.make(task, render_mode="ansi")
    core_env = env.unwrapped
    solver = get_solver(core_env.config.rows, core_env.config.cols, core_env.config.k)
    obs, info = env.reset(seed=seed)
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
                obs, reward, done, _, info = env.step(core_env.encode_action(channel, arg))
                frames.append(f"-- thought: {channel} {arg}  (reward {reward:+.2f})\n{env.render()}")
                mask = info["action_mask"]
        obs, reward, done, _, info = env.step(core_env.encode_action("move", plan[0][1]))
        frames.append(f"-- move: {plan[0][1]}  (reward {reward:+.2f})\n{env.render()}")
    frames.append(f"outcome: {info['outcome']}, thoughts this episode: {info['thoughts']}")
    env.close()
    return frames


def cmd_demo(args: argparse.Namespace) -> int:
    for frame in demo_episode(seed=args.seed, task=args.task):
        print(frame)
        print()
    return 0


def cmd_tasks(args: argparse.Namespace) -> int:
    from tttthought_env.registration import GYMNASIUM_DEFAULTS, TASKS, max_episode_steps

    print(f"{'id':32} {'max_episode_steps':>17}  settings")
    for task_id, settings in TASKS.items():
        shown = {**GYMNASIUM_DEFAULTS, **settings}
        print(f"{task_id:32} {max_episode_steps(settings):>17}  " + ", ".join(f"{k}={v!r}" for k, v in shown.items()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tttthought", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="play one episode with a thinking agent, rendered as text")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--task", default="tttthought/Full-v0")
    demo.set_defaults(func=cmd_demo)
    tasks = sub.add_parser("tasks", help="list the registered ids and their settings")
    tasks.set_defaults(func=cmd_tasks)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
