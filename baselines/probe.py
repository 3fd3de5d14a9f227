"""The capacity probe: how many optimal-move maps can a network represent, with and without thoughts.

Supervised and exact, no RL. The examples are every non-terminal 3x3 position (X first; a line or a full
board excluded; both players to move), each labelled by the exact solver's set of optimal moves. Train =
test: the accuracy measures capacity, not generalisation.

* ``one_pass``: the network reads the position at the start of the turn (empty store) and is trained to put
  its argmax, over the legal moves, on an optimal move (loss ``-log sum_{a optimal} softmax(logits)_a``).
* ``two_pass`` ("x + 0 -> dx, x + dx -> y"): the same network first emits thoughts, then the move, reading
  its own thoughts in the store. It is trained by teacher forcing on the scripted :func:`trace` and judged on
  its own rollout: the final move's accuracy and whether its thoughts reproduce the trace exactly.

The network of an architecture and size is the MaskablePPO actor of :mod:`baselines.policies` (extractor,
the hidden Tanh layers, a linear head over all actions), so the sizes are the RL sizes. Observations are built
by :class:`tttthought_env.core.Game`, exactly as the envs build them. Hyperparameters:
``baselines/hyperparams/probe.yml``. Run: ``python -m baselines.probe --out results/probe/``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch as th
import yaml
from stable_baselines3.common.torch_layers import FlattenExtractor
from torch import nn

from baselines.cli import add_probe_arguments
from baselines.config import PROBE_FILE, PROBE_MODES
from baselines.policies import ARCH_SIZES, ARCHS, EXTRACTORS, SIZES, count_parameters
from tttthought_env.config import Config
from tttthought_env.core import Game
from tttthought_env.layout import Layout, layout_for
from tttthought_env.solver import get_solver

MODES: tuple[str, ...] = PROBE_MODES
PROBE_YAML = PROBE_FILE
RECORD_SCHEMA = 1

Position = tuple[tuple[int, ...], int, int]  # (the moves that reach it, X's cells, O's cells) as bitmasks


# ---------------------------------------------------------------------------------------------- positions
def non_terminal_positions(rows: int = 3, cols: int = 3, k: int = 3) -> list[Position]:
    """Every position reachable from the empty board with X first that has no line and a free cell, as
    ``(moves, x_mask, o_mask)``, sorted by ``(number of marks, x_mask, o_mask)``; ``moves`` is one move order
    that reaches it (the first one a depth-first search finds)."""
    layout = layout_for(Config(rows=rows, cols=cols, k=k, channels=()))
    found: dict[tuple[int, int], tuple[int, ...]] = {}
    stack: list[tuple[tuple[int, ...], int, int]] = [((), 0, 0)]
    while stack:
        moves, x, o = stack.pop()
        if (x, o) in found:
            continue
        found[(x, o)] = moves
        mover = x if len(moves) % 2 == 0 else o
        for cell in range(layout.n_cells):
            if (x | o) >> cell & 1:
                continue
            marks = mover | 1 << cell
            if layout.has_line(marks, cell) or (x | o | 1 << cell) == layout.all_cells:
                continue  # terminal: left out
            stack.append(((*moves, cell), marks if len(moves) % 2 == 0 else x,
                          marks if len(moves) % 2 else o))
    return sorted(((moves, x, o) for (x, o), moves in found.items()),
                  key=lambda item: ((item[1] | item[2]).bit_count(), item[1], item[2]))


def winning_cells(layout: Layout, mine: int, theirs: int) -> list[int]:
    """The free cells where the owner of ``mine`` would complete a line by playing now, ascending."""
    return [cell for cell in range(layout.n_cells)
            if not (mine | theirs) >> cell & 1 and layout.has_line(mine | 1 << cell, cell)]


def trace(layout: Layout, mine: int, theirs: int) -> list[int]:
    """The scripted thoughts (action ids) of the mover holding ``mine``: ``+c`` for each cell where it would
    complete a line now, then ``-c`` for each cell where the opponent would, ascending within each group; marker 0
    when there is neither; truncated to ``max_thoughts``."""
    thoughts = [layout.encode_action("propose", c) for c in winning_cells(layout, mine, theirs)]
    thoughts += [layout.encode_action("negate", c) for c in winning_cells(layout, theirs, mine)]
    if not thoughts:
        thoughts = [layout.encode_action("marker", 0)]
    return thoughts[:layout.config.max_thoughts]


def game_at(layout: Layout, moves: Sequence[int]) -> Game:
    """A fresh :class:`Game` of ``layout`` after ``moves`` (no thoughts), the mover to think or move."""
    game = Game(layout)
    for cell in moves:
        game.move(cell)
    return game


# ---------------------------------------------------------------------------------------------- data
def encode(games: Sequence[Game], tokens: bool) -> dict[str, th.Tensor]:
    """The observations of the player to move in each game, batched: ``{"observation"}`` (float32, the flat
    vector) or ``{"tokens", "token_mask"}`` (as the env's ``obs_mode="tokens"``), and ``"legal"`` (bool, A)."""
    batch: dict[str, th.Tensor] = {"legal": th.as_tensor(np.stack([g.legal_mask() for g in games]))}
    if tokens:
        rows = np.stack([g.tokens(g.to_move) for g in games])
        batch["tokens"] = th.as_tensor(rows)
        batch["token_mask"] = th.as_tensor((rows[..., 0] != 0).astype(np.int8))
    else:
        batch["observation"] = th.as_tensor(np.stack([g.observation(g.to_move) for g in games]))
    return batch


@dataclass
class ProbeData:
    """The examples of one mode and encoding: inputs (:func:`encode`), a bool target set per example (A),
    which examples are a final move (the others are teacher-forced thoughts), and per position the optimal
    moves (bitmask), the trace and the game at the start of the turn."""

    inputs: dict[str, th.Tensor]
    targets: th.Tensor
    is_move: th.Tensor
    optimal: list[int]
    traces: list[list[int]]
    starts: list[Game]


def build_data(layout: Layout, positions: Sequence[Position], mode: str, tokens: bool) -> ProbeData:
    """The examples of ``mode``: one per position (``one_pass``), or one per step of each position's trace and
    one for its move (``two_pass``, the store filled by the teacher's thoughts so far)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    solver = get_solver(layout.config.rows, layout.config.cols, layout.config.k)
    games, targets, is_move, optimal, traces, starts = [], [], [], [], [], []
    for moves, x, o in positions:
        start = game_at(layout, moves)
        mine, theirs = (x, o) if start.to_move == 0 else (o, x)
        best, steps = int(solver.optimal_bits_from_marks(x, o)), trace(layout, mine, theirs)
        optimal.append(best)
        traces.append(steps)
        starts.append(start)
        game = start.copy()
        for thought in steps if mode == "two_pass" else ():
            games.append(game.copy())
            targets.append(_one_hot_bits(1 << thought, layout.action_size))
            is_move.append(False)
            game.think(thought)
        games.append(game)
        targets.append(_one_hot_bits(best, layout.action_size))
        is_move.append(True)
    inputs = encode(games, tokens)
    if mode == "one_pass":  # one pass: the moves only, the thoughts masked out
        inputs["legal"][:, layout.n_cells:] = False
    return ProbeData(inputs, th.as_tensor(np.stack(targets)), th.as_tensor(is_move), optimal, traces, starts)


def _one_hot_bits(bits: int, size: int) -> np.ndarray:
    return (bits >> np.arange(size)) & 1 == 1


# ---------------------------------------------------------------------------------------------- network
class ProbeNet(nn.Module):
    """The MaskablePPO actor of ``arch`` at ``size``: the features extractor of :mod:`baselines.policies`
    (SB3's FlattenExtractor for ``mlp``), its hidden Tanh layers, a linear head over all ``A`` actions."""

    def __init__(self, layout: Layout, arch: str, size: str) -> None:
        super().__init__()
        if arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {arch!r}")
        if size not in SIZES:
            raise ValueError(f"size must be one of {SIZES}, got {size!r}")
        self.tokens = arch != "mlp"
        spec = ARCH_SIZES[arch][size]
        if self.tokens:
            self.extractor = EXTRACTORS[arch](layout.observation_space("tokens"), **spec["extractor"])
        else:
            self.extractor = FlattenExtractor(layout.observation_space("flat"))
        layers: list[nn.Module] = []
        width = self.extractor.features_dim
        for hidden in spec["hidden"]:
            layers += [nn.Linear(width, hidden), nn.Tanh()]  # Tanh: SB3's default for the PPO heads
            width = hidden
        self.hidden = nn.Sequential(*layers)
        self.head = nn.Linear(width, layout.action_size)

    def forward(self, inputs: dict[str, th.Tensor]) -> th.Tensor:
        """Logits ``(B, A)``, illegal actions at -inf."""
        features = self.extractor(inputs if self.tokens else inputs["observation"])
        logits = self.head(self.hidden(features))
        return logits.masked_fill(~inputs["legal"], float("-inf"))


def set_loss(logits: th.Tensor, targets: th.Tensor) -> th.Tensor:
    """Mean of ``-log sum_{a in target} softmax(logits)_a``: any optimal action may take the probability."""
    return (th.logsumexp(logits, dim=1) - th.logsumexp(logits.masked_fill(~targets, float("-inf")), dim=1)).mean()


def _rows(inputs: dict[str, th.Tensor], index: th.Tensor) -> dict[str, th.Tensor]:
    return {key: value[index] for key, value in inputs.items()}


def fit(net: nn.Module, data: ProbeData, epochs: int, batch_size: int, learning_rate: float, seed: int) -> float:
    """Train ``net`` on every example of ``data`` (Adam, shuffled minibatches, cosine-decayed learning rate);
    return the last epoch's mean loss."""
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}")
    optimizer = th.optim.Adam(net.parameters(), lr=learning_rate)
    total = len(data.targets)
    steps_per_epoch = math.ceil(total / batch_size)
    schedule = th.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(epochs * steps_per_epoch, 1))
    generator = th.Generator().manual_seed(seed)
    last = float("nan")
    for _ in range(epochs):
        order, losses = th.randperm(total, generator=generator), []
        for start in range(0, total, batch_size):
            index = order[start:start + batch_size]
            loss = set_loss(net(_rows(data.inputs, index)), data.targets[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
        last = float(np.mean(losses))
    return last


@th.no_grad()
def rollout(net: ProbeNet, layout: Layout, starts: Sequence[Game], think: bool) -> tuple[list[list[int]], list[int]]:
    """The network's own turn from each start, greedy: ``(its thoughts, its move)`` per game. With ``think`` it
    thinks until it moves (once the budget is spent only moves are legal, so every turn ends within
    ``max_thoughts + 1`` steps); without, thoughts are masked out and it moves at once."""
    games = [game.copy() for game in starts]
    thoughts: list[list[int]] = [[] for _ in games]
    moves = [-1] * len(games)
    active = list(range(len(games)))
    while active:
        inputs = encode([games[i] for i in active], net.tokens)
        if not think:
            inputs["legal"][:, layout.n_cells:] = False
        actions = net(inputs).argmax(dim=1).tolist()
        still = []
        for i, action in zip(active, actions):
            if action < layout.n_cells:
                moves[i] = action
            else:
                games[i].think(action)
                thoughts[i].append(action)
                still.append(i)
        active = still
    return thoughts, moves


def evaluate(net: ProbeNet, layout: Layout, data: ProbeData, mode: str) -> dict[str, Any]:
    """``accuracy``: the fraction of positions whose (own-rollout) move is optimal; for ``two_pass`` also
    ``trace_reproduction`` (its thoughts equal the trace exactly), ``thought_accuracy`` (teacher-forced
    thought steps whose argmax is the trace's) and ``teacher_forced_accuracy`` (the move after the teacher's
    thoughts)."""
    net.eval()
    thoughts, moves = rollout(net, layout, data.starts, think=mode == "two_pass")
    net.train()
    result: dict[str, Any] = {"accuracy": float(np.mean([best >> move & 1 for best, move in zip(data.optimal, moves)]))}
    if mode == "two_pass":
        with th.no_grad():
            hits = net(data.inputs).argmax(dim=1).unsqueeze(1)
            hits = data.targets.gather(1, hits).squeeze(1)
        result["trace_reproduction"] = float(np.mean([own == want for own, want in zip(thoughts, data.traces)]))
        result["thought_accuracy"] = float(hits[~data.is_move].float().mean())
        result["teacher_forced_accuracy"] = float(hits[data.is_move].float().mean())
        result["mean_thoughts"] = float(np.mean([len(own) for own in thoughts]))
    return result


def probe_one(layout: Layout, data: ProbeData, arch: str, size: str, mode: str, seed: int,
              train: dict[str, Any]) -> dict[str, Any]:
    """Train and judge one network; its JSON record."""
    th.manual_seed(seed)
    net = ProbeNet(layout, arch, size)
    began = time.perf_counter()
    loss = fit(net, data, int(train["epochs"]), int(train["batch_size"]), float(train["learning_rate"]), seed)
    record = {"schema": RECORD_SCHEMA, "arch": arch, "size": size, "mode": mode, "seed": seed,
              "parameters": count_parameters(net), "positions": len(data.starts), "examples": len(data.targets),
              "final_loss": loss, **evaluate(net, layout, data, mode)}
    record["seconds"] = round(time.perf_counter() - began, 2)
    return record


# ---------------------------------------------------------------------------------------------- driver
def load_probe_hyperparams(path: Path | str = PROBE_YAML, quick: bool = False) -> dict[str, Any]:
    """The probe's settings of ``path`` (``probe.yml``), with its ``quick`` section merged on top if ``quick``."""
    with open(path, encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)
    if not isinstance(spec, dict) or "config" not in spec or "train" not in spec:
        raise ValueError(f"path must be a probe YAML with 'config' and 'train' sections, got {path!s}")
    params = {key: value for key, value in spec.items() if key != "quick"}
    params.setdefault("max_positions", None)
    if quick:
        overrides = dict(spec.get("quick", {}))
        params["train"] = {**params["train"], **overrides.pop("train", {})}
        params.update(overrides)
    return params


def probe_config(settings: dict[str, Any]) -> Config:
    """The :class:`Config` of the YAML ``config`` section (a 3x3 game unless it says otherwise)."""
    settings = dict(settings)
    if "channels" in settings:
        settings["channels"] = tuple(settings["channels"])
    return Config(**settings)


def subset(positions: list[Position], max_positions: int | None) -> list[Position]:
    """Every ``k``-th position, ``k = ceil(len / max_positions)``, so all move counts stay represented
    (all of them when ``max_positions`` is None)."""
    if max_positions is None:
        return positions
    if isinstance(max_positions, bool) or not isinstance(max_positions, int) or max_positions < 1:
        raise ValueError(f"max_positions must be None or an int >= 1, got {max_positions!r}")
    return positions[::math.ceil(len(positions) / max_positions)]


def _check_choices(params: dict[str, Any]) -> None:
    for key, allowed in (("archs", ARCHS), ("sizes", SIZES), ("modes", MODES)):
        bad = [name for name in params[key] if name not in allowed]
        if bad:
            raise ValueError(f"{key} must name only {allowed}, got {params[key]!r}")


def run_probe(params: dict[str, Any], log: Any = None) -> list[dict[str, Any]]:
    """One record per (arch, size, seed, mode) of ``params`` (:func:`load_probe_hyperparams`), in that order;
    ``log`` (e.g. ``print``) is called with a line per record."""
    _check_choices(params)
    layout = layout_for(probe_config(params["config"]))
    positions = subset(non_terminal_positions(layout.config.rows, layout.config.cols, layout.config.k),
                       params.get("max_positions"))
    cache: dict[tuple[str, bool], ProbeData] = {}  # the examples depend only on the mode and the encoding
    records, truncated = [], truncated_traces(layout, positions)
    for arch in params["archs"]:
        for size in params["sizes"]:
            for seed in params["seeds"]:
                for mode in params["modes"]:
                    key = (mode, arch != "mlp")
                    if key not in cache:
                        cache[key] = build_data(layout, positions, mode, tokens=arch != "mlp")
                    record = probe_one(layout, cache[key], arch, size, mode, int(seed), params["train"])
                    record["truncated_traces"] = truncated
                    records.append(record)
                    if log is not None:
                        log(json.dumps(record))
    return records


def truncated_traces(layout: Layout, positions: Sequence[Position]) -> int:
    """How many positions' full scripted trace is longer than ``max_thoughts`` (and so was cut)."""
    budget = layout.config.max_thoughts
    layout = layout_for(Config(**{**layout.config.as_dict(), "max_thoughts": layout.n_cells * 2}))
    count = 0
    for moves, x, o in positions:
        mine, theirs = (x, o) if len(moves) % 2 == 0 else (o, x)
        count += len(trace(layout, mine, theirs)) > budget
    return count


def _mean_sd(values: Sequence[float]) -> str:
    if not values:
        return "–"
    return f"{np.mean(values):.3f} ± {np.std(values, ddof=1) if len(values) > 1 else 0.0:.3f}"


def table(records: Sequence[dict[str, Any]]) -> str:
    """A markdown table: per arch and size, the parameters and the mean ± sd over seeds of the one-pass
    accuracy, the two-pass final-move accuracy (own thoughts) and its trace reproduction."""
    lines = ["| arch | size | parameters | one pass: move accuracy | two passes: move accuracy | "
             "two passes: trace reproduced | two passes: move after the teacher's trace |",
             "|---|---|---|---|---|---|---|"]
    keys = list(dict.fromkeys((r["arch"], r["size"]) for r in records))
    for arch, size in keys:
        mine = [r for r in records if (r["arch"], r["size"]) == (arch, size)]
        one = [r["accuracy"] for r in mine if r["mode"] == "one_pass"]
        two = [r for r in mine if r["mode"] == "two_pass"]
        lines.append(f"| {arch} | {size} | {mine[0]['parameters']} | {_mean_sd(one)} | "
                     f"{_mean_sd([r['accuracy'] for r in two])} | {_mean_sd([r['trace_reproduction'] for r in two])} | "
                     f"{_mean_sd([r['teacher_forced_accuracy'] for r in two])} |")
    return "\n".join(lines) + "\n"


def write_results(out: Path, params: dict[str, Any], records: list[dict[str, Any]], seconds: float) -> None:
    """``out/probe.json`` (the settings and every record) and ``out/README.md`` (the table)."""
    out.mkdir(parents=True, exist_ok=True)
    document = {"schema": RECORD_SCHEMA, "hyperparams": params, "seconds": round(seconds, 1), "records": records}
    (out / "probe.json").write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    positions, examples = records[0]["positions"], {r["mode"]: r["examples"] for r in records}
    readme = ["# The capacity probe", "",
              "Written by `python -m baselines.probe` (baselines/probe.py, settings in baselines/hyperparams/probe.yml).",
              f"{positions} non-terminal 3x3 positions (both players to move); examples: "
              f"{', '.join(f'{count} {mode}' for mode, count in examples.items())}; "
              f"seeds: {params['seeds']}; {params['train']['epochs']} epochs; {seconds:.0f} s in all.",
              "Accuracy: the fraction of positions whose argmax move is optimal (train = test: a capacity measure).",
              "Two passes: the network rolls out its own thoughts, then moves; *trace reproduced* is the fraction",
              "of positions whose thoughts equal the scripted trace exactly. Mean ± sd over seeds.", "", table(records)]
    (out / "README.md").write_text("\n".join(readme), encoding="utf-8")


def cmd_probe(args: argparse.Namespace) -> int:
    """Run the probe as ``args`` say, print a line per record and the table, write the results."""
    params = load_probe_hyperparams(args.hyperparams, quick=args.quick)
    for key in ("archs", "sizes", "modes", "seeds"):
        if getattr(args, key) is not None:
            params[key] = getattr(args, key)
    if args.epochs is not None:
        if args.epochs < 1:
            raise ValueError(f"--epochs must be >= 1, got {args.epochs}")
        params["train"] = {**params["train"], "epochs": args.epochs}
    th.set_num_threads(1)  # the probe's networks are small: threads only contend
    began = time.perf_counter()
    records = run_probe(params, log=print)
    seconds = time.perf_counter() - began
    write_results(args.out, params, records, seconds)
    print(table(records))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m baselines.probe [--out DIR] [--quick] [--seeds ...] [--archs ...] [--sizes ...] [--modes ...]
    [--epochs N] [--hyperparams FILE]`` (also ``python -m baselines probe`` and ``tttthought probe``)."""
    parser = argparse.ArgumentParser(prog="python -m baselines.probe", description=__doc__.splitlines()[0])
    add_probe_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return cmd_probe(args)
    except ValueError as err:
        parser.error(str(err))
        return 2


if __name__ == "__main__":
    sys.exit(main())
