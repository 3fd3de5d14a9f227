"""The pure core: Config validation, the action layout, every rule of the board and the thought store.

The property tests drive :class:`~tttthought_env.core.Game` and an independent reference model written
from the spec (``Ref`` below) with the same random legal action sequences and compare everything
observable: masks, observations of both players, stores, the winner.
"""

from __future__ import annotations

import itertools
import pickle
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tttthought_env.core import (
    CHANNELS,
    WINNER_DRAW,
    WINNER_NONE,
    Config,
    Game,
    board_from_string,
    player_to_move,
    rules_for,
    winner_of,
    winning_lines,
)

# --------------------------------------------------------------------------- reference model


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


class Ref:
    """The rules of the issue text, written plainly (lists and tuples, no bitboards, no incremental obs)."""

    def __init__(self, rows=3, cols=3, k=3, channels=CHANNELS, max_thoughts=3, memory_size=None, num_markers=2,
                 persist="game"):
        self.rows, self.cols, self.k = rows, cols, k
        self.n = n = rows * cols
        self.channels = set(channels)
        self.max_thoughts = max_thoughts
        self.memory_size = n if memory_size is None else memory_size
        self.num_markers = num_markers
        self.persist = persist
        self.layout = [("move", c) for c in range(n)]
        for channel in ("propose", "negate", "forget"):
            if channel in self.channels:
                self.layout += [(channel, p) for p in range(n)]
        if "marker" in self.channels:
            self.layout += [("marker", m) for m in range(num_markers)]
        self.lines = ref_lines(rows, cols, k)
        self.board = [0] * n
        self.stores: list[list[tuple[str, int]]] = [[], []]
        self.left = [max_thoughts, max_thoughts]
        self.to_move = 0
        self.winner = None  # None, 0, 1 or "draw"

    def legal(self, a: int) -> bool:
        if self.winner is not None:
            return False
        channel, x = self.layout[a]
        if channel == "move":
            return self.board[x] == 0
        if self.left[self.to_move] <= 0:
            return False
        store = self.stores[self.to_move]
        if channel == "propose":
            return ("+", x) not in store
        if channel == "negate":
            return ("-", x) not in store
        if channel == "forget":
            return ("+", x) in store or ("-", x) in store
        return True

    def mask(self, player: int) -> np.ndarray:
        if player != self.to_move:
            return np.zeros(len(self.layout), bool)
        return np.array([self.legal(a) for a in range(len(self.layout))], bool)

    def apply(self, a: int) -> None:
        assert self.legal(a)
        channel, x = self.layout[a]
        p = self.to_move
        store = self.stores[p]
        if channel == "move":
            self.board[x] = p + 1
            if self.persist == "turn":
                store.clear()
            self.left[p] = self.max_thoughts
            mine = {c for c in range(self.n) if self.board[c] == p + 1}
            if any(line <= mine for line in self.lines):
                self.winner = p
            elif all(self.board):
                self.winner = "draw"
            else:
                self.to_move = 1 - p
            return
        self.left[p] -= 1
        if channel == "propose":
            if ("-", x) in store:
                store.remove(("-", x))
            store.append(("+", x))
        elif channel == "negate":
            if ("+", x) in store:
                store.remove(("+", x))
            store.append(("-", x))
        elif channel == "forget":
            store.remove(("+", x) if ("+", x) in store else ("-", x))
        else:
            store.append(("#", x))
        while len(store) > self.memory_size:
            store.pop(0)  # the oldest entry goes

    def obs(self, p: int) -> np.ndarray:
        n = self.n
        markers = self.num_markers if "marker" in self.channels else 0
        v = np.zeros(4 * n + markers + 2, np.float32)
        for c in range(n):
            v[c] = self.board[c] == p + 1
            v[n + c] = self.board[c] == 2 - p
        store = self.stores[p]
        for sign, x in store:
            if sign == "+":
                v[2 * n + x] = 1
            elif sign == "-":
                v[3 * n + x] = 1
        for m in range(markers):
            v[4 * n + m] = np.float32(store.count(("#", m)) / self.memory_size)
        v[4 * n + markers] = np.float32(self.left[p] / max(self.max_thoughts, 1))
        v[4 * n + markers + 1] = np.float32(len(store) / self.memory_size)
        return v


def winner_code(ref: Ref) -> int:
    return {None: WINNER_NONE, "draw": WINNER_DRAW, 0: 0, 1: 1}[ref.winner]


def assert_same(game: Game, ref: Ref) -> None:
    assert game.winner == winner_code(ref)
    assert game.board.tolist() == ref.board
    if not game.done:
        assert game.to_move == ref.to_move
    for p in (0, 1):
        assert list(game.store_entries(p)) == ref.stores[p]
        assert len(game.stores[p]) <= ref.memory_size
        np.testing.assert_array_equal(game.observation(p), ref.obs(p), err_msg=f"observation of player {p}")
        assert game.observation(p).dtype == np.float32
        if not game.done:
            np.testing.assert_array_equal(game.legal_mask(p), ref.mask(p), err_msg=f"mask of player {p}")
        else:
            assert not game.legal_mask(p).any()
    mask = game.legal_mask()
    assert [game.is_legal(a) for a in range(len(mask))] == mask.tolist()


@st.composite
def configs(draw, max_side: int = 4) -> dict:
    rows = draw(st.integers(1, max_side))
    cols = draw(st.integers(1, max_side))
    n = rows * cols
    return dict(
        rows=rows,
        cols=cols,
        k=draw(st.integers(1, max(rows, cols))),
        channels=tuple(draw(st.lists(st.sampled_from(CHANNELS), unique=True, max_size=4))),
        max_thoughts=draw(st.integers(0, 4)),
        memory_size=draw(st.one_of(st.none(), st.integers(1, n + 2))),
        num_markers=draw(st.integers(1, 3)),
        persist=draw(st.sampled_from(("game", "turn"))),
    )


@settings(max_examples=300, deadline=None)
@given(cfg=configs(), rnd=st.randoms(use_true_random=False), think_bias=st.floats(0.0, 0.95))
def test_game_matches_reference_model_on_random_legal_play(cfg, rnd, think_bias):
    """Masks are exactly the legal set, stores never exceed capacity, obs follow the layout, games end."""
    rules = rules_for(Config(**cfg))
    game, ref = Game(rules), Ref(**cfg)
    assert rules.action_size == len(ref.layout)
    assert [rules.decode[a] for a in range(rules.action_size)] == ref.layout
    bound = rules.n_cells * ((cfg["max_thoughts"] if cfg["channels"] else 0) + 1)
    steps = 0
    while True:
        assert_same(game, ref)
        if ref.winner is not None:
            break
        legal = [a for a in range(len(ref.layout)) if ref.legal(a)]
        assert legal, "the acting player's mask is never all zero"
        thoughts = [a for a in legal if a >= ref.n]
        if thoughts and rnd.random() < think_bias:
            a = rnd.choice(thoughts)
        else:
            a = rnd.choice([a for a in legal if a < ref.n])
        game.step(a)
        ref.apply(a)
        steps += 1
        assert steps <= bound, "a game outlived N * (max_thoughts + 1) actions"


# --------------------------------------------------------------------------- Config


def test_config_defaults():
    cfg = Config()
    assert (cfg.rows, cfg.cols, cfg.k) == (3, 3, 3)
    assert cfg.channels == CHANNELS == ("propose", "negate", "forget", "marker")
    assert cfg.memory_size == 9  # N
    assert cfg.num_markers == 2
    assert cfg.persist == "game"
    assert Config(rows=4, cols=5, k=3).memory_size == 20


def test_channels_order_is_canonical():
    a = rules_for(Config(channels=("marker", "propose")))
    b = rules_for(Config(channels=("propose", "marker")))
    assert a.config == b.config
    assert a.decode == b.decode
    assert a.offsets == {"move": 0, "propose": 9, "marker": 18}
    assert Config(channels=["negate", "forget"]).channels == ("negate", "forget")


BAD_CONFIGS = [
    (dict(rows=0), ValueError, r"rows.*>= 1.*0"),
    (dict(rows=-2), ValueError, r"rows"),
    (dict(rows=2.5), TypeError, r"rows.*int"),
    (dict(rows="3"), TypeError, r"rows"),
    (dict(rows=True), TypeError, r"rows"),
    (dict(cols=0), ValueError, r"cols"),
    (dict(cols=None), TypeError, r"cols"),
    (dict(k=0), ValueError, r"k"),
    (dict(k=4), ValueError, r"k must be between 1 and max\(rows, cols\) = 3.*4"),
    (dict(rows=2, cols=5, k=6), ValueError, r"k must be between 1 and max\(rows, cols\) = 5"),
    (dict(rows=9, cols=9), ValueError, r"64"),
    (dict(channels="propose"), TypeError, r"channels"),
    (dict(channels=5), TypeError, r"channels"),
    (dict(channels=("think",)), ValueError, r"unknown channel 'think'.*propose.*negate.*forget.*marker"),
    (dict(channels=("propose", "Propose")), ValueError, r"channel"),
    (dict(channels=("propose", "propose")), ValueError, r"channels must not repeat"),
    (dict(max_thoughts=-1), ValueError, r"max_thoughts.*-1"),
    (dict(max_thoughts=1.0), TypeError, r"max_thoughts"),
    (dict(max_thoughts=None), TypeError, r"max_thoughts"),
    (dict(memory_size=0), ValueError, r"memory_size.*>= 1"),
    (dict(memory_size=-3), ValueError, r"memory_size"),
    (dict(memory_size=2.0), TypeError, r"memory_size"),
    (dict(num_markers=0), ValueError, r"num_markers.*marker"),
    (dict(num_markers=-1, channels=("propose",)), ValueError, r"num_markers"),
    (dict(num_markers=1.5), TypeError, r"num_markers"),
    (dict(persist="round"), ValueError, r"persist.*'game'.*'turn'.*'round'"),
    (dict(persist=None), ValueError, r"persist"),
]


@pytest.mark.parametrize("kwargs, error, pattern", BAD_CONFIGS, ids=[str(c[0]) for c in BAD_CONFIGS])
def test_bad_config_raises_naming_the_argument(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        Config(**kwargs)


@pytest.mark.parametrize("kwargs", [
    dict(num_markers=0, channels=("propose", "negate", "forget")),  # no marker channel: 0 markers is fine
    dict(channels=(), max_thoughts=0),
    dict(rows=1, cols=1, k=1),
    dict(rows=8, cols=8, k=5),
    dict(rows=2, cols=5, k=5),
    dict(memory_size=1),
    dict(max_thoughts=np.int64(2), memory_size=np.int32(4)),
])
def test_good_configs_are_accepted(kwargs):
    cfg = Config(**kwargs)
    assert type(cfg.max_thoughts) is int and type(cfg.memory_size) is int


# --------------------------------------------------------------------------- action layout


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
    rules = rules_for(Config(channels=channels, num_markers=num_markers))
    assert rules.action_size == size
    n_markers = num_markers if "marker" in channels else 0
    assert rules.obs_size == 4 * 9 + n_markers + 2


def test_full_layout_decode_and_encode():
    rules = rules_for(Config())
    expected = {0: ("move", 0), 8: ("move", 8), 9: ("propose", 0), 13: ("propose", 4), 18: ("negate", 0),
                26: ("negate", 8), 27: ("forget", 0), 35: ("forget", 8), 36: ("marker", 0), 37: ("marker", 1)}
    for a, pair in expected.items():
        assert rules.decode[a] == pair
        assert rules.encode_action(*pair) == a
    for a in range(rules.action_size):
        assert rules.encode_action(*rules.decode[a]) == a


def test_layout_skips_channels_that_are_off():
    rules = rules_for(Config(channels=("negate", "marker"), num_markers=3))
    assert rules.decode[9] == ("negate", 0)
    assert rules.decode[18] == ("marker", 0)
    assert rules.decode[20] == ("marker", 2)
    with pytest.raises(ValueError, match=r"channel must be one of .*'move'.*'negate'.*'marker'.*'propose'"):
        rules.encode_action("propose", 0)


@pytest.mark.parametrize("channel, arg", [("think", 0), ("move", 9), ("move", -1), ("marker", 2), ("propose", 1.0),
                                          ("forget", True), ("negate", "3")])
def test_encode_action_rejects_bad_pairs(channel, arg):
    with pytest.raises(ValueError, match=r"channel|arg"):
        rules_for(Config()).encode_action(channel, arg)


@pytest.mark.parametrize("action, error", [(-1, ValueError), (38, ValueError), (10 ** 9, ValueError),
                                           (1.0, TypeError), (True, TypeError), (None, TypeError), ("3", TypeError),
                                           (np.float32(2), TypeError), (np.bool_(True), TypeError),
                                           (np.array([1]), TypeError), (np.int64(38), ValueError)])
def test_check_action_rejects_non_ints_and_out_of_range(action, error):
    with pytest.raises(error, match=r"action must be an int in \[0, 38\)"):
        rules_for(Config()).check_action(action)


@pytest.mark.parametrize("action", [0, 37, np.int64(5), np.int8(3), np.array(7), np.uint8(9)])
def test_check_action_accepts_integer_types(action):
    a = rules_for(Config()).check_action(action)
    assert type(a) is int and a == int(action)


# --------------------------------------------------------------------------- board


def new_game(**kwargs) -> Game:
    return Game(rules_for(Config(**kwargs)))


def think(game: Game, channel: str, arg: int) -> None:
    a = game.rules.encode_action(channel, arg)
    assert game.is_legal(a), (channel, arg, game.illegal_reason(a))
    game.step(a)


def legal(game: Game, channel: str, arg: int) -> bool:
    a = game.rules.encode_action(channel, arg)
    assert bool(game.legal_mask()[a]) == game.is_legal(a)
    return game.is_legal(a)


def play(game: Game, cells) -> None:
    for c in cells:
        game.move(c)


@pytest.mark.parametrize("rows, cols, k, count", [(3, 3, 3, 8), (4, 4, 3, 24), (5, 5, 4, 28), (4, 4, 4, 10),
                                                  (1, 5, 3, 3), (3, 3, 1, 9), (2, 5, 2, 4 * 2 + 5 + 4 + 4)])
def test_winning_lines_are_rows_columns_and_both_diagonals(rows, cols, k, count):
    lines = winning_lines(rows, cols, k)
    assert {frozenset(line) for line in lines} == ref_lines(rows, cols, k)
    assert len({frozenset(line) for line in lines}) == count


def test_cells_are_row_major_and_x_moves_first():
    game = new_game(rows=3, cols=4)
    assert game.to_move == 0
    game.move(5)  # row 1, column 1
    assert game.board[5] == 1 and game.to_move == 1
    game.move(11)
    assert game.board[11] == 2 and game.to_move == 0
    obs_x, obs_o = game.observation(0), game.observation(1)
    assert obs_x[5] == 1 and obs_x[12 + 11] == 1 and obs_x[:12].sum() == 1
    assert obs_o[11] == 1 and obs_o[12 + 5] == 1 and obs_o[:12].sum() == 1


LINES_3X3 = [(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6)]


@pytest.mark.parametrize("line", LINES_3X3)
@pytest.mark.parametrize("winner", [0, 1])
def test_every_line_wins_3x3(line, winner):
    game = new_game()
    filler = [c for c in range(9) if c not in line]
    if winner == 0:
        moves = [line[0], filler[0], line[1], filler[1], line[2]]
    else:
        # X's three filler cells must not be a line themselves.
        xs = next(t for t in itertools.combinations(filler, 3) if set(t) not in [set(ln) for ln in LINES_3X3])
        moves = [xs[0], line[0], xs[1], line[1], xs[2], line[2]]
    for i, c in enumerate(moves):
        result = game.move(c)
        assert result == (WINNER_NONE if i < len(moves) - 1 else winner), f"move {i} of {moves}"
    assert game.winner == winner and game.done
    assert winner_of(game.board, 3, 3, 3) == winner


@pytest.mark.parametrize("rows, cols, k, cells", [
    (4, 4, 3, (1, 6, 11)),   # a diagonal off the main one
    (4, 4, 3, (4, 9, 14)),
    (4, 4, 3, (2, 5, 8)),    # anti-diagonal
    (4, 4, 3, (7, 10, 13)),
    (4, 4, 3, (12, 13, 14)),
    (5, 5, 4, (5, 11, 17, 23)),
    (5, 5, 4, (4, 8, 12, 16)),
    (5, 5, 4, (21, 22, 23, 24)),
    (2, 5, 5, (5, 6, 7, 8, 9)),
    (5, 1, 2, (3, 4)),
])
def test_lines_on_larger_boards_win(rows, cols, k, cells):
    game = new_game(rows=rows, cols=cols, k=k, channels=())
    lines = ref_lines(rows, cols, k)
    filler = [c for c in range(rows * cols) if c not in cells]
    o_cells = []
    for c in filler:  # O's cells: avoid giving O a line
        if len(o_cells) == len(cells) - 1:
            break
        if not any(line <= set(o_cells + [c]) for line in lines):
            o_cells.append(c)
    for i, c in enumerate(cells):
        assert game.move(c) == (WINNER_NONE if i < len(cells) - 1 else 0)
        if i < len(cells) - 1:
            assert game.move(o_cells[i]) == WINNER_NONE
    assert game.winner == 0


@pytest.mark.parametrize("rows, cols, k, cells", [
    (3, 3, 3, (2, 3, 4)),        # no wrap-around from one row to the next
    (3, 3, 3, (6, 7, 0)),
    (4, 4, 3, (3, 4, 5)),
    (4, 4, 3, (2, 7, 8)),       # anti-diagonal would wrap
    (4, 4, 3, (0, 5, 11)),      # not contiguous
    (5, 5, 4, (0, 1, 2)),       # only k - 1 in a row
])
def test_non_lines_do_not_win(rows, cols, k, cells):
    board = np.zeros(rows * cols, np.int8)
    board[list(cells)] = 1
    assert winner_of(board, rows, cols, k) == WINNER_NONE
    lines = ref_lines(rows, cols, k)
    game = new_game(rows=rows, cols=cols, k=k, channels=())
    o_cells: list[int] = []
    for c in cells:
        assert game.move(c) == WINNER_NONE
        reply = next(r for r in reversed(range(rows * cols))
                     if r not in cells and r not in o_cells and not any(ln <= set(o_cells + [r]) for ln in lines))
        o_cells.append(reply)
        assert game.move(reply) == WINNER_NONE
    assert not game.done


def test_k_equal_one_first_move_wins():
    game = new_game(k=1)
    assert game.move(7) == 0 and game.winner == 0 and game.done


def test_full_board_without_line_is_a_draw():
    game = new_game()
    play(game, (1, 0, 3, 2, 4, 5, 6, 7))
    assert not game.done
    assert game.move(8) == WINNER_DRAW
    assert game.winner == WINNER_DRAW and game.done
    assert not game.legal_mask(0).any() and not game.legal_mask(1).any()
    assert winner_of(game.board, 3, 3, 3) == WINNER_DRAW


def test_line_on_the_last_cell_is_a_win_not_a_draw():
    game = new_game()
    play(game, (0, 1, 2, 3, 4, 5, 7, 6))
    assert game.move(8) == 0 and game.winner == 0


def test_only_empty_cells_are_legal_moves_and_nothing_after_the_end():
    game = new_game()
    play(game, (4, 0))
    mask = game.legal_mask()
    assert mask[:9].tolist() == [False, True, True, True, False, True, True, True, True]
    assert not game.is_legal(4) and game.illegal_reason(4) == "cell 4 is occupied"
    play(game, (1, 3, 7))  # X wins 1-4-7
    assert game.done
    assert not game.is_legal(2) and game.illegal_reason(2) == "the game is over"
    assert not game.legal_mask().any()


# --------------------------------------------------------------------------- the thought store


def test_propose_appends_and_duplicate_propose_is_illegal():
    game = new_game(max_thoughts=9)
    think(game, "propose", 4)
    assert game.store_entries(0) == (("+", 4),)
    assert not legal(game, "propose", 4)
    assert game.illegal_reason(game.rules.encode_action("propose", 4)) == "+4 is already in the store"
    assert legal(game, "propose", 5) and legal(game, "negate", 4) and legal(game, "forget", 4)


def test_propose_over_negation_replaces_it_at_the_end():
    game = new_game(max_thoughts=9)
    think(game, "negate", 2)
    think(game, "propose", 7)
    think(game, "propose", 2)
    assert game.store_entries(0) == (("+", 7), ("+", 2))
    assert legal(game, "negate", 2) and not legal(game, "propose", 2)


def test_duplicate_negate_is_illegal_and_negate_flips_a_proposal():
    game = new_game(max_thoughts=9)
    think(game, "propose", 3)
    think(game, "propose", 5)
    think(game, "negate", 3)
    assert game.store_entries(0) == (("+", 5), ("-", 3))
    assert not legal(game, "negate", 3)
    assert game.illegal_reason(game.rules.encode_action("negate", 3)) == "-3 is already in the store"
    assert legal(game, "propose", 3)
    obs = game.observation()
    assert obs[18 + 3] == 0 and obs[27 + 3] == 1 and obs[18 + 5] == 1


def test_forget_needs_the_proposition_and_removes_only_it():
    game = new_game(max_thoughts=9)
    assert not any(legal(game, "forget", p) for p in range(9))
    assert game.illegal_reason(game.rules.encode_action("forget", 2)) == "neither +2 nor -2 is in the store"
    think(game, "propose", 1)
    think(game, "marker", 0)
    think(game, "negate", 2)
    think(game, "propose", 3)
    assert [legal(game, "forget", p) for p in range(9)] == [p in (1, 2, 3) for p in range(9)]
    think(game, "forget", 2)
    assert game.store_entries(0) == (("+", 1), ("#", 0), ("+", 3))
    think(game, "forget", 1)
    assert game.store_entries(0) == (("#", 0), ("+", 3))
    assert not legal(game, "forget", 1) and not legal(game, "forget", 2)
    obs = game.observation()
    assert obs[18:36].sum() == 1 and obs[18 + 3] == 1
    assert obs[-1] == np.float32(2 / 9)


def test_markers_may_repeat_and_are_counted():
    game = new_game(max_thoughts=9, num_markers=3)
    for m in (2, 2, 0, 2):
        think(game, "marker", m)
    assert game.store_entries(0) == (("#", 2), ("#", 2), ("#", 0), ("#", 2))
    assert all(legal(game, "marker", m) for m in range(3))
    obs = game.observation()
    rules = game.rules
    np.testing.assert_array_equal(obs[rules.obs_marker:rules.obs_marker + 3],
                                  np.float32([1 / 9, 0, 3 / 9]))
    assert obs[-1] == np.float32(4 / 9)


def test_eviction_drops_the_oldest_entry():
    game = new_game(memory_size=3, max_thoughts=20)
    think(game, "propose", 0)
    think(game, "negate", 1)
    think(game, "marker", 0)
    think(game, "propose", 2)  # +0 goes
    assert game.store_entries(0) == (("-", 1), ("#", 0), ("+", 2))
    assert legal(game, "propose", 0) and not legal(game, "forget", 0)
    assert game.observation()[18 + 0] == 0
    think(game, "marker", 1)  # -1 goes
    assert game.store_entries(0) == (("#", 0), ("+", 2), ("#", 1))
    assert legal(game, "negate", 1) and not legal(game, "forget", 1)
    assert game.observation()[27 + 1] == 0
    think(game, "negate", 2)  # flips +2: removes it first, so nothing is evicted
    assert game.store_entries(0) == (("#", 0), ("#", 1), ("-", 2))
    think(game, "propose", 4)  # #0 goes: its count drops to zero
    assert game.store_entries(0) == (("#", 1), ("-", 2), ("+", 4))
    obs = game.observation()
    rules = game.rules
    np.testing.assert_array_equal(obs[rules.obs_marker:rules.obs_marker + 2], np.float32([0, 1 / 3]))
    assert obs[-1] == 1.0


def test_propose_over_negation_never_evicts_when_full():
    game = new_game(memory_size=2, max_thoughts=9)
    think(game, "negate", 1)
    think(game, "propose", 2)
    think(game, "propose", 1)
    assert game.store_entries(0) == (("+", 2), ("+", 1))


def test_memory_size_one_keeps_only_the_newest_entry():
    game = new_game(memory_size=1, max_thoughts=9)
    think(game, "propose", 0)
    think(game, "marker", 1)
    assert game.store_entries(0) == (("#", 1),)
    think(game, "negate", 5)
    assert game.store_entries(0) == (("-", 5),)
    assert legal(game, "propose", 0) and legal(game, "forget", 5) and not legal(game, "forget", 0)
    obs = game.observation()
    assert obs[18:36].tolist() == [0.0] * 9 + [0.0] * 5 + [1.0] + [0.0] * 3
    assert obs[-1] == 1.0


def test_marker_counts_stay_exact_under_many_evictions():
    """Observation entries are count / memory_size exactly, never drifting outside [0, 1]."""
    game = new_game(memory_size=3, max_thoughts=10 ** 6, channels=("marker",))
    rng = np.random.default_rng(0)
    rules = game.rules
    for _ in range(200):
        think(game, "marker", int(rng.integers(2)))
        counts = [game.stores[0].count(2 * 9 + m) for m in range(2)]
        np.testing.assert_array_equal(game.observation()[rules.obs_marker:rules.obs_marker + 2],
                                      np.float32([c / 3 for c in counts]))


def test_budget_runs_out_and_resets_on_the_move():
    game = new_game(max_thoughts=2)
    rules = game.rules
    think(game, "propose", 0)
    assert game.observation()[rules.obs_thoughts_left] == np.float32(1 / 2)
    think(game, "marker", 0)
    assert game.observation()[rules.obs_thoughts_left] == 0.0
    mask = game.legal_mask()
    assert mask[:9].all() and not mask[9:].any()
    a = rules.encode_action("propose", 1)
    assert not game.is_legal(a) and game.illegal_reason(a) == "no thoughts are left this turn"
    # O's budget is its own.
    assert game.observation(1)[rules.obs_thoughts_left] == 1.0
    game.move(4)
    assert game.observation(0)[rules.obs_thoughts_left] == 1.0
    think(game, "propose", 1)
    think(game, "propose", 2)
    assert not game.legal_mask()[9:].any()
    game.move(0)
    assert game.legal_mask()[9:].any()  # X has its budget back
    think(game, "negate", 8)
    think(game, "negate", 7)
    assert not game.legal_mask()[9:].any()


def test_persist_game_keeps_the_store_across_moves():
    game = new_game(persist="game")
    think(game, "propose", 4)
    think(game, "marker", 1)
    game.move(0)
    think(game, "negate", 2)
    game.move(1)
    assert game.store_entries(0) == (("+", 4), ("#", 1))
    assert game.store_entries(1) == (("-", 2),)


def test_persist_turn_clears_the_movers_store_only():
    game = new_game(persist="turn")
    rules = game.rules
    think(game, "propose", 4)
    think(game, "marker", 1)
    game.move(0)
    assert game.store_entries(0) == ()
    obs = game.observation(0)
    assert obs[18:36].sum() == 0 and obs[rules.obs_marker:rules.obs_marker + 2].sum() == 0 and obs[-1] == 0
    think(game, "negate", 2)
    assert game.store_entries(1) == (("-", 2),)
    game.move(8)
    assert game.store_entries(1) == ()
    think(game, "propose", 3)
    game.move(1)
    think(game, "propose", 6)
    assert game.store_entries(1) == (("+", 6),)
    # X's store was emptied on its move; forgetting 3 is illegal on X's next turn.
    game.move(2)
    assert game.store_entries(0) == ()
    assert not legal(game, "forget", 3) and legal(game, "propose", 3)


def test_propositions_about_occupied_cells_are_legal():
    game = new_game()
    play(game, (4, 0))
    assert legal(game, "propose", 4) and legal(game, "negate", 0)


@pytest.mark.parametrize("kwargs", [dict(channels=()), dict(max_thoughts=0), dict(channels=(), max_thoughts=0)])
def test_plain_tic_tac_toe_has_no_legal_thought(kwargs):
    game = new_game(**kwargs)
    rules = game.rules
    assert rules.action_size == (9 if not game.config.channels else 38)
    assert rules.obs_size == (38 if not game.config.channels else 40)
    # thoughts left / max(max_thoughts, 1): the budget slot is constant, 0 when max_thoughts = 0
    assert game.observation()[rules.obs_thoughts_left] == min(game.config.max_thoughts, 1)
    assert not game.config.thinking
    for cells in ((), (4,), (4, 0)):
        g = new_game(**kwargs)
        play(g, cells)
        mask = g.legal_mask()
        assert mask[:9].tolist() == [g.board[c] == 0 for c in range(9)]
        assert not mask[9:].any()


def test_observation_layout_full():
    game = new_game()
    rules = game.rules
    think(game, "propose", 4)
    think(game, "negate", 0)
    think(game, "marker", 1)
    expected = np.zeros(40, np.float32)
    expected[18 + 4] = 1
    expected[27 + 0] = 1
    expected[36 + 1] = 1 / 9
    expected[38] = 0.0  # no thoughts left
    expected[39] = np.float32(3 / 9)
    np.testing.assert_array_equal(game.observation(), expected)
    assert (rules.obs_marker, rules.obs_thoughts_left, rules.obs_entries) == (36, 38, 39)
    game.move(8)
    game.move(0)
    expected[8] = 1
    expected[9 + 0] = 1
    expected[38] = 1.0
    np.testing.assert_array_equal(game.observation(0), expected)
    o_obs = np.zeros(40, np.float32)
    o_obs[0] = 1
    o_obs[9 + 8] = 1
    o_obs[38] = 1.0
    np.testing.assert_array_equal(game.observation(1), o_obs)


def test_observation_is_a_copy():
    game = new_game()
    obs = game.observation()
    obs[:] = 1
    assert game.observation().sum() == 1.0  # only thoughts-left
    mask = game.legal_mask()
    mask[:] = False
    assert game.legal_mask().any()


def test_thoughts_do_not_touch_board_or_turn():
    game = new_game()
    think(game, "propose", 4)
    think(game, "negate", 4)
    assert game.to_move == 0 and not game.board.any() and game.num_moves == 0


def test_copy_is_independent():
    game = new_game()
    think(game, "propose", 4)
    game.move(4)
    before = game.observation(1)
    clone = game.copy()
    think(clone, "negate", 1)
    clone.move(1)
    assert game.store_entries(1) == () and game.board[1] == 0 and game.to_move == 1
    np.testing.assert_array_equal(game.observation(1), before)
    assert clone.store_entries(1) == (("-", 1),) and clone.board[1] == 2 and clone.to_move == 0
    # Observations and masks are the clone's own (they share one buffer per game, not across games).
    assert game.obs[0][9 + 1] == 0.0 and clone.obs[0][9 + 1] == 1.0
    assert game.store_mask[0][1] and not clone.store_mask[0][1]
    assert game.legal_mask(1)[1] and not clone.legal_mask(0)[1]
    assert clone.board_view[1] == 2 and game.board_view[1] == 0
    with pytest.raises(ValueError):
        clone.board_view[0] = 1


def test_game_pickles_with_a_read_only_board_view():
    game = new_game()
    think(game, "marker", 0)
    game.move(4)
    clone = pickle.loads(pickle.dumps(game))
    assert clone.store_entries(0) == game.store_entries(0)
    np.testing.assert_array_equal(clone.observation(0), game.observation(0))
    assert not clone.board_view.flags.writeable
    clone.move(0)
    assert clone.board_view[0] == 2 and game.board[0] == 0
    # The unpickled game's writes reach its own observations and masks, and nobody else's.
    assert clone.observation(1)[0] == 1.0 and clone.observation(0)[9] == 1.0 and not clone.store_mask[1][0]
    assert game.observation(1)[0] == 0.0 and game.store_mask[1][0]
    clone.reset()
    assert not clone.observation(0)[:9].any() and clone.legal_mask(0)[:9].all()


def test_board_view_is_read_only_and_live():
    game = new_game()
    view = game.board_view
    assert view.dtype == np.int8 and view.shape == (9,)
    with pytest.raises(ValueError):
        view[0] = 1
    game.move(3)
    assert view[3] == 1


def test_forfeit_ends_the_game_for_the_other_player():
    game = new_game()
    game.forfeit(0)
    assert game.winner == 1 and game.done and not game.legal_mask().any()


# --------------------------------------------------------------------------- helpers


def test_board_from_string_and_friends():
    board = board_from_string("X.O/.x./..o")
    assert board.dtype == np.int8
    assert board.tolist() == [1, 0, 2, 0, 1, 0, 0, 0, 2]
    assert player_to_move(board) == 0
    assert player_to_move(board_from_string("X.O/.X./...")) == 1
    assert player_to_move(board_from_string("XO./.../...")) == 0
    assert winner_of(board_from_string("XXX/OO./..."), 3, 3, 3) == 0
    assert winner_of(board_from_string("XX./OOO/X.."), 3, 3, 3) == 1
    assert winner_of(board_from_string("XOX/XOO/OXX"), 3, 3, 3) == WINNER_DRAW
    assert board_from_string("X..O/..../..../....", 4, 4).tolist()[:4] == [1, 0, 0, 2]
    with pytest.raises(ValueError, match=re.escape("9 cells, got 8")):
        board_from_string("X.O/.X./..")
    with pytest.raises(ValueError, match=r"only X, O and \."):
        board_from_string("X.O/.Z./...")


@pytest.mark.parametrize("observer", [0, 1])
@pytest.mark.parametrize("persist", ["game", "turn"])
def test_observe_only_keeps_the_observers_view_exactly(observer, persist):
    """A game that keeps one player's buffers matches a full game on that player, move for move."""
    full, one = new_game(persist=persist, memory_size=3), new_game(persist=persist, memory_size=3)
    one.observe_only(observer)
    rng = np.random.default_rng(observer)
    for _ in range(40):
        full.reset()
        one.reset()
        while not full.done:
            mover = full.to_move
            if mover == observer:
                np.testing.assert_array_equal(one.legal_mask(), full.legal_mask())
            # The observer may think; the other player only moves (as the Gymnasium env's opponent does).
            legal = np.flatnonzero(full.legal_mask() if mover == observer else ~full.board.astype(bool))
            action = int(rng.choice(legal))
            full.step(action)
            one.step(action)
            np.testing.assert_array_equal(one.observation(observer), full.observation(observer))
            np.testing.assert_array_equal(one.store_mask[observer], full.store_mask[observer])
            assert one.board.tolist() == full.board.tolist() and one.winner == full.winner
    with pytest.raises(ValueError, match="observe_only"):
        one.observation(1 - observer)


def test_observe_only_refuses_the_other_players_mask_and_survives_copies():
    game = new_game()
    game.observe_only(1)
    game.move(4)  # X, the unobserved player, moves; O is to move
    assert not game.legal_mask(1)[4] and game.observation(1)[9 + 4] == 1.0
    game.move(0)
    with pytest.raises(ValueError, match="observe_only"):
        game.legal_mask(0)  # X is to move, but its mask is not kept
    for clone in (game.copy(), pickle.loads(pickle.dumps(game))):
        assert clone.observer == 1
        clone.move(8)
        assert clone.observation(1)[9 + 8] == 1.0 and game.observation(1)[9 + 8] == 0.0
    game.observe_only(None)
    game.reset()
    assert game.observer == -1 and game.observation(0)[:9].sum() == 0.0
    with pytest.raises(ValueError, match="player must be 0, 1 or None"):
        game.observe_only(2)
