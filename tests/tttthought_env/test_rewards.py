"""``tttthought_env.rewards``: the R(δx) judgements as pure functions, exact on hand-built positions and the
same on Python ints and on NumPy integer arrays (the single env and the vector env call the same code)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tttthought_env.rewards import (
    SHAPING_KINDS,
    int_popcount,
    oracle_reward,
    potential,
    prediction_reward,
    store_balance,
    thought_is_correct,
)


def mask(*cells: int) -> int:
    return sum(1 << c for c in cells)


ALL_9 = mask(*range(9))


def test_shaping_kinds():
    assert SHAPING_KINDS == ("oracle", "potential", "prediction", "world", "world_potential")


# --------------------------------------------------------------------------- hand-built positions


@pytest.mark.parametrize("optimal, arg, asserts_absent, correct", [
    # XX./OO./... with X to move: the optimal set is {2}.
    (mask(2), 2, False, True),    # propose 2 (or forget -2): 2 is optimal
    (mask(2), 5, False, False),   # propose 5: empty but not optimal
    (mask(2), 8, True, True),     # negate 8 (or forget +8): 8 is not optimal
    (mask(2), 2, True, False),    # negate 2
    (mask(2), 0, False, False),   # an occupied cell is never optimal
    (ALL_9, 4, False, True),      # the empty board: every move is optimal
    (ALL_9, 4, True, False),
    (0, 3, True, True),           # a finished position has no optimal move
])
def test_thought_is_correct(optimal, arg, asserts_absent, correct):
    assert bool(thought_is_correct(optimal, 1 << arg, asserts_absent)) is correct


@pytest.mark.parametrize("correct, scale, reward", [(True, 0.1, 0.1), (False, 0.1, -0.1), (True, 2.0, 2.0),
                                                     (False, 0.0, 0.0), (1, 0.5, 0.5), (0, 0.5, -0.5)])
def test_oracle_reward(correct, scale, reward):
    assert oracle_reward(correct, scale) == pytest.approx(reward)


@pytest.mark.parametrize("pos, neg, optimal, balance", [
    (0, 0, mask(2), 0),                      # empty store
    (mask(2), 0, mask(2), 1),                # +2 correct
    (mask(2, 5), 0, mask(2), 0),             # +5 incorrect
    (mask(2, 5), mask(8), mask(2), 1),       # -8 correct
    (mask(5), mask(8, 2), mask(2), -1),      # +5 wrong, -8 right, -2 wrong
    (mask(0, 1, 3, 4), 0, mask(2), -4),      # every occupied cell is wrong to assert
    (0, mask(0, 1, 3, 4, 5, 6, 7, 8), mask(2), 8),
    (mask(*range(9)), 0, ALL_9, 9),
    (0, mask(*range(9)), ALL_9, -9),
])
def test_store_balance_on_hand_built_stores(pos, neg, optimal, balance):
    assert store_balance(pos, neg, optimal, ALL_9, int_popcount) == balance


def test_potential_is_scale_times_balance_over_n():
    assert potential(1, 0.9, 9) == pytest.approx(0.1)
    assert potential(-3, 0.3, 9) == pytest.approx(-0.1)
    assert potential(0, 5.0, 16) == 0.0
    # Φ of the documented example, XX./OO./... and the store +2 +5 -8 -2 -> +5 -8 -2 after the flip.
    assert potential(store_balance(mask(5), mask(8, 2), mask(2), ALL_9, int_popcount), 0.9, 9) == pytest.approx(-0.1)


@pytest.mark.parametrize("pos, neg, cell, reward", [
    (mask(0), mask(1), 0, 0.1),     # the forecast held +0
    (mask(0), mask(1), 1, -0.1),    # it held -1
    (mask(0), mask(1), 3, 0.0),     # neither
    (0, 0, 4, 0.0),                 # an empty forecast
])
def test_prediction_reward(pos, neg, cell, reward):
    assert prediction_reward(pos, neg, 1 << cell, 0.1) == pytest.approx(reward)


def test_int_popcount():
    assert [int_popcount(b) for b in (0, 1, 0b1011, (1 << 64) - 1)] == [0, 1, 3, 64]


# --------------------------------------------------------------------------- ints and arrays agree


@st.composite
def positions(draw, max_cells: int) -> tuple[int, list[tuple[int, int, int, int, int, bool]]]:
    """A board size and a batch of (pos, neg, optimal, arg, cell, flag) with pos and neg disjoint."""
    n = draw(st.integers(1, max_cells))
    full = (1 << n) - 1
    rows = []
    for _ in range(draw(st.integers(1, 12))):
        pos = draw(st.integers(0, full))
        neg = draw(st.integers(0, full)) & ~pos
        rows.append((pos, neg, draw(st.integers(0, full)), draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1)),
                     draw(st.booleans())))
    return n, rows


def judge(pos, neg, optimal, arg_bit, cell_bit, flag, all_cells, popcount, scale=0.25, n=9):
    correct = thought_is_correct(optimal, arg_bit, flag)
    balance = store_balance(pos, neg, optimal, all_cells, popcount)
    return (correct, oracle_reward(correct, scale), balance, potential(balance, scale, n),
            prediction_reward(pos, neg, cell_bit, scale))


def signed_popcount(bits: np.ndarray) -> np.ndarray:
    """``np.bitwise_count`` gives uint8: a balance (correct - incorrect) needs a signed count."""
    return np.bitwise_count(bits).astype(np.int64)


@pytest.mark.parametrize("dtype, max_cells", [(np.int64, 63), (np.uint64, 64)])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_judgements_are_the_same_on_ints_and_on_arrays(dtype, max_cells, data):
    n, rows = data.draw(positions(max_cells))
    all_cells = (1 << n) - 1
    scalar = [judge(pos, neg, opt, 1 << arg, 1 << cell, flag, all_cells, int_popcount, n=n)
              for pos, neg, opt, arg, cell, flag in rows]
    columns = [np.array([row[i] for row in rows], dtype) for i in range(3)]
    arg_bits = np.array([1 << row[3] for row in rows], dtype)
    cell_bits = np.array([1 << row[4] for row in rows], dtype)
    flags = np.array([row[5] for row in rows], bool)
    vector = judge(*columns, arg_bits, cell_bits, flags, all_cells, signed_popcount, n=n)
    for name, got, expected in zip(("correct", "oracle", "balance", "potential", "prediction"), vector,
                                   zip(*scalar)):
        assert got.shape == (len(rows),), name
        np.testing.assert_array_equal(got, np.array(expected), err_msg=name)
    # The scalar results are Python numbers (the single env puts them in rewards and infos).
    correct, oracle, balance, phi, predicted = scalar[0]
    assert isinstance(balance, int) and isinstance(oracle, float) and isinstance(predicted, float)
    assert isinstance(phi, float)
