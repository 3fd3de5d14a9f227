"""Tests of the built-in opponents: strength, tie-breaking, epsilon mixing, validation, determinism, pickling."""

from __future__ import annotations

import copy
import pickle
from collections import Counter

import numpy as np
import pytest

from tttthought_env.core import WINNER_DRAW, WINNER_NONE, board_from_string, winner_of
from tttthought_env.opponents import (
    OPPONENTS,
    EpsilonOpponent,
    HeuristicOpponent,
    MinimaxOpponent,
    check_opponent_move,
    make_opponent,
    RandomOpponent,
    marks_of,
    random_opponent,
)
from tttthought_env.solver import SolverLimitError, get_solver


def play_game(x_policy, o_policy, rng, rows=3, cols=3, k=3) -> int:
    """Winner code of one game (0 X, 1 O, WINNER_DRAW), checking every move is legal."""
    board = np.zeros(rows * cols, dtype=np.int8)
    view = board.view()
    view.flags.writeable = False  # opponents get a read-only board, as in the env
    policies = (x_policy, o_policy)
    for ply in range(rows * cols):
        cell = check_opponent_move(policies[ply % 2](view, rng), board)
        board[cell] = ply % 2 + 1
        outcome = winner_of(board, rows, cols, k)
        if outcome != WINNER_NONE:
            return outcome
    raise AssertionError("a full board must end the game")  # pragma: no cover


def read_only(text: str, rows: int = 3, cols: int = 3) -> np.ndarray:
    board = board_from_string(text, rows, cols)
    board.flags.writeable = False
    return board


def moves_over_seeds(opponent, board, seeds=range(300)) -> Counter:
    return Counter(opponent(board, np.random.default_rng(seed)) for seed in seeds)


# ------------------------------------------------------------------------------------------------ minimax
def test_minimax_never_loses_to_random():
    minimax = MinimaxOpponent()
    rng = np.random.default_rng(0)
    results = Counter()
    for game in range(200):
        if game % 2 == 0:
            results["x", play_game(minimax, random_opponent, rng)] += 1
        else:
            results["o", play_game(random_opponent, minimax, rng)] += 1
    assert results["x", 1] == 0 and results["o", 0] == 0, results
    assert results["x", 0] > 50  # and it actually beats a random player most of the time


def test_random_does_lose_to_a_fixed_strategy_sometimes():
    # Guards the harness above: a weak player does lose, so "never loses" is not vacuous.
    rng = np.random.default_rng(1)
    results = Counter(play_game(random_opponent, random_opponent, rng) for _ in range(100))
    assert results[0] > 0 and results[1] > 0


def test_minimax_against_itself_always_draws():
    minimax = MinimaxOpponent()
    rng = np.random.default_rng(2)
    assert all(play_game(minimax, minimax, rng) == WINNER_DRAW for _ in range(60))


def test_minimax_always_picks_an_optimal_move():
    solver = get_solver()
    minimax = MinimaxOpponent()
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(100):
        board = np.zeros(9, dtype=np.int8)
        for ply in range(9):
            if winner_of(board, 3, 3, 3) != WINNER_NONE:
                break
            cell = minimax(board, rng)
            assert solver.optimal_moves(board)[cell], (board, cell)
            checked += 1
            # Continue from a random move so that minimax also faces positions it would not reach itself.
            board[random_opponent(board, rng)] = ply % 2 + 1
    assert checked > 300


def test_minimax_breaks_ties_randomly_among_optimal_moves():
    minimax = MinimaxOpponent()
    empty = np.zeros(9, dtype=np.int8)
    assert set(moves_over_seeds(minimax, empty)) == set(range(9))  # all nine first moves draw
    board = read_only(".O./.X./...")  # X wins with any move but 7
    seen = set(moves_over_seeds(minimax, board))
    assert len(seen) > 1 and seen <= {0, 2, 3, 5, 6, 8}


def test_minimax_on_a_bigger_board_takes_the_win():
    minimax = MinimaxOpponent(4, 4, 3)
    board = read_only("XX../OO../..../....", 4, 4)
    solver = get_solver(4, 4, 3)
    for seed in range(20):
        assert solver.optimal_moves(board)[minimax(board, np.random.default_rng(seed))]


def test_minimax_refuses_a_finished_board_and_an_intractable_game():
    with pytest.raises(ValueError, match="finished board"):
        MinimaxOpponent()(read_only("XXX/OO./..."), np.random.default_rng(0))
    with pytest.raises(SolverLimitError, match="8x8 k=5"):
        MinimaxOpponent(8, 8, 5)


# ---------------------------------------------------------------------------------------------- heuristic
def test_heuristic_takes_a_win_before_blocking():
    heuristic = HeuristicOpponent()
    # X to move: 2 wins the top row; 5 would only block O.
    assert set(moves_over_seeds(heuristic, read_only("XX./OO./..."), range(50))) == {2}


def test_heuristic_blocks_an_immediate_loss():
    heuristic = HeuristicOpponent()
    # O to move, no win of its own: it must take 2.
    assert set(moves_over_seeds(heuristic, read_only("XX./.O./..."), range(50))) == {2}


def test_heuristic_chooses_among_several_wins():
    heuristic = HeuristicOpponent()
    # X to move wins at 5 (middle row) or 6 (left column); O's threat at 5 does not matter.
    board = read_only("XOO/XX./..O")
    assert set(moves_over_seeds(heuristic, board, range(100))) == {5, 6}


def test_heuristic_prefers_centre_then_corners():
    heuristic = HeuristicOpponent()
    assert set(moves_over_seeds(heuristic, np.zeros(9, dtype=np.int8), range(50))) == {4}
    assert set(moves_over_seeds(heuristic, read_only(".../.X./..."), range(200))) == {0, 2, 6, 8}
    # Centre and all corners taken, no win or block available: any remaining cell.
    board = read_only("XOX/.X./OXO")
    assert set(moves_over_seeds(heuristic, board, range(200))) <= {3, 5}


def test_heuristic_centre_on_even_boards():
    heuristic = HeuristicOpponent(4, 4, 3)
    assert heuristic.centre_cells == (5, 6, 9, 10)
    assert set(moves_over_seeds(heuristic, np.zeros(16, dtype=np.int8), range(200))) == {5, 6, 9, 10}
    assert HeuristicOpponent(3, 4, 3).centre_cells == (5, 6)
    assert HeuristicOpponent(3, 4, 3).corner_cells == (0, 3, 8, 11)


# ------------------------------------------------------------------------------------------------ epsilon
def test_epsilon_one_plays_uniformly_at_random():
    opponent = EpsilonOpponent(MinimaxOpponent(), 1.0)
    board = read_only("XX./OO./...")  # the only optimal move is 2
    counts = moves_over_seeds(opponent, board, range(2000))
    assert set(counts) == {2, 5, 6, 7, 8}
    for cell in (2, 5, 6, 7, 8):
        assert 300 < counts[cell] < 500, counts  # expected 400 each


def test_epsilon_zero_and_half():
    board = read_only("XX./OO./...")
    assert set(moves_over_seeds(EpsilonOpponent(MinimaxOpponent(), 0.0), board)) == {2}
    counts = moves_over_seeds(EpsilonOpponent(MinimaxOpponent(), 0.5), board, range(1000))
    assert 500 < counts[2] < 700  # 0.5 + 0.5 / 5 = 0.6 expected


def test_make_opponent_names_and_wrapping():
    assert OPPONENTS == ("random", "minimax", "heuristic")
    assert isinstance(make_opponent("random", rows=3, cols=3, k=3), RandomOpponent)
    assert isinstance(make_opponent("minimax", rows=3, cols=3, k=3), MinimaxOpponent)
    assert isinstance(make_opponent("heuristic", rows=4, cols=4, k=3), HeuristicOpponent)
    wrapped = make_opponent("minimax", rows=3, cols=3, k=3, epsilon=0.25)
    assert isinstance(wrapped, EpsilonOpponent) and wrapped.epsilon == 0.25
    assert isinstance(wrapped.base, MinimaxOpponent)

    def mine(board, rng):
        return int(np.flatnonzero(board == 0)[-1])

    assert make_opponent(mine, rows=3, cols=3, k=3).fn is mine  # wrapped in a CallableOpponent
    assert make_opponent(mine, rows=3, cols=3, k=3, epsilon=1).base.fn is mine


@pytest.mark.parametrize(
    "epsilon, error, pattern",
    [
        (1.5, ValueError, r"opponent_epsilon must be a real number in \[0, 1\], got 1.5"),
        (-0.1, ValueError, "opponent_epsilon must be a real number"),
        (float("nan"), ValueError, "opponent_epsilon"),
        ("0.1", TypeError, "opponent_epsilon must be a real number in \\[0, 1\\], got '0.1' of type str"),
        (True, TypeError, "opponent_epsilon"),
        (None, TypeError, "opponent_epsilon"),
    ],
)
def test_epsilon_validation(epsilon, error, pattern):
    with pytest.raises(error, match=pattern):
        make_opponent("random", rows=3, cols=3, k=3, epsilon=epsilon)


def test_epsilon_opponent_validation():
    with pytest.raises(ValueError, match=r"epsilon must be a real number in \[0, 1\], got 2.0"):
        EpsilonOpponent(random_opponent, 2.0)
    with pytest.raises(TypeError, match="base must be an opponent callable"):
        EpsilonOpponent("random", 0.5)


def test_make_opponent_errors():
    with pytest.raises(ValueError, match=r"opponent must be one of \('random', 'minimax', 'heuristic'\).*'alphabeta'"):
        make_opponent("alphabeta", rows=3, cols=3, k=3)
    with pytest.raises(TypeError, match="opponent must be one of .* got 42 of type int"):
        make_opponent(42, rows=3, cols=3, k=3)
    with pytest.raises(ValueError, match="k must be between 1 and max"):
        make_opponent("heuristic", rows=3, cols=3, k=5)
    with pytest.raises(SolverLimitError):
        make_opponent("minimax", rows=8, cols=8, k=5)


# ------------------------------------------------------------------------------------ determinism, pickling
ALL_OPPONENTS = {
    "random": random_opponent,
    "minimax": MinimaxOpponent(),
    "heuristic": HeuristicOpponent(),
    "epsilon": EpsilonOpponent(MinimaxOpponent(), 0.3),
    "epsilon-heuristic-4x4": EpsilonOpponent(HeuristicOpponent(4, 4, 3), 0.5),
}


def _sequence(opponent, seed: int, n: int = 9) -> list[int]:
    """Moves of a game the opponent plays against itself from one seeded rng."""
    rng = np.random.default_rng(seed)
    board = np.zeros(n, dtype=np.int8)
    moves = []
    rows = 4 if n == 16 else 3
    for ply in range(n):
        if winner_of(board, rows, rows, 3) != WINNER_NONE:
            break
        cell = opponent(board, rng)
        moves.append(cell)
        board[cell] = ply % 2 + 1
    return moves


@pytest.mark.parametrize("name", list(ALL_OPPONENTS))
def test_same_seed_gives_the_same_moves(name):
    opponent = ALL_OPPONENTS[name]
    n = 16 if "4x4" in name else 9
    runs = [_sequence(opponent, seed, n) for seed in range(20)]
    assert runs == [_sequence(opponent, seed, n) for seed in range(20)]
    assert all(isinstance(cell, int) for run in runs for cell in run)
    if name != "minimax":
        assert len({tuple(run) for run in runs}) > 1  # and different seeds do differ


@pytest.mark.parametrize("name", list(ALL_OPPONENTS))
def test_pickle_and_deepcopy_roundtrip(name):
    opponent = ALL_OPPONENTS[name]
    n = 16 if "4x4" in name else 9
    for clone in (pickle.loads(pickle.dumps(opponent)), copy.deepcopy(opponent)):
        assert type(clone) is type(opponent) or clone is opponent
        assert [_sequence(clone, seed, n) for seed in range(5)] == [_sequence(opponent, seed, n) for seed in range(5)]
    assert len(pickle.dumps(opponent)) < 2000  # no solver tables inside


# -------------------------------------------------------------------------------------- random, checking
def test_random_opponent_is_uniform_over_empty_cells():
    board = read_only("X.O/.X./O..")
    counts = moves_over_seeds(random_opponent, board, range(2500))
    assert set(counts) == {1, 3, 5, 7, 8}
    assert all(400 < count < 600 for count in counts.values()), counts


def test_opponents_refuse_a_full_board():
    full = read_only("XOX/XOO/OXX")
    x = sum(1 << c for c in range(9) if full[c] == 1)
    o = sum(1 << c for c in range(9) if full[c] == 2)
    for opponent in (random_opponent, HeuristicOpponent(), MinimaxOpponent(),
                     EpsilonOpponent(MinimaxOpponent(), 0.5), EpsilonOpponent(HeuristicOpponent(), 0.5)):
        rng = np.random.default_rng(0)
        with pytest.raises(ValueError):
            opponent(full, rng)
        with pytest.raises(ValueError):  # the bitmask path too
            opponent.reply(x, o, rng) if opponent.n_cells else opponent.reply_on(x, o, 9, rng)


def test_check_opponent_move():
    board = read_only("X.O/.../...")
    assert check_opponent_move(np.int64(4), board) == 4
    assert type(check_opponent_move(np.int64(4), board)) is int
    assert check_opponent_move(np.array(1), board) == 1
    with pytest.raises(ValueError, match="returned cell 0, which is occupied"):
        check_opponent_move(0, board)
    with pytest.raises(ValueError, match=r"must return an int cell in \[0, 9\) that is empty, got 9"):
        check_opponent_move(9, board)
    with pytest.raises(ValueError, match="got -1"):
        check_opponent_move(-1, board)
    with pytest.raises(ValueError, match="got 1.0 of type float"):
        check_opponent_move(1.0, board)
    with pytest.raises(ValueError, match="got True of type bool"):
        check_opponent_move(True, board)

    def sloppy(board, rng):
        return "4"

    with pytest.raises(ValueError, match="opponent 'sloppy' must return an int cell"):
        check_opponent_move(sloppy(board, None), board, sloppy)


@pytest.mark.parametrize("name", ["random", "minimax", "heuristic"])
@pytest.mark.parametrize("epsilon", [0.0, 0.5])
def test_reply_chooses_what_the_board_path_chooses(name, epsilon):
    """The envs call ``reply(x, o, rng)``; PettingZoo users call the opponent on a board: same cell, same draws."""
    opponent = make_opponent(name, rows=3, cols=3, k=3, epsilon=epsilon)
    rng = np.random.default_rng(7)
    for _ in range(60):
        board = np.zeros(9, np.int8)
        for ply in range(9):
            if winner_of(board, 3, 3, 3) != WINNER_NONE:
                break
            view = board.copy()
            view.flags.writeable = False
            state = rng.bit_generator.state
            by_board = opponent(view, rng)
            after_board = rng.bit_generator.state
            rng.bit_generator.state = state
            by_marks = opponent.reply(*marks_of(view), rng)
            assert by_marks == by_board and rng.bit_generator.state == after_board
            board[by_board if rng.random() < 0.5 else int(rng.choice(np.flatnonzero(board == 0)))] = ply % 2 + 1


def test_epsilon_over_a_callable_checks_its_moves_on_the_bitmask_path():
    def occupied_corner(board, rng):
        return 0

    opponent = make_opponent(occupied_corner, rows=3, cols=3, k=3, epsilon=1e-9)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="opponent 'occupied_corner' returned cell 0, which is occupied"):
        opponent.reply(1, 0, rng)  # X on cell 0
