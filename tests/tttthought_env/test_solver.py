"""Tests of the exact solver: known game values, table size, consistency, symmetry, limits and input errors."""

from __future__ import annotations

import functools
import itertools
import pickle
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tttthought_env.core import WINNER_DRAW, WINNER_NONE, board_from_string, winner_of, winning_lines
from tttthought_env.solver import (
    ILLEGAL,
    UNREACHABLE,
    Solver,
    SolverLimitError,
    get_solver,
)


def bits_of(cells) -> int:
    return sum(1 << int(c) for c in cells)


def marks_of(board: np.ndarray) -> tuple[int, int]:
    return bits_of(np.flatnonzero(board == 1)), bits_of(np.flatnonzero(board == 2))


def play(choices: list[int], rows: int, cols: int, k: int) -> np.ndarray:
    """Board after legal moves picked by ``choices`` (index into the empty cells), stopping when the game ends."""
    board = np.zeros(rows * cols, dtype=np.int8)
    mover = 1
    for choice in choices:
        if winner_of(board, rows, cols, k) != WINNER_NONE:
            break
        empty = np.flatnonzero(board == 0)
        board[empty[choice % empty.size]] = mover
        mover = 3 - mover
    return board


move_choices = st.lists(st.integers(0, 63), max_size=16)


@functools.cache
def _reference_value(cells: tuple[int, ...], rows: int, cols: int, k: int) -> int:
    """Plain minimax on core.winner_of, independent of the solver's code, for cross-checking."""
    board = np.array(cells, dtype=np.int8)
    outcome = winner_of(board, rows, cols, k)
    if outcome == WINNER_DRAW:
        return 0
    if outcome != WINNER_NONE:
        return -1  # the previous mover made the line
    mover = 1 if np.count_nonzero(board == 1) == np.count_nonzero(board == 2) else 2
    best = -1
    for cell in np.flatnonzero(board == 0):
        child = list(cells)
        child[cell] = mover
        best = max(best, -_reference_value(tuple(child), rows, cols, k))
    return best


# ---------------------------------------------------------------------------------------------- 3x3 facts
def test_empty_3x3_is_a_draw_and_every_first_move_draws():
    solver = get_solver()
    empty = np.zeros(9, dtype=np.int8)
    assert solver.value(empty) == 0
    assert solver.move_values(empty).tolist() == [0] * 9
    assert solver.optimal_moves(empty).all()


def test_centre_then_edge_is_a_forced_win_for_x():
    solver = get_solver()
    board = board_from_string(".O./.X./...")
    assert solver.value(board) == 1
    # Every move but the one opposite O's edge keeps the win; 7 only draws.
    assert solver.move_values(board).tolist() == [1, ILLEGAL, 1, 1, ILLEGAL, 1, 1, 0, 1]


def test_centre_then_corner_is_a_draw():
    assert get_solver().value(board_from_string("O../.X./...")) == 0


def test_immediate_win_is_the_only_optimal_move():
    # X to move: 2 completes the top row; anything else lets O complete the middle row or only draws.
    board = board_from_string("XX./OO./...")
    solver = get_solver()
    assert solver.value(board) == 1
    assert np.flatnonzero(solver.optimal_moves(board)).tolist() == [2]
    assert solver.optimal_mask_bits(board) == 1 << 2


def test_forced_block_is_the_only_optimal_move():
    # O to move must take 2, which holds the draw; every other move loses.
    board = board_from_string("XX./.O./...")
    solver = get_solver()
    assert solver.value(board) == 0
    values = solver.move_values(board)
    assert values[2] == 0
    assert all(values[c] == -1 for c in (3, 5, 6, 7, 8))
    assert np.flatnonzero(solver.optimal_moves(board)).tolist() == [2]


@pytest.mark.parametrize(
    "text, value",
    [
        ("XXX/OO./...", -1),  # X just won, O to move
        ("XOX/XOO/OXX", 0),  # full, no line
        ("XXX/OOX/XOO", -1),  # X completed a line on the last cell
        ("XO./XO./X..", -1),  # X won down the left column
        ("OOO/XX./X..", -1),  # O won, X to move
    ],
)
def test_finished_boards(text, value):
    solver = get_solver()
    board = board_from_string(text)
    assert solver.value(board) == value
    assert solver.move_values(board).tolist() == [ILLEGAL] * 9
    assert not solver.optimal_moves(board).any()
    assert solver.optimal_mask_bits(board) == 0
    assert solver.optimal_bits_from_marks(*marks_of(board)) == 0


def test_3x3_has_5478_reachable_positions_and_validation_accepts_exactly_those():
    solver = get_solver()
    tables = solver.tables()
    assert int(tables["reachable"].sum()) == 5478
    accepted = 0
    for key in range(3 ** 9):
        try:
            solver.value_by_key(key)
        except ValueError:
            continue
        accepted += 1
    assert accepted == 5478


def test_complete_table_builds_fast():
    start = time.perf_counter()
    solver = Solver()  # a fresh instance, not the cached one
    assert solver.value(np.zeros(9, dtype=np.int8)) == 0
    assert time.perf_counter() - start < 1.0
    assert solver.positions_stored == 5478


def test_agrees_with_independent_minimax_on_sampled_positions():
    solver = get_solver()
    rng = np.random.default_rng(0)
    for _ in range(60):
        board = play(list(rng.integers(0, 64, size=int(rng.integers(3, 9)))), 3, 3, 3)
        assert solver.value(board) == _reference_value(tuple(board.tolist()), 3, 3, 3), board


# ------------------------------------------------------------------------------------------ other boards
def test_4x4_k3_is_a_first_player_win():
    assert get_solver(4, 4, 3).value(np.zeros(16, dtype=np.int8)) == 1


def test_4x4_k4_is_a_draw():
    assert get_solver(4, 4, 4).value(np.zeros(16, dtype=np.int8)) == 0


def test_3x3_k2_is_a_trivial_first_player_win():
    solver = get_solver(3, 3, 2)
    empty = np.zeros(9, dtype=np.int8)
    assert solver.value(empty) == 1
    assert solver.move_values(empty).tolist() == [1] * 9


@pytest.mark.parametrize("rows, cols, k", [(3, 3, 3), (3, 3, 2), (1, 6, 3), (2, 5, 3)])
def test_search_agrees_with_complete_table_on_every_position(rows, cols, k):
    table = Solver(rows, cols, k, complete_table=True)
    search = Solver(rows, cols, k, complete_table=False)
    n = rows * cols
    keys = np.flatnonzero(table.tables()["reachable"])
    for key in keys.tolist():
        digits = [(key // 3 ** i) % 3 for i in range(n)]
        x = bits_of(c for c in range(n) if digits[c] == 1)
        o = bits_of(c for c in range(n) if digits[c] == 2)
        assert search.value_by_key(key) == table.value_by_key(key), digits
        assert search.optimal_bits_from_marks(x, o) == table.optimal_bits_from_marks(x, o), digits
    assert search.positions_stored < table.positions_stored == len(keys)


def test_search_agrees_with_independent_minimax_on_3x4_k4_positions():
    solver = get_solver(3, 4, 4)
    rng = np.random.default_rng(1)
    for _ in range(25):
        board = play(list(rng.integers(0, 64, size=int(rng.integers(5, 12)))), 3, 4, 4)
        assert solver.value(board) == _reference_value(tuple(board.tolist()), 3, 4, 4), board


# ------------------------------------------------------------------------------- consistency and symmetry
@pytest.mark.parametrize("rows, cols, k", [(3, 3, 3), (3, 4, 4), (4, 4, 3)])
@settings(max_examples=40, deadline=None)
@given(choices=move_choices)
def test_value_is_the_best_move_value_and_the_fast_paths_agree(rows, cols, k, choices):
    solver = get_solver(rows, cols, k)
    board = play(choices, rows, cols, k)
    value = solver.value(board)
    move_values = solver.move_values(board)
    assert move_values.dtype == np.int8 and move_values.shape == (rows * cols,)
    assert np.all((move_values == ILLEGAL) == (board != 0)) or np.all(move_values == ILLEGAL)
    finished = winner_of(board, rows, cols, k) != WINNER_NONE
    if finished:
        assert np.all(move_values == ILLEGAL)
        expected_bits = 0
    else:
        assert value == move_values.max()
        expected_bits = bits_of(np.flatnonzero(move_values == value))
        # Each move value is minus the value of the position it leads to.
        for cell in np.flatnonzero(board == 0)[:4]:
            child = board.copy()
            child[cell] = 1 if np.count_nonzero(board == 1) == np.count_nonzero(board == 2) else 2
            assert move_values[cell] == -solver.value(child)
    key = solver.key(board)
    assert key == sum(int(v) * 3 ** i for i, v in enumerate(board))
    assert solver.value_by_key(key) == value
    assert solver.optimal_mask_bits(board) == expected_bits
    assert solver.optimal_bits_by_key(key) == expected_bits
    assert solver.optimal_bits_from_marks(*marks_of(board)) == expected_bits
    assert solver.optimal_moves(board).tolist() == [bool(expected_bits >> c & 1) for c in range(rows * cols)]


@pytest.mark.parametrize("rows, cols, k, count", [(3, 3, 3, 8), (4, 4, 4, 8), (3, 4, 3, 4), (2, 5, 3, 4)])
def test_symmetries_map_winning_lines_onto_winning_lines(rows, cols, k, count):
    solver = get_solver(rows, cols, k)
    assert len(solver.symmetries) == count
    lines = {frozenset(line) for line in winning_lines(rows, cols, k)}
    for perm in solver.symmetries:
        assert sorted(perm) == list(range(rows * cols))
        assert {frozenset(perm[c] for c in line) for line in lines} == lines


@pytest.mark.parametrize("rows, cols, k", [(3, 3, 3), (4, 4, 4)])
@settings(max_examples=20, deadline=None)
@given(choices=move_choices)
def test_values_are_invariant_under_board_symmetries(rows, cols, k, choices):
    solver = get_solver(rows, cols, k)
    board = play(choices, rows, cols, k)
    value = solver.value(board)
    move_values = solver.move_values(board)
    for perm in solver.symmetries:
        image = np.empty_like(board)
        image[list(perm)] = board  # the mark on cell c moves to perm[c]
        assert solver.value(image) == value
        image_values = np.empty_like(move_values)
        image_values[list(perm)] = move_values
        assert solver.move_values(image).tolist() == image_values.tolist()


# ---------------------------------------------------------------------------------------------- tables
def test_tables_match_the_methods_on_3x3():
    solver = get_solver()
    tables = solver.tables()
    assert tables is solver.tables()  # built once
    assert tables["value"].shape == (3 ** 9,) and tables["value"].dtype == np.int8
    assert tables["move_values"].shape == (3 ** 9, 9) and tables["move_values"].dtype == np.int8
    assert tables["optimal_bits"].dtype == np.uint16
    for array in tables.values():
        assert not array.flags.writeable
    reachable = np.flatnonzero(tables["reachable"])
    for key in reachable[::7]:
        key = int(key)
        board = np.array([(key // 3 ** i) % 3 for i in range(9)], dtype=np.int8)
        assert tables["value"][key] == solver.value(board)
        assert tables["move_values"][key].tolist() == solver.move_values(board).tolist()
        assert int(tables["optimal_bits"][key]) == solver.optimal_mask_bits(board)
    unreachable = np.flatnonzero(~tables["reachable"])
    assert np.all(tables["value"][unreachable] == UNREACHABLE)
    assert np.all(tables["move_values"][unreachable] == UNREACHABLE)
    assert np.all(tables["optimal_bits"][unreachable] == 0)


def test_tables_for_a_ten_cell_board():
    solver = get_solver(2, 5, 3)
    tables = solver.tables()
    assert tables["value"].shape == (3 ** 10,)
    empty = np.zeros(10, dtype=np.int8)
    assert tables["value"][0] == solver.value(empty) == _reference_value(tuple([0] * 10), 2, 5, 3)


def test_tables_refuse_big_boards():
    with pytest.raises(ValueError, match=r"tables\(\) needs rows\*cols <= 12"):
        get_solver(4, 4, 3).tables()


# ------------------------------------------------------------------------------------------------ limits
def test_huge_board_is_rejected_quickly():
    start = time.perf_counter()
    with pytest.raises(SolverLimitError, match="8x8 k=5"):
        get_solver(8, 8, 5)
    with pytest.raises(SolverLimitError, match="5x5 k=4"):
        get_solver(5, 5, 4)
    assert time.perf_counter() - start < 0.5


def test_position_budget_raises_instead_of_guessing():
    solver = Solver(4, 4, 4, max_positions=100)
    with pytest.raises(SolverLimitError, match=r"4x4 k=4.*max_positions=100"):
        solver.value(np.zeros(16, dtype=np.int8))
    assert isinstance(SolverLimitError("x"), ValueError)


# ------------------------------------------------------------------------------------------ caching, pickle
def test_get_solver_is_cached_and_pickles_small():
    solver = get_solver()
    assert get_solver(3, 3, 3) is solver
    assert get_solver(np.int64(3), 3, 3) is solver
    solver.tables()
    data = pickle.dumps(solver)
    assert len(data) < 300
    assert pickle.loads(data) is solver


def test_non_default_solver_pickles_with_its_options():
    solver = Solver(3, 3, 3, complete_table=False)
    clone = pickle.loads(pickle.dumps(solver))
    assert clone is not get_solver() and clone.value(board_from_string(".O./.X./...")) == 1
    assert not clone._use_complete


# ------------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        ({"rows": "3"}, TypeError, "rows must be an int >= 1, got '3'"),
        ({"cols": 0}, ValueError, "cols must be an int >= 1, got 0"),
        ({"k": True}, TypeError, "k must be an int"),
        ({"k": 4}, ValueError, r"k must be between 1 and max\(rows, cols\) = 3, got k=4"),
        ({"max_positions": 0}, ValueError, "max_positions must be an int >= 1"),
    ],
)
def test_get_solver_argument_errors(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        get_solver(**kwargs)


@pytest.mark.parametrize(
    "board, pattern",
    [
        (np.zeros(8, dtype=np.int8), r"shape \(9,\) or \(3, 3\)"),
        (np.zeros(9, dtype=np.float32), "must hold integers"),
        (np.array([3, 0, 0, 0, 0, 0, 0, 0, 0]), "got 3 at cell 0"),
        (np.array([-1, 0, 0, 0, 0, 0, 0, 0, 0]), "got -1 at cell 0"),
        (board_from_string("O../.../..."), "1 O marks; X moves first"),
        (board_from_string("XX./X../..."), "3 X marks and 0 O marks"),
        (board_from_string("XXX/OOO/..."), "X .the player to move. already has 3 in a row"),
        (board_from_string("XXX/OO./XOO/"), "X .the player to move. already has 3 in a row"),
    ],
)
def test_bad_boards(board, pattern):
    solver = get_solver()
    with pytest.raises(ValueError, match=pattern):
        solver.value(board)
    with pytest.raises(ValueError):
        solver.optimal_mask_bits(board)


def test_two_dimensional_and_list_boards_are_accepted():
    solver = get_solver()
    board = board_from_string(".O./.X./...")
    assert solver.value(board.reshape(3, 3)) == 1
    assert solver.value(board.tolist()) == 1
    assert solver.optimal_mask_bits(board.astype(np.int64)) == solver.optimal_mask_bits(board)


def test_bad_keys_and_marks():
    solver = get_solver()
    with pytest.raises(ValueError, match=r"key must be an int in \[0, 3\*\*9\)"):
        solver.value_by_key(3 ** 9)
    with pytest.raises(ValueError, match="key must be"):
        solver.optimal_bits_by_key(-1)
    with pytest.raises(ValueError, match="overlap on cells"):
        solver.optimal_bits_from_marks(0b1, 0b11)
    with pytest.raises(ValueError, match=r"x_mask must be a bitboard in \[0, 2\*\*9\)"):
        solver.optimal_bits_from_marks(1 << 9, 0)
    with pytest.raises(TypeError, match="o_mask must be an int bitboard"):
        solver.optimal_bits_from_marks(0, 1.0)
    with pytest.raises(ValueError, match="1 O marks"):
        solver.optimal_bits_from_marks(0, 0b1)


def test_search_mode_rejects_bad_positions_too():
    solver = get_solver(4, 4, 3)
    with pytest.raises(ValueError, match="X moves first"):
        solver.optimal_bits_from_marks(0, 1)
    with pytest.raises(ValueError, match="already has 3 in a row"):
        solver.value(board_from_string("XXX./OOO./X.../....", 4, 4))
    # Two disjoint X lines: no single last move made both, so no game reaches this.
    with pytest.raises(ValueError, match="X has 3-in-a-row lines that no single last move completes"):
        solver.value(board_from_string("XXX./OO../XXX./OO.O", 4, 4))


def test_every_position_reachable_from_random_play_is_accepted():
    solver = get_solver()
    for first, second in itertools.product(range(9), repeat=2):
        if first != second:
            board = np.zeros(9, dtype=np.int8)
            board[first], board[second] = 1, 2
            assert solver.value(board) in (-1, 0, 1)
