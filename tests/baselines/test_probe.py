"""The capacity probe (baselines/probe.py): the positions, the scripted trace, the examples, the loss, and a
quick run end to end."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import torch as th

from baselines.probe import (
    ProbeNet,
    build_data,
    evaluate,
    fit,
    load_probe_hyperparams,
    main,
    non_terminal_positions,
    probe_config,
    set_loss,
    subset,
    trace,
)
from tttthought_env.config import Config
from tttthought_env.layout import TOKEN_NEGATIVE, TOKEN_POSITIVE, layout_for

LINES = [(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6)]


def _layout(**overrides):
    return layout_for(probe_config({**load_probe_hyperparams()["config"], **overrides}))


def _bits(*cells: int) -> int:
    return sum(1 << c for c in cells)


def test_the_positions_are_every_non_terminal_board_by_brute_force():
    # Independently: a board with X's count equal to O's or one more, no line for either and a free cell is
    # reachable (no line ever formed on the way), and every reachable non-terminal position is such a board.
    expected = set()
    for board in itertools.product((0, 1, 2), repeat=9):
        x, o = board.count(1), board.count(2)
        lines = any(board[a] == board[b] == board[c] != 0 for a, b, c in LINES)
        if x - o in (0, 1) and not lines and 0 in board:
            expected.add((sum(1 << i for i, v in enumerate(board) if v == 1),
                          sum(1 << i for i, v in enumerate(board) if v == 2)))
    positions = non_terminal_positions()
    assert len(expected) == 4520
    assert {(x, o) for _, x, o in positions} == expected and len(positions) == len(expected)
    for moves, x, o in positions[::97]:  # the recorded move order reaches the position
        assert _bits(*moves[::2]) == x and _bits(*moves[1::2]) == o
    movers = {len(moves) % 2 for moves, _, _ in positions}
    assert movers == {0, 1}  # both players to move


def test_the_trace_is_the_spec_s():
    layout = _layout()
    propose, negate, marker = (layout.offset(channel) for channel in ("propose", "negate", "marker"))
    # X holds 0 1, O holds 3 4: X would win at 2, O at 5.
    assert trace(layout, _bits(0, 1), _bits(3, 4)) == [propose + 2, negate + 5]
    # Nothing to win or block: the marker.
    assert trace(layout, _bits(4), _bits(0)) == [marker]
    # Two wins of the mover (2 by 2-4-6, 8 by 6-7-8) ascending, then the block (2 by 0-1-2).
    mine, theirs = _bits(4, 6, 7), _bits(0, 1, 5)
    assert trace(layout, mine, theirs) == [propose + 2, propose + 8, negate + 2]
    # Cut to max_thoughts.
    assert trace(_layout(max_thoughts=1, memory_size=1), mine, theirs) == [propose + 2]


def test_two_pass_examples_see_the_teacher_s_thoughts_and_end_with_the_optimal_moves():
    layout = _layout()
    n = layout.n_cells
    position = ((0, 3, 1, 4), _bits(0, 1), _bits(3, 4))  # X to move: +2 then -5, then the move
    data = build_data(layout, [position], "two_pass", tokens=True)
    assert data.is_move.tolist() == [False, False, True]
    assert [int(row.nonzero()) for row in data.targets[:2]] == [layout.offset("propose") + 2, layout.offset("negate") + 5]
    assert data.targets[2].nonzero().flatten().tolist() == [2]  # winning now is the only optimal move
    tokens = data.inputs["tokens"]
    assert tokens[0, n:n + 4].abs().sum() == 0  # an empty store first
    assert tokens[1, n].tolist() == [TOKEN_POSITIVE, 2, 0]
    assert tokens[2, n:n + 2].tolist() == [[TOKEN_POSITIVE, 2, 1], [TOKEN_NEGATIVE, 5, 0]]
    assert tokens[:, -1, 1].tolist() == [4, 3, 2]  # the budget counts down
    one = build_data(layout, [position], "one_pass", tokens=False)
    assert len(one.targets) == 1 and not one.inputs["legal"][0, n:].any() and one.inputs["legal"][0, :n].sum() == 5


def test_the_set_loss_is_the_log_of_the_mass_on_the_optimal_set():
    logits = th.tensor([[0.0, 0.0, 0.0, float("-inf")]])
    targets = th.tensor([[True, True, False, False]])
    assert math.isclose(set_loss(logits, targets).item(), -math.log(2 / 3), rel_tol=1e-6)


def test_a_big_enough_network_fits_a_small_subset_exactly():
    layout = _layout()
    positions = subset(non_terminal_positions(), 40)
    th.manual_seed(0)
    one = build_data(layout, positions, "one_pass", tokens=False)
    net = ProbeNet(layout, "mlp", "default")
    fit(net, one, epochs=150, batch_size=64, learning_rate=0.01, seed=0)
    assert evaluate(net, layout, one, "one_pass")["accuracy"] == 1.0
    two = build_data(layout, positions, "two_pass", tokens=False)
    net = ProbeNet(layout, "mlp", "default")
    fit(net, two, epochs=150, batch_size=64, learning_rate=0.01, seed=0)
    result = evaluate(net, layout, two, "two_pass")
    assert result["trace_reproduction"] == 1.0 and result["accuracy"] == 1.0


def test_quick_run_writes_a_record_per_run_and_the_table(tmp_path):
    assert main(["--quick", "--out", str(tmp_path), "--archs", "deepsets", "transformer", "--epochs", "3"]) == 0
    document = json.loads((tmp_path / "probe.json").read_text())
    records = document["records"]
    assert [(r["arch"], r["mode"]) for r in records] == [("deepsets", "one_pass"), ("deepsets", "two_pass"),
                                                         ("transformer", "one_pass"), ("transformer", "two_pass")]
    assert {r["size"] for r in records} == {"tiny"} and {r["positions"] for r in records} == {283}
    for record in records:
        assert 0.0 <= record["accuracy"] <= 1.0 and record["truncated_traces"] == 0
        assert ("trace_reproduction" in record) == (record["mode"] == "two_pass")
    readme = (tmp_path / "README.md").read_text()
    assert "| deepsets | tiny |" in readme and "| transformer | tiny |" in readme


def test_bad_arguments_name_the_argument(tmp_path):
    layout = _layout()
    with pytest.raises(ValueError, match="mode must be one of"):
        build_data(layout, non_terminal_positions()[:2], "three_pass", tokens=False)
    with pytest.raises(ValueError, match="max_positions must be"):
        subset(non_terminal_positions(), 0)
    with pytest.raises(ValueError, match="arch must be one of"):
        ProbeNet(layout, "rnn", "tiny")
    with pytest.raises(ValueError, match="epochs must be an int >= 1"):
        fit(ProbeNet(layout, "mlp", "tiny"), build_data(layout, non_terminal_positions()[:2], "one_pass", False),
            epochs=0, batch_size=4, learning_rate=0.01, seed=0)
    bad = tmp_path / "bad.yml"
    bad.write_text("seeds: [0]\n")
    with pytest.raises(ValueError, match="path must be a probe YAML"):
        load_probe_hyperparams(bad)
    with pytest.raises(SystemExit):
        main(["--epochs", "0", "--out", str(tmp_path)])


def test_the_probe_game_is_the_yaml_s():
    config = _layout().config
    assert config == Config(channels=("propose", "negate", "marker"), max_thoughts=4, memory_size=4, num_markers=1,
                            persist="turn")
    assert np.all(np.asarray([len(trace(_layout(), x, o)) for _, x, o in non_terminal_positions()[::50]]) >= 1)
