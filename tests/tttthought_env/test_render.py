"""Render modes of both envs: "ansi" text, "human" printing, "rgb_array" pictures."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tttthought_env import ThoughtTicTacToeEnv
from tttthought_env import render as render_module
from tttthought_env.pettingzoo import env as pz_env


def thought(env, channel, arg):
    return env.step(env.unwrapped.encode_action(channel, arg))


def board_rows(text: str, rows: int = 3) -> list[str]:
    lines = [line for line in text.splitlines() if "|" in line]
    assert len(lines) == rows, text
    return [re.sub(r"[\s|]", "", line) for line in lines]


def test_ansi_shows_board_and_store(lowest_empty_opponent):
    env = ThoughtTicTacToeEnv(render_mode="ansi", opponent=lowest_empty_opponent)
    env.reset(seed=0)
    text = env.render()
    assert isinstance(text, str)
    assert board_rows(text) == ["...", "...", "..."]
    for channel, arg in [("propose", 4), ("negate", 0), ("marker", 1)]:
        thought(env, channel, arg)
    text = env.render()
    x_line = next(line for line in text.splitlines() if line.startswith("X"))
    assert re.search(r"thoughts: \+4 -0 #1\b", x_line), text
    o_line = next(line for line in text.splitlines() if line.startswith("O"))
    assert "thoughts:" in o_line and "+4" not in o_line
    env.step(8)  # O answers 0
    text = env.render()
    assert board_rows(text) == ["O..", "...", "..X"]
    assert re.search(r"X.*thoughts: \+4 -0 #1", text)


def test_ansi_shows_the_result(lowest_empty_opponent):
    env = ThoughtTicTacToeEnv(render_mode="ansi", opponent=lowest_empty_opponent, channels=())
    env.reset(seed=0)
    for cell in (4, 1, 7):
        env.step(cell)
    text = env.render()
    assert board_rows(text) == ["OXO", ".X.", ".X."]
    assert "X wins" in text


def test_ansi_on_a_larger_board():
    env = ThoughtTicTacToeEnv(render_mode="ansi", rows=4, cols=5, k=3)
    env.reset(seed=0)
    env.step(7)
    rows = board_rows(env.render(), rows=4)
    assert all(len(row) == 5 for row in rows) and rows[1][2] == "X"


def test_human_prints_at_reset_and_step(capsys, lowest_empty_opponent):
    env = ThoughtTicTacToeEnv(render_mode="human", opponent=lowest_empty_opponent)
    env.reset(seed=0)
    first = capsys.readouterr().out
    assert "thoughts" in first and first.count("|") >= 6
    thought(env, "propose", 4)
    out = capsys.readouterr().out
    assert "+4" in out
    assert env.render() is None
    assert "+4" in capsys.readouterr().out


def test_rgb_array_is_an_image_that_follows_the_game(lowest_empty_opponent):
    env = ThoughtTicTacToeEnv(render_mode="rgb_array", opponent=lowest_empty_opponent)
    env.reset(seed=0)
    empty = env.render()
    assert isinstance(empty, np.ndarray) and empty.dtype == np.uint8
    assert empty.ndim == 3 and empty.shape[2] == 3 and empty.shape[0] > 20 and empty.shape[1] > 20

    def has(img, colour):
        return bool(np.all(img == colour, axis=-1).any())

    assert not has(empty, render_module.ASSERTED) and not has(empty, render_module.NEGATED)
    thought(env, "propose", 4)
    proposed = env.render()
    assert proposed.shape == empty.shape and has(proposed, render_module.ASSERTED)
    thought(env, "negate", 4)
    negated = env.render()
    assert has(negated, render_module.NEGATED) and not has(negated, render_module.ASSERTED)
    env.step(4)
    moved = env.render()
    assert moved.shape == empty.shape
    assert has(moved, render_module.X_COLOUR) and has(moved, render_module.O_COLOUR)
    assert not np.array_equal(moved, negated)


def test_rgb_array_shows_markers():
    env = ThoughtTicTacToeEnv(render_mode="rgb_array")
    env.reset(seed=0)
    before = env.render()
    thought(env, "marker", 1)
    after = env.render()
    assert np.all(after == render_module.MARKER, axis=-1).sum() > np.all(before == render_module.MARKER, axis=-1).sum()


@pytest.mark.parametrize("rows, cols", [(3, 3), (4, 4), (2, 5)])
def test_rgb_array_size_grows_with_the_board(rows, cols):
    env = ThoughtTicTacToeEnv(render_mode="rgb_array", rows=rows, cols=cols, k=2, channels=())
    env.reset(seed=0)
    img = env.render()
    assert img.shape[1] >= cols * render_module.CELL and img.shape[0] >= rows * render_module.CELL


def test_render_without_a_mode_warns_and_returns_none():
    env = ThoughtTicTacToeEnv()
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert env.render() is None


def test_pettingzoo_ansi_shows_both_private_stores():
    e = pz_env(render_mode="ansi")
    e.reset(seed=0)
    e.step(e.unwrapped.encode_action("propose", 4))
    e.step(4)
    e.step(e.unwrapped.encode_action("negate", 2))
    text = e.render()
    lines = text.splitlines()
    x_line = next(line for line in lines if line.startswith("X"))
    o_line = next(line for line in lines if line.startswith("O"))
    assert "player_0" in x_line and re.search(r"thoughts: \+4\b", x_line)
    assert "player_1" in o_line and re.search(r"thoughts: -2\b", o_line)
    assert board_rows(text) == ["...", ".X.", "..."]


def test_pettingzoo_rgb_array_and_human(capsys):
    e = pz_env(render_mode="rgb_array")
    e.reset(seed=0)
    img = e.render()
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    h = pz_env(render_mode="human")
    h.reset(seed=0)
    h.step(0)
    assert h.render() is None
    assert "X" in capsys.readouterr().out


def test_board_string_layout():
    board = np.array([1, 0, 2, 0, 1, 0, 2, 0, 1], np.int8)
    text = render_module.board_string(board, 3, 3)
    assert board_rows(text) == ["X.O", ".X.", "O.X"]
    assert len(text.splitlines()) == 5  # three rows and two separators
