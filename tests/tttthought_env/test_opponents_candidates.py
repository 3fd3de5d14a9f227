"""The opponents' candidate functions on hand-built positions: the same answer on Python ints and on arrays."""

from __future__ import annotations

import numpy as np
import pytest

from tttthought_env.opponents import (
    cells_of,
    completing_cells,
    epsilon_candidates,
    heuristic_candidates,
    heuristic_rule,
    heuristic_tables,
    random_candidates,
)
from tttthought_env.core import board_from_string


def marks(text: str, rows: int = 3, cols: int = 3) -> tuple[int, int]:
    board = board_from_string(text, rows, cols)
    return (sum(1 << c for c in range(board.size) if board[c] == 1),
            sum(1 << c for c in range(board.size) if board[c] == 2))


def popcount_array(a: np.ndarray) -> np.ndarray:
    return np.array([bin(int(v) & (2**64 - 1)).count("1") for v in a])


# (board, rows, cols, k, the heuristic's candidate cells)
POSITIONS = [
    ("XX./OO./...", 3, 3, 3, (2,)),  # X to move wins on 2 before blocking 5
    ("XX./.O./...", 3, 3, 3, (2,)),  # O to move, no win: blocks 2
    ("X.X/.../X.X", 3, 3, 3, (1, 3, 4, 5, 7)),  # O to move, no win: five cells block an X line
    ("..../..../..../....", 4, 4, 3, (5, 6, 9, 10)),  # empty 4x4: the four centre cells
    ("X..../...../.....", 3, 5, 3, (7,)),  # 3x5: one centre cell
    ("......./......./.......", 3, 7, 3, (10,)),
    ("XO./.X./...", 3, 3, 3, (8,)),  # O to move must block the diagonal
    ("OX./X../...", 3, 3, 3, (4,)),  # X to move: centre
    ("XOX/.O./.X.", 3, 3, 3, (6, 8)),  # X to move: no win, no block, centre taken: the free corners
]


@pytest.mark.parametrize("text, rows, cols, k, want", POSITIONS)
def test_heuristic_candidates_on_ints_and_arrays(text, rows, cols, k, want) -> None:
    x, o = marks(text, rows, cols)
    tables = heuristic_tables(rows, cols, k)
    got = heuristic_candidates(x, o, tables)
    assert cells_of(got) == want
    for dtype in (np.int16, np.int32, np.int64):
        bits = np.dtype(dtype).itemsize * 8
        if rows * cols > bits:
            continue
        word = heuristic_tables(rows, cols, k, word_bits=bits)
        arr = heuristic_candidates(np.array([x, x]).astype(dtype), np.array([o, o]).astype(dtype), word,
                                   popcount_array)
        assert [int(v) & (2**bits - 1) for v in arr] == [got, got]


def test_heuristic_rule_with_the_mover_given() -> None:
    x, o = marks("XX./OO./...")
    tables = heuristic_tables(3, 3, 3)
    assert cells_of(heuristic_rule(x, o, tables)) == (2,)  # X wins
    assert cells_of(heuristic_rule(o, x, tables)) == (5,)  # O wins
    assert cells_of(completing_cells(x, o, tables.line_masks)) == (2,)
    assert completing_cells(x, x | o, tables.line_masks) == 0  # every line blocked


def test_full_board_has_no_candidates() -> None:
    x, o = marks("XOX/XOO/OXX")
    tables = heuristic_tables(3, 3, 3)
    assert heuristic_candidates(x, o, tables) == 0 and random_candidates(x, o, 511) == 0


def test_random_and_epsilon_candidates_on_ints_and_arrays() -> None:
    x, o = marks("X.O/.X./O..")
    free = random_candidates(x, o, 511)
    assert cells_of(free) == (1, 3, 5, 7, 8)
    assert epsilon_candidates(free, 1 << 8, True) == free and epsilon_candidates(free, 1 << 8, False) == 1 << 8
    xs, os_ = np.array([x, x], np.int16), np.array([o, o], np.int16)
    free_arr = random_candidates(xs, os_, 511)
    assert free_arr.dtype == np.int16 and free_arr.tolist() == [free, free]
    mixed = epsilon_candidates(free_arr, np.array([1 << 8, 1 << 8], np.int16), np.array([True, False]))
    assert mixed.dtype == np.int16 and mixed.tolist() == [free, 1 << 8]


def test_64_cell_boards_in_signed_words() -> None:
    """With word_bits=64 every mask fits int64 (the top cell is the sign bit) and arrays agree with ints."""
    tables_int = heuristic_tables(8, 8, 4)
    tables_word = heuristic_tables(8, 8, 4, word_bits=64)
    x = (1 << 63) | (1 << 62) | (1 << 61)  # X holds three cells of the bottom row's end
    o = (1 << 0) | (1 << 1) | (1 << 9)
    want = heuristic_candidates(x, o, tables_int)
    assert cells_of(want) == (60,)  # X to move completes cells 60..63
    signed = np.array([x - (1 << 64)], np.int64)
    got = heuristic_candidates(signed, np.array([o], np.int64), tables_word, popcount_array)
    assert int(got[0]) & (2**64 - 1) == want
