"""``tttthought_env.layout``: action blocks, the codec, action checks, observation slots and winning lines."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from gymnasium import spaces
from hypothesis import given, settings
from hypothesis import strategies as st

from tttthought_env.config import CHANNELS, Config
from tttthought_env.layout import ACTION_KINDS, Layout, layout_for, winning_lines


def ref_lines(rows: int, cols: int, k: int) -> set[frozenset[int]]:
    """Every set of k cells in a straight line (row, column, both diagonals), by brute force."""
    out = set()
    for r in range(rows):
        for c in range(cols):
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                cells = [(r + i * dr, c + i * dc) for i in range(k)]
                if all(0 <= rr < rows and 0 <= cc < cols for rr, cc in cells):
                    out.add(frozenset(rr * cols + cc for rr, cc in cells))
    return out


# --------------------------------------------------------------------------- action blocks and the codec


@pytest.mark.parametrize("channels, num_markers, size", [
    ((), 2, 9),
    (("propose",), 2, 18),
    (("negate",), 2, 18),
    (("forget",), 2, 18),
    (("marker",), 2, 11),
    (("marker",), 5, 14),
    (("propose", "negate"), 2, 27),
    (CHANNELS, 2, 38),
])
def test_action_size_has_one_block_per_channel(channels, num_markers, size):
    layout = layout_for(Config(channels=channels, num_markers=num_markers))
    assert layout.action_size == size == len(layout.decode)
    n_markers = num_markers if "marker" in channels else 0
    assert layout.marker_slots == n_markers
    assert layout.obs_size == 4 * 9 + n_markers + 2


def test_channels_order_is_canonical():
    a = layout_for(Config(channels=("marker", "propose")))
    b = layout_for(Config(channels=("propose", "marker")))
    assert a.config == b.config and a is b  # one shared layout per config
    assert a.decode == b.decode
    assert {channel: a.offset(channel) for channel in a.blocks} == {"move": 0, "propose": 9, "marker": 18}
    assert a.blocks == {"move": (0, 9), "propose": (9, 9), "marker": (18, 2)}
    assert a.thought_offsets == (("propose", 9), ("marker", 18))


def test_full_layout_decode_and_encode():
    layout = layout_for(Config())
    expected = {0: ("move", 0), 8: ("move", 8), 9: ("propose", 0), 13: ("propose", 4), 18: ("negate", 0),
                26: ("negate", 8), 27: ("forget", 0), 35: ("forget", 8), 36: ("marker", 0), 37: ("marker", 1)}
    for a, pair in expected.items():
        assert layout.decode[a] == pair
        assert layout.encode_action(*pair) == a
    for a in range(layout.action_size):
        assert layout.encode_action(*layout.decode[a]) == a
    assert {channel for channel, _ in layout.decode} == set(ACTION_KINDS)
    assert ACTION_KINDS == ("move", "propose", "negate", "forget", "marker")


def test_layout_skips_channels_that_are_off():
    layout = layout_for(Config(channels=("negate", "marker"), num_markers=3))
    assert layout.decode[9] == ("negate", 0)
    assert layout.decode[18] == ("marker", 0)
    assert layout.decode[20] == ("marker", 2)
    with pytest.raises(ValueError, match=r"channel must be one of .*'move'.*'negate'.*'marker'.*'propose'"):
        layout.encode_action("propose", 0)


def test_blocks_exist_at_max_thoughts_zero():
    """docs/spec.md: with max_thoughts=0 the thought blocks still exist (always masked)."""
    layout = layout_for(Config(max_thoughts=0))
    assert layout.action_size == 38 and layout.max_episode_moves_and_thoughts == 9


@settings(max_examples=100, deadline=None)
@given(rows=st.integers(1, 8), cols=st.integers(1, 8), data=st.data())
def test_blocks_follow_the_fixed_order_on_any_config(rows, cols, data):
    channels = data.draw(st.lists(st.sampled_from(CHANNELS), unique=True))
    num_markers = data.draw(st.integers(1, 5))
    layout = Layout(Config(rows=rows, cols=cols, k=1, channels=channels, num_markers=num_markers))
    n = rows * cols
    expected = [("move", c) for c in range(n)]
    for channel in CHANNELS:
        if channel in channels:
            expected += [(channel, i) for i in range(num_markers if channel == "marker" else n)]
    assert list(layout.decode) == expected
    assert layout.action_size == len(expected)
    for a, pair in enumerate(expected):
        assert layout.encode_action(*pair) == a


@pytest.mark.parametrize("channel, arg", [("think", 0), ("move", 9), ("move", -1), ("marker", 2), ("propose", 1.0),
                                          ("forget", True), ("negate", "3")])
def test_encode_action_rejects_bad_pairs(channel, arg):
    with pytest.raises(ValueError, match=r"channel|arg"):
        layout_for(Config()).encode_action(channel, arg)


@pytest.mark.parametrize("action, error", [(-1, ValueError), (38, ValueError), (10 ** 9, ValueError),
                                           (1.0, TypeError), (True, TypeError), (None, TypeError), ("3", TypeError),
                                           (np.float32(2), TypeError), (np.bool_(True), TypeError),
                                           (np.array([1]), TypeError), (np.int64(38), ValueError),
                                           (np.array(1.0), TypeError), ([1], TypeError)])
def test_check_action_rejects_non_ints_and_out_of_range(action, error):
    with pytest.raises(error, match=r"action must be an int in \[0, 38\)"):
        layout_for(Config()).check_action(action)


@pytest.mark.parametrize("action", [0, 37, np.int64(5), np.int8(3), np.array(7), np.uint8(9)])
def test_check_action_accepts_integer_types(action):
    a = layout_for(Config()).check_action(action)
    assert type(a) is int and a == int(action)


# --------------------------------------------------------------------------- observation slots and spaces


def test_observation_space_per_mode():
    layout = layout_for(Config())
    flat = layout.observation_space("flat")
    assert flat == spaces.Box(0.0, 1.0, (40,), np.float32)
    both = layout.observation_space("dict")
    assert isinstance(both, spaces.Dict) and set(both.spaces) == {"observation", "action_mask"}
    assert both["observation"] == flat
    assert both["action_mask"] == spaces.Box(0, 1, (38,), np.int8)


@pytest.mark.parametrize("kwargs, obs_size", [
    (dict(), 40), (dict(channels=()), 38), (dict(channels=("marker",), num_markers=3), 41),
    (dict(rows=8, cols=8, k=4), 4 * 64 + 2 + 2), (dict(rows=1, cols=1, k=1, channels=()), 6),
])
def test_obs_size_is_4n_plus_markers_plus_two(kwargs, obs_size):
    assert layout_for(Config(**kwargs)).obs_size == obs_size


@pytest.mark.parametrize("kwargs, bound", [
    (dict(), 36), (dict(channels=()), 9), (dict(channels=(), max_thoughts=7), 9), (dict(max_thoughts=0), 9),
    (dict(rows=4, cols=4, k=3), 64), (dict(channels=("propose",), max_thoughts=5), 54),
])
def test_episode_bound_is_n_times_thoughts_plus_one(kwargs, bound):
    assert layout_for(Config(**kwargs)).max_episode_moves_and_thoughts == bound


# --------------------------------------------------------------------------- winning lines


@pytest.mark.parametrize("rows, cols, k, count", [(3, 3, 3, 8), (4, 4, 3, 24), (5, 5, 4, 28), (4, 4, 4, 10),
                                                  (1, 5, 3, 3), (3, 3, 1, 9), (2, 5, 2, 4 * 2 + 5 + 4 + 4)])
def test_winning_lines_are_rows_columns_and_both_diagonals(rows, cols, k, count):
    lines = winning_lines(rows, cols, k)
    assert {frozenset(line) for line in lines} == ref_lines(rows, cols, k)
    assert len({frozenset(line) for line in lines}) == count


@settings(max_examples=60, deadline=None)
@given(rows=st.integers(1, 8), cols=st.integers(1, 8), data=st.data())
def test_line_masks_and_has_line_agree_with_brute_force(rows, cols, data):
    k = data.draw(st.integers(1, max(rows, cols)))
    layout = layout_for(Config(rows=rows, cols=cols, k=k))
    lines = ref_lines(rows, cols, k)
    n = rows * cols
    assert {frozenset(c for c in range(n) if m >> c & 1) for m in layout.line_masks} == lines
    assert layout.all_cells == (1 << n) - 1
    for c in range(n):
        assert {frozenset(i for i in range(n) if m >> i & 1) for m in layout.lines_through[c]} == \
            {line for line in lines if c in line}
    for _ in range(10):
        cells = data.draw(st.sets(st.integers(0, n - 1)))
        marks = sum(1 << c for c in cells)
        for c in cells:
            assert layout.has_line(marks, c) == any(c in line and line <= cells for line in lines)


def test_the_eight_lines_of_3x3():
    expected = {(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6)}
    assert {tuple(sorted(line)) for line in winning_lines(3, 3, 3)} == expected
    layout = layout_for(Config())
    for line in expected:
        marks = sum(1 << c for c in line)
        assert all(layout.has_line(marks, c) for c in line)
    for a, b in itertools.combinations(range(9), 2):
        assert not layout.has_line(1 << a | 1 << b, a)
