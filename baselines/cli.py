"""Command line of the baselines: ``train``, ``eval``, ``grid``, ``sweep``, ``probe`` and ``report``.

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

from baselines.config import ALGOS, ARCHS, CAPACITIES, CONDITIONS, PROBE_FILE, PROBE_MODES, PROTOCOL_SEEDS

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
    arch = "" if args.arch == "mlp" else f"_{args.arch}"
    name = f"{args.condition or args.task.replace('/', '_')}_{args.algo}_{args.capacity}{arch}_seed{args.seed}"
    save = None if args.no_save else (args.save or str(Path("runs") / "checkpoints" / name))
    config = make_run_config(
        args.algo, args.condition, task=args.task, env=parse_env_overrides(args.env), capacity=args.capacity,
        arch=args.arch,
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
                              opponents=tuple(args.opponents),
                              training_mix=config.get("hyperparams", {}).get("opponent_mix"))
    _print_eval(final)
    if args.out:
        print(f"results: {write_record({'run': config, 'final': final}, args.out)}")
    return 0


def cmd_grid(args: argparse.Namespace) -> int:
    from baselines.grid import grid_jobs
    from baselines.sweep import read_selection
    from tttthought_env.cli import CommandError

    try:
        tuned = read_selection(args.tuned) if args.tuned else None
    except ValueError as err:
        raise CommandError(str(err)) from None
    if args.arch_grid:  # issue 13's grid: token networks beside the MLP, MaskablePPO, four conditions per view
        from baselines.grid import architecture_conditions
        from baselines.report.records import load_records

        args.conditions = architecture_conditions(load_records(args.results))
        args.algos, args.no_unmasked, args.archs = ["maskable_ppo"], True, ["mlp", "deepsets", "transformer"]
        print(f"architecture grid: conditions {' '.join(args.conditions)}", file=sys.stderr)
    jobs = grid_jobs(
        seeds=range(args.seeds) if args.seed_list is None else args.seed_list,
        conditions=args.conditions, algos=args.algos, capacities=args.capacities, unmasked=not args.no_unmasked,
        budget_scale=args.budget_scale, eval_games=args.eval_games, save_models=args.save_models,
        device=args.device, vec=args.vec, tuned=tuned, archs=args.archs,
    )
    return _run_jobs(args, jobs, "grid")


def cmd_sweep(args: argparse.Namespace) -> int:
    from baselines.sweep import load_sweep, sweep_jobs, write_selection

    spec = load_sweep()
    jobs = sweep_jobs(spec, args.conditions, budget_scale=args.budget_scale, eval_games=args.eval_games)
    status = 0 if args.select_only else _run_jobs(args, jobs, "sweep")
    if not args.dry_run:
        print(f"sweep: the selection is in {write_selection(args.results, spec)}", file=sys.stderr)
    return status


def _run_jobs(args: argparse.Namespace, jobs: list[dict[str, Any]], name: str) -> int:
    """Run (or with ``--dry-run`` list) the jobs that have no valid record under ``args.results``."""
    from baselines.grid import record_path, record_status, run_grid

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
    print(f"{len(jobs)} runs in the {name}, {len(jobs) - len(todo)} already have a valid record, {len(todo)} to run "
          f"({len(bad)} of them with a record that does not count) "
          f"({'Ray at ' + args.ray if args.ray else f'{args.jobs} processes'})", file=sys.stderr)
    if args.dry_run:
        for job in todo:
            print(record_path(args.results, job))
        return 0
    summary = run_grid(jobs, args.results, processes=args.jobs, ray_address=args.ray, progress=not args.no_progress)
    print(f"{name}: {summary['done']} runs done, {summary['skipped']} skipped (had records), "
          f"{len(summary['failed'])} failed, {summary['seconds']:.0f} s", file=sys.stderr)
    if getattr(args, "report", False) and summary["done"] + summary["skipped"] > 0:
        from baselines.report import report

        print(f"report: {report(args.results, args.doc, args.img)}", file=sys.stderr)
    return 1 if summary["failed"] else 0


def cmd_report(args: argparse.Namespace) -> int:
    from baselines.report import report

    print(f"wrote {report(args.results, args.out, args.img, title=args.title)} and figures under {args.img}")
    return 0


def add_subcommands(subparsers: Any) -> None:
    """Register ``train``, ``eval``, ``grid``, ``sweep``, ``probe`` and ``report`` on an argparse subparsers object."""
    for add in (add_train, add_eval, add_grid, add_sweep, add_probe, add_report):
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
    train.add_argument("--arch", choices=ARCHS, default="mlp",
                       help="network: mlp (the flat vector) or a token network, deepsets or transformer "
                            "(obs_mode='tokens'; sizes in baselines/hyperparams/archs.yml)")
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
    grid.add_argument("--seeds", type=int, default=PROTOCOL_SEEDS,
                      help=f"seeds 0..N-1 per cell (default {PROTOCOL_SEEDS})")
    grid.add_argument("--seed-list", type=int, nargs="+", help="explicit seeds instead of --seeds")
    grid.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=tuple(CONDITIONS))
    grid.add_argument("--algos", nargs="+", default=["maskable_ppo", "qrdqn"], choices=["maskable_ppo", "qrdqn"])
    grid.add_argument("--capacities", nargs="+", default=list(CAPACITIES), choices=CAPACITIES)
    grid.add_argument("--archs", nargs="+", default=["mlp"], choices=ARCHS,
                      help="networks (default mlp; the architecture grid adds deepsets transformer)")
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
    grid.add_argument("--arch-grid", action="store_true",
                      help="the architecture grid: MaskablePPO, mlp/deepsets/transformer, per view plain, thoughts, "
                           "the best R(δx) of the headline records and pretrained")
    grid.add_argument("--tuned", metavar="JSON", help="train each cell with a sweep's selection "
                                                      "(results/sweeps/tuning/selected.json, written by sweep)")
    grid.add_argument("--no-progress", action="store_true")
    grid.set_defaults(func=cmd_grid)


def add_sweep(subparsers: Any) -> None:
    """Register ``sweep``: the tuning sweep of baselines/hyperparams/sweep.yml (resumable) and its selection."""
    sweep = subparsers.add_parser("sweep", help="the equal tuning sweep of every condition, then its selection",
                                  description="Train every combination of baselines/hyperparams/sweep.yml for every "
                                              "condition on the held-out sweep seeds, then select one per cell by "
                                              "the documented rule (selected.json, for grid --tuned).")
    sweep.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel processes (default: CPU count)")
    sweep.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=tuple(CONDITIONS))
    sweep.add_argument("--results", default="results/sweeps/tuning", help="records and selected.json go here")
    sweep.add_argument("--budget-scale", type=float, default=1.0, help="multiply every step budget (quick checks)")
    sweep.add_argument("--eval-games", type=int, help="games per opponent (default 1000; quick checks only)")
    sweep.add_argument("--select-only", action="store_true", help="only (re)write selected.json from the records")
    sweep.add_argument("--ray", metavar="ADDRESS", help="run on a Ray cluster (ADDRESS, 'auto', or 'local')")
    sweep.add_argument("--dry-run", action="store_true", help="list the runs still to do and stop")
    sweep.add_argument("--no-progress", action="store_true")
    sweep.set_defaults(func=cmd_sweep)


def add_probe_arguments(parser: argparse.ArgumentParser) -> None:
    """The probe's options, for ``python -m baselines.probe`` and the ``probe`` subcommand alike (no torch here:
    ``--help`` stays light)."""
    parser.add_argument("--out", type=Path, default=Path("results/probe"), help="folder for probe.json and README.md")
    parser.add_argument("--hyperparams", type=Path, default=PROBE_FILE, help="the probe YAML")
    parser.add_argument("--quick", action="store_true", help="the YAML's quick settings (one seed, tiny, a subset)")
    parser.add_argument("--archs", nargs="+", choices=ARCHS)
    parser.add_argument("--sizes", nargs="+", choices=CAPACITIES)
    parser.add_argument("--modes", nargs="+", choices=PROBE_MODES)
    parser.add_argument("--seeds", nargs="+", type=int)
    parser.add_argument("--epochs", type=int, help="override the YAML's train.epochs (>= 1)")


def add_probe(subparsers: Any) -> None:
    """Register ``probe``: the capacity probe (supervised, exact, no RL) of baselines/probe.py."""
    probe = subparsers.add_parser("probe", help="the capacity probe: one pass vs two passes through thoughts",
                                  description="Train each architecture and size by supervised learning on every "
                                              "non-terminal 3x3 position: one pass, and two passes through thoughts "
                                              "(results/probe/, settings in baselines/hyperparams/probe.yml).")
    add_probe_arguments(probe)
    probe.set_defaults(func=_cmd_probe)


def _cmd_probe(args: argparse.Namespace) -> int:
    from baselines.probe import cmd_probe
    from tttthought_env.cli import CommandError

    try:
        return cmd_probe(args)
    except ValueError as err:
        raise CommandError(str(err)) from None


def add_report(subparsers: Any) -> None:
    """Register ``report``."""
    rep = subparsers.add_parser("report", help="regenerate docs/results.md and its figures from the run records")
    rep.add_argument("--results", default="results")
    rep.add_argument("--out", default="docs/results.md")
    rep.add_argument("--img", default="docs/img")
    rep.add_argument("--title", default="Results", help="the document's title")
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
