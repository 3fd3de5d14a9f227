"""Command line of the baselines: ``train``, ``eval``, ``grid`` and ``report``.

Standalone: ``python -m baselines train --algo maskable_ppo --condition oracle --capacity tiny``.
Inside another argparse program: ``baselines.cli.add_subcommands(subparsers)`` registers the four
subcommands (``add_train`` and so on, one each); each sets ``func``, so the host calls ``args.func(args)``.
``tttthought train|eval|grid|report`` finds them through the ``tttthought_env.commands`` entry points.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from baselines.config import ALGOS, CAPACITIES, CONDITIONS

VEC_CHOICES = ("auto", "batched", "single")


def _print_eval(final: dict) -> None:
    print(f"{'opponent':28} {'win':>6} {'draw':>6} {'loss':>6} {'score':>7} {'thoughts/move':>14} {'correct':>8}")
    for key, value in final.items():
        if not key.startswith("vs_") or not isinstance(value, dict):
            continue
        correct = value.get("correct_thought_fraction")
        print(f"{key[3:]:28} {value['win']:6.3f} {value['draw']:6.3f} {value['loss']:6.3f} {value['score']:7.3f} "
              f"{value['thoughts_per_move']:14.3f} {'–' if correct is None else f'{correct:.3f}':>8}")
    for key, value in final.items():
        if key.startswith("thought_utility_"):
            print(f"thought utility vs {key[len('thought_utility_'):]}: {value:+.3f}")


def cmd_train(args: argparse.Namespace) -> int:
    from baselines.config import make_run_config, parse_env_overrides
    from baselines.train import train, write_record

    if args.condition is None and args.task is None:
        args.condition = "plain"
    name = f"{args.condition or args.task.replace('/', '_')}_{args.algo}_{args.capacity}_seed{args.seed}"
    save = None if args.no_save else (args.save or str(Path("runs") / "checkpoints" / name))
    config = make_run_config(
        args.algo, args.condition, task=args.task, env=parse_env_overrides(args.env), capacity=args.capacity,
        seed=args.seed, total_timesteps=args.timesteps, eval_games=args.eval_games, device=args.device,
        threads=args.threads, vec=args.vec, tensorboard=args.tensorboard, save_path=save,
        progress_bar=not args.no_progress,
    )
    config["checkpoint_every"] = args.checkpoint_every
    if args.sb3_zip:
        config["save_sb3_zip"] = True
    record = train(config)
    _print_eval(record["final"])
    print(f"trained {record['total_timesteps']:,} steps in {record['train_seconds']:.1f} s "
          f"(wall {record['wall_seconds']:.1f} s); 99% draw-or-better vs minimax reached at "
          f"{record['steps_to_threshold'] if record['steps_to_threshold'] is not None else 'never'}")
    if save:
        from baselines.checkpoints import checkpoint_paths

        weights, run_json = checkpoint_paths(save)
        print(f"checkpoint: {weights} and its run config {run_json} (evaluate with: tttthought eval {weights})")
        if args.sb3_zip:
            print(f"SB3 zip: {weights.with_suffix('.zip')} (UNSAFE TO SHARE: loading it unpickles it, which can run "
                  "code; eval and play refuse it without --trust-checkpoint)")
    if args.out:
        print(f"record: {write_record(record, args.out)}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    import torch

    from baselines.checkpoints import CheckpointError
    from baselines.evaluate import evaluate_protocol, make_scorer
    from baselines.train import load_model, write_record
    from tttthought_env.cli import CommandError

    torch.set_num_threads(max(args.threads, 1))
    try:
        model, config = load_model(args.model, device=args.device, trust_checkpoint=args.trust_checkpoint)
    except CheckpointError as err:
        raise CommandError(str(err)) from None
    final = evaluate_protocol(make_scorer(model), config["task"], config["env"], args.games, seed=args.seed,
                              opponents=tuple(args.opponents))
    _print_eval(final)
    if args.out:
        print(f"results: {write_record({'run': config, 'final': final}, args.out)}")
    return 0


def cmd_grid(args: argparse.Namespace) -> int:
    from baselines.grid import grid_jobs, record_path, record_status, run_grid

    jobs = grid_jobs(
        seeds=range(args.seeds) if args.seed_list is None else args.seed_list,
        conditions=args.conditions, algos=args.algos, capacities=args.capacities, unmasked=not args.no_unmasked,
        budget_scale=args.budget_scale, eval_games=args.eval_games, save_models=args.save_models,
        device=args.device, vec=args.vec,
    )
    if args.ray:
        try:
            import ray  # noqa: F401
        except ImportError:
            print("grid --ray needs Ray: pip install -c constraints.txt -e '.[ray]'", file=sys.stderr)
            return 2
    todo, bad = record_status(jobs, args.results)
    if args.dry_run:  # run_grid says these itself
        for path, problem in bad:
            print(f"grid: would redo {path}: {problem}", file=sys.stderr)
    print(f"{len(jobs)} runs in the grid, {len(jobs) - len(todo)} already have a valid record, {len(todo)} to run "
          f"({len(bad)} of them with a record that does not count) "
          f"({'Ray at ' + args.ray if args.ray else f'{args.jobs} processes'})", file=sys.stderr)
    if args.dry_run:
        for job in todo:
            print(record_path(args.results, job))
        return 0
    summary = run_grid(jobs, args.results, processes=args.jobs, ray_address=args.ray, progress=not args.no_progress)
    print(f"grid: {summary['done']} runs done, {summary['skipped']} skipped (had records), "
          f"{len(summary['failed'])} failed, {summary['seconds']:.0f} s", file=sys.stderr)
    if args.report and summary["done"] + summary["skipped"] > 0:
        from baselines.report import report

        print(f"report: {report(args.results, args.doc, args.img)}", file=sys.stderr)
    return 1 if summary["failed"] else 0


def cmd_report(args: argparse.Namespace) -> int:
    from baselines.report import report

    print(f"wrote {report(args.results, args.out, args.img)} and figures under {args.img}")
    return 0


def add_subcommands(subparsers: Any) -> None:
    """Register ``train``, ``eval``, ``grid`` and ``report`` on an argparse subparsers object."""
    for add in (add_train, add_eval, add_grid, add_report):
        add(subparsers)


def add_train(subparsers: Any) -> None:
    """Register ``train`` (also the ``tttthought_env.commands`` entry point of ``tttthought train``)."""
    train = subparsers.add_parser("train", help="train one baseline run and evaluate it",
                                  description="Train MaskablePPO or (masked) QR-DQN on a condition or any "
                                              "registered id, then run the evaluation protocol.")
    train.add_argument("--algo", choices=tuple(ALGOS), required=True,
                       help="qrdqn = masked QR-DQN; qrdqn_unmasked = plain QR-DQN (flat obs, illegal actions lose)")
    where = train.add_mutually_exclusive_group()
    where.add_argument("--condition", choices=tuple(CONDITIONS), help="a headline condition (default: plain)")
    where.add_argument("--task", help="any registered id, e.g. tttthought/ProposeNegate-v0")
    train.add_argument("--env", action="append", metavar="KEY=VALUE",
                       help="env setting on top of the task's, repeatable (e.g. --env shaping=oracle)")
    train.add_argument("--capacity", choices=CAPACITIES, default="default")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--timesteps", type=int, help="step budget (default: the YAML's total_timesteps)")
    train.add_argument("--eval-games", type=int, help="games per opponent in the final evaluation (default 1000)")
    train.add_argument("--device", default="cpu", help="torch device: cpu (default), cuda, auto")
    train.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    train.add_argument("--vec", choices=VEC_CHOICES, default="auto",
                       help="batched vector env (when available) or SB3 DummyVecEnv of single envs")
    train.add_argument("--tensorboard", metavar="DIR", help="write TensorBoard logs under DIR")
    train.add_argument("--save", metavar="PATH",
                       help="checkpoint path: writes PATH.safetensors (weights) and PATH.json (run config); "
                            "default runs/checkpoints/<run>")
    train.add_argument("--sb3-zip", action="store_true",
                       help="also write SB3's own PATH.zip; UNSAFE TO SHARE (loading it unpickles it, which can "
                            "run code)")
    train.add_argument("--no-save", action="store_true", help="do not save a checkpoint")
    train.add_argument("--checkpoint-every", type=int, default=0, metavar="STEPS",
                       help="also save intermediate checkpoints every STEPS steps (under PATH_ckpt/)")
    train.add_argument("--out", metavar="JSON", help="write the run record here")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(func=cmd_train)


def add_eval(subparsers: Any) -> None:
    """Register ``eval``."""
    ev = subparsers.add_parser("eval", help="evaluate a saved checkpoint with the protocol of docs/benchmark.md")
    ev.add_argument("model", help="checkpoint .safetensors written by train (its run config .json must lie "
                                  "beside it)")
    ev.add_argument("--games", type=int, default=1000, help="games per opponent (default 1000)")
    ev.add_argument("--opponents", nargs="+", default=["random", "minimax", "training"],
                    choices=["random", "minimax", "training"])
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--device", default="cpu")
    ev.add_argument("--threads", type=int, default=1)
    ev.add_argument("--out", metavar="JSON", help="write the results here")
    ev.add_argument("--trust-checkpoint", action="store_true",
                    help="DANGEROUS: allow an SB3 .zip checkpoint, read by unpickling, which runs any code planted "
                         "in it; only for files from someone you trust")
    ev.set_defaults(func=cmd_eval)


def add_grid(subparsers: Any) -> None:
    """Register ``grid``."""
    grid = subparsers.add_parser("grid", help="run the experiment grid (parallel, resumable)")
    grid.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel processes (default: CPU count)")
    grid.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 per cell (default 10)")
    grid.add_argument("--seed-list", type=int, nargs="+", help="explicit seeds instead of --seeds")
    grid.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=tuple(CONDITIONS))
    grid.add_argument("--algos", nargs="+", default=["maskable_ppo", "qrdqn"], choices=["maskable_ppo", "qrdqn"])
    grid.add_argument("--capacities", nargs="+", default=list(CAPACITIES), choices=CAPACITIES)
    grid.add_argument("--no-unmasked", action="store_true", help="skip the plain-QR-DQN comparison runs")
    grid.add_argument("--results", default="results", help="results directory (records under <results>/records)")
    grid.add_argument("--budget-scale", type=float, default=1.0, help="multiply every step budget (quick checks)")
    grid.add_argument("--eval-games", type=int, help="games per opponent (default 1000; quick checks only)")
    grid.add_argument("--save-models", metavar="DIR", help="also save every run's checkpoint under DIR")
    grid.add_argument("--ray", metavar="ADDRESS", help="run on a Ray cluster (ADDRESS, 'auto', or 'local')")
    grid.add_argument("--device", default="cpu")
    grid.add_argument("--vec", choices=VEC_CHOICES, default="auto")
    grid.add_argument("--dry-run", action="store_true", help="list the runs still to do and stop")
    grid.add_argument("--report", action="store_true", help="regenerate the report afterwards")
    grid.add_argument("--doc", default="docs/results.md", help="report path for --report")
    grid.add_argument("--img", default="docs/img", help="figure directory for --report")
    grid.add_argument("--no-progress", action="store_true")
    grid.set_defaults(func=cmd_grid)


def add_report(subparsers: Any) -> None:
    """Register ``report``."""
    rep = subparsers.add_parser("report", help="regenerate docs/results.md and its figures from the run records")
    rep.add_argument("--results", default="results")
    rep.add_argument("--out", default="docs/results.md")
    rep.add_argument("--img", default="docs/img")
    rep.set_defaults(func=cmd_report)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m baselines", description=__doc__.split("\n")[0])
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from tttthought_env.cli import CommandError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CommandError as err:
        print(f"python -m baselines {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
