"""The rules of docs/spec.md in ``tttthought_env.core.Game``: the board, the thought store, observations, masks.

The property tests drive :class:`~tttthought_env.core.Game` and ``Ref`` below, an independent model of the
spec written plainly (a list of entries per player, a board list, no bitmasks), with the same random
legal action sequences on random configs up to 64 cells, and compare everything observable after every
step: stores, the ``+p``/``-p`` bitmasks, both players' observations and masks, ``is_legal`` and
``illegal_reason`` of every illegal action, the winner.
"""

from __future__ import annotations

import itertools
import pickle
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tttthought_env.config import CHANNELS, Config
from tttthought_env.core import (
    WINNER_DRAW,
    WINNER_NONE,
    Game,
    board_from_string,
    player_to_move,
    winner_of,
)
from tttthought_env.layout import layout_for

# --------------------------------------------------------------------------- reference model


def ref_lines(rows: int, cols: int, k: int) -> set[frozenset[int]]:
    """Every set of k cells in a straight line (row, column, both diagonals), by brute force."""
    out = set()
    for r, c, (dr, dc) in itertools.product(range(rows), range(cols), ((0, 1), (1, 0), (1, 1), (1, -1))):
        cells = [(r + i * dr, c + i * dc) for i in range(k)]
        if all(0 <= rr < rows and 0 <= cc < cols for rr, cc in cells):
            out.add(frozenset(rr * cols + cc for rr, cc in cells))
    return out


class Ref:
    """The spec's rules, written plainly: ``stores[p]`` is a list of ``("+", p)``, ``("-", p)``, ``("#", m)``."""

    def __init__(self, rows, cols, k, channels, max_thoughts, memory_size, num_markers, persist, min_thoughts=0,
                 view="full"):
        self.n = n = rows * cols
        self.view, self.history = view, []  # history: (player, cell) of every move so far
        self.max_thoughts, self.persist, self.num_markers = max_thoughts, persist, num_markers
        self.min_thoughts = min_thoughts
        self.memory = n if memory_size is None else memory_size
        self.markers = num_markers if "marker" in channels else 0
        self.actions = [("move", c) for c in range(n)] + [
            (ch, x) for ch in CHANNELS if ch in channels for x in range(self.markers if ch == "marker" else n)]
        self.lines = ref_lines(rows, cols, k)
        self.board, self.stores, self.left = [0] * n, [[], []], [max_thoughts] * 2
        self.to_move, self.winner = 0, None  # winner: None, 0, 1 or "draw"

    def reason(self, a: int) -> str | None:
        """None if ``a`` is legal for the player to move, else why not (the spec's words)."""
        channel, x = self.actions[a]
        store = self.stores[self.to_move]
        if self.winner is not None:
            return "the game is over"
        if channel == "move":
            if self.board[x] != 0:
                return f"cell {x} is occupied"
            taken = self.max_thoughts - self.left[self.to_move]
            could_think = any(self.reason(b) is None for b, (ch, _) in enumerate(self.actions) if ch != "move")
            if taken < self.min_thoughts and could_think:  # a move only after min_thoughts, or with no thought
                return f"think at least {self.min_thoughts} thought(s) before moving ({taken} so far)"
            return None
        if self.left[self.to_move] == 0:
            return "no thoughts are left this turn"
        if channel == "propose" and ("+", x) in store:
            return f"+{x} is already in the store"
        if channel == "negate" and ("-", x) in store:
            return f"-{x} is already in the store"
        if channel == "forget" and ("+", x) not in store and ("-", x) not in store:
            return f"neither +{x} nor -{x} is in the store"
        return None

    def apply(self, a: int) -> None:
        channel, x = self.actions[a]
        p, store = self.to_move, self.stores[self.to_move]
        if channel == "move":
            self.board[x] = p + 1
            self.history.append((p, x))
            self.left[p] = self.max_thoughts
            if self.persist == "turn":
                store.clear()
            mine = {c for c in range(self.n) if self.board[c] == p + 1}
            if any(line <= mine for line in self.lines):
                self.winner = p
            elif all(self.board):
                self.winner = "draw"
            else:
                self.to_move = 1 - p
            return
        self.left[p] -= 1
        if channel != "marker":  # propose, negate and forget first take out whatever entry is about x
            store[:] = [e for e in store if e not in (("+", x), ("-", x))]
        if channel in ("propose", "negate", "marker"):
            store.append(({"propose": "+", "negate": "-", "marker": "#"}[channel], x))
            if len(store) > self.memory:
                store.pop(0)  # the oldest entry goes

    def planes(self, p: int) -> list[float]:
        if self.view == "full":
            return [float(b == p + 1) for b in self.board] + [float(b == 2 - p) for b in self.board]
        theirs = [cell for player, cell in self.history if player != p]
        return [float(b != 0) for b in self.board] + [float(bool(theirs) and c == theirs[-1]) for c in range(self.n)]

    def obs(self, p: int) -> list[float]:
        store = self.stores[p]
        return (self.planes(p) + [float(("+", c) in store) for c in range(self.n)] + [float(("-", c) in store) for c in range(self.n)]
                + [store.count(("#", m)) / self.memory for m in range(self.markers)]
                + [self.left[p] / max(self.max_thoughts, 1), len(store) / self.memory])


def winner_code(ref: Ref) -> int:
    return {None: WINNER_NONE, "draw": WINNER_DRAW, 0: 0, 1: 1}[ref.winner]


def bits(store, sign: str) -> int:
    return sum(1 << x for s, x in store if s == sign)


def assert_same(game: Game, ref: Ref) -> None:
    assert game.winner == winner_code(ref) and game.done == (ref.winner is not None)
    assert game.board.tolist() == ref.board
    assert game.thoughts_left == ref.left
    if not game.done:
        assert game.to_move == ref.to_move
    for p in (0, 1):
        assert list(game.store_entries(p)) == ref.stores[p]
        assert (game.pos[p], game.neg[p]) == (bits(ref.stores[p], "+"), bits(ref.stores[p], "-"))
        obs = game.observation(p)
        assert obs.dtype == np.float32 and obs.shape == (len(ref.obs(p)),)
        np.testing.assert_array_equal(obs, np.float32(ref.obs(p)), err_msg=f"observation of player {p}")
        mask = game.legal_mask(p)
        assert mask.dtype == bool and mask.shape == (len(ref.actions),)
        if p != ref.to_move or ref.winner is not None:
            assert not mask.any(), "nothing is legal for a player not to act, nor after the end"
    reasons = [ref.reason(a) for a in range(len(ref.actions))]
    np.testing.assert_array_equal(game.legal_mask(), [r is None for r in reasons])
    assert [game.is_legal(a) for a in range(len(reasons))] == [r is None for r in reasons]
    if not game.done:
        assert not any(game.is_legal(a, 1 - game.to_move) for a in range(len(reasons)))
    for a, reason in enumerate(reasons):
        if reason is not None:
            assert game.illegal_reason(a) == reason, (a, ref.actions[a])


@st.composite
def configs(draw, max_cells: int = 64) -> dict:
    rows = draw(st.integers(1, 8))
    cols = draw(st.integers(1, min(8, max_cells // rows)))
    n = rows * cols
    return dict(
        rows=rows,
        cols=cols,
        k=draw(st.integers(1, max(rows, cols))),
        channels=tuple(draw(st.lists(st.sampled_from(CHANNELS), unique=True, max_size=4))),
        max_thoughts=(max_thoughts := draw(st.integers(0, 4))),
        memory_size=draw(st.one_of(st.none(), st.integers(1, n))),
        num_markers=draw(st.integers(1, 3)),
        persist=draw(st.sampled_from(("game", "turn"))),
        min_thoughts=draw(st.one_of(st.just(0), st.integers(0, max_thoughts))),
        view=draw(st.sampled_from(("full", "last_move"))),
    )


def random_legal_game(cfg, rnd, think_bias, on_step=None):
    """Play ``Game`` and ``Ref`` side by side with random legal actions, comparing after every step."""
    game, ref = Game(layout_for(Config(**cfg))), Ref(**{**dict(Config().as_dict(), memory_size=None), **cfg})
    assert game.layout.decode == tuple(ref.actions)
    bound = ref.n * ((cfg["max_thoughts"] if cfg["channels"] else 0) + 1)
    for steps in itertools.count():
        assert_same(game, ref)
        if ref.winner is not None:
            return game, ref
        assert steps < bound, "a game outlived N * (max_thoughts + 1) actions"
        legal = [a for a in range(len(ref.actions)) if ref.reason(a) is None]
        thoughts = [a for a in legal if a >= ref.n]
        moves = [a for a in legal if a < ref.n]
        # The mask is never all zero: a move is legal unless min_thoughts asks for a thought that is legal.
        assert moves or thoughts, "the player to move has no legal action"
        assert moves or ref.max_thoughts - ref.left[ref.to_move] < ref.min_thoughts
        a = rnd.choice(thoughts) if thoughts and (not moves or rnd.random() < think_bias) else rnd.choice(moves)
        if on_step is not None:
            on_step(game, ref, a)
        game.step(a)
        ref.apply(a)


@settings(max_examples=250, deadline=None)
@given(cfg=configs(), rnd=st.randoms(use_true_random=False), think_bias=st.floats(0.0, 0.95))
def test_game_matches_reference_model_on_random_legal_play(cfg, rnd, think_bias):
    """Masks are exactly the legal set, stores follow the spec's rules, observations follow the layout, games end."""
    random_legal_game(cfg, rnd, think_bias)


@settings(max_examples=40, deadline=None)
@given(cfg=configs().filter(lambda c: c["rows"] * c["cols"] >= 36), rnd=st.randoms(use_true_random=False),
       think_bias=st.floats(0.0, 0.9))
def test_game_matches_reference_model_on_large_boards(cfg, rnd, think_bias):
    """Boards of 36 to 64 cells (a 64-cell board fills every bit of a 64-bit mask)."""
    random_legal_game(cfg, rnd, think_bias)


@settings(max_examples=150, deadline=None)
@given(cfg=configs(max_cells=16).filter(lambda c: c["channels"] and c["max_thoughts"]),
       rnd=st.randoms(use_true_random=False))
def test_game_matches_reference_model_when_thinking_a_lot(cfg, rnd):
    """Long runs of thoughts: evictions, flips and forgets over full stores."""
    random_legal_game(cfg, rnd, 0.9)


@settings(max_examples=80, deadline=None)
@given(cfg=configs(max_cells=16), rnd=st.randoms(use_true_random=False), think_bias=st.floats(0.0, 0.9),
       when=st.integers(0, 8))
def test_copies_are_independent_of_the_original(cfg, rnd, think_bias, when):
    """``copy()`` (and a pickle round trip) taken at any step equals the game; playing it out, and resetting it,
    leaves the original matching the reference model to the end of its own game."""
    steps = []

    def scribble_on_copies(game, ref, action):
        steps.append(action)
        if len(steps) != when + 1:
            return
        for clone in (game.copy(), pickle.loads(pickle.dumps(game))):
            assert_same(clone, ref)
            assert clone.config == game.config
            while not clone.done:
                legal = np.flatnonzero(clone.legal_mask())
                clone.step(int(legal[rnd.randrange(legal.size)]))
            assert_same(game, ref)
            clone.reset()
            assert_same(game, ref)

    random_legal_game(cfg, rnd, think_bias, on_step=scribble_on_copies)


def test_copy_and_pickle_keep_the_state_and_share_nothing_mutable():
    game = new_game(memory_size=3)
    think(game, "propose", 4)
    think(game, "marker", 1)
    game.move(4)
    think(game, "negate", 2)
    before = (game.board.tolist(), game.store_entries(0), game.store_entries(1), game.observation(0).tobytes(),
              game.observation(1).tobytes(), game.legal_mask(1).tobytes(), list(game.thoughts_left), game.to_move)
    for clone in (game.copy(), pickle.loads(pickle.dumps(game))):
        assert (clone.board.tolist(), clone.store_entries(0), clone.store_entries(1), clone.observation(0).tobytes(),
                clone.observation(1).tobytes(), clone.legal_mask(1).tobytes(), list(clone.thoughts_left),
                clone.to_move) == before
        for name in ("marks", "pos", "neg", "thoughts_left", "stores"):
            assert getattr(clone, name) is not getattr(game, name), name
        assert all(a is not b for a, b in zip(clone.stores, game.stores))
        think(clone, "propose", 2)  # flips -2 in O's store
        think(clone, "propose", 7)
        clone.move(1)
        think(clone, "marker", 0)
        clone.move(8)
        assert clone.store_entries(1) == (("+", 2), ("+", 7))
        assert clone.board[1] == 2 and clone.board[8] == 1
        clone.reset()
        assert not clone.board.any()
        # The original has not moved.
        assert (game.board.tolist(), game.store_entries(0), game.store_entries(1), game.observation(0).tobytes(),
                game.observation(1).tobytes(), game.legal_mask(1).tobytes(), list(game.thoughts_left),
                game.to_move) == before


def test_board_is_an_int8_snapshot_the_caller_cannot_corrupt():
    game = new_game()
    board = game.board
    assert board.dtype == np.int8 and board.shape == (9,)
    if board.flags.writeable:  # a fresh copy: writing to it leaves the game alone
        board[0] = 2
    assert game.board.tolist() == [0] * 9 and game.legal_mask()[0]
    game.move(3)
    assert game.board[3] == 1 and game.board.tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 0]
    assert board.tolist()[3] == 0  # a snapshot, not a live view


# --------------------------------------------------------------------------- board


def new_game(**kwargs) -> Game:
    return Game(layout_for(Config(**kwargs)))


def think(game: Game, channel: str, arg: int) -> None:
    a = game.layout.encode_action(channel, arg)
    assert game.is_legal(a), (channel, arg, game.illegal_reason(a))
    game.step(a)


def legal(game: Game, channel: str, arg: int) -> bool:
    a = game.layout.encode_action(channel, arg)
    assert bool(game.legal_mask()[a]) == game.is_legal(a)
    return game.is_legal(a)


def play(game: Game, cells) -> None:
    for c in cells:
        game.move(c)


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
    assert game.illegal_reason(game.layout.encode_action("propose", 4)) == "+4 is already in the store"
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
    assert game.illegal_reason(game.layout.encode_action("negate", 3)) == "-3 is already in the store"
    assert legal(game, "propose", 3)
    obs = game.observation(game.to_move)
    assert obs[18 + 3] == 0 and obs[27 + 3] == 1 and obs[18 + 5] == 1


def test_forget_needs_the_proposition_and_removes_only_it():
    game = new_game(max_thoughts=9)
    assert not any(legal(game, "forget", p) for p in range(9))
    assert game.illegal_reason(game.layout.encode_action("forget", 2)) == "neither +2 nor -2 is in the store"
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
    obs = game.observation(game.to_move)
    assert obs[18:36].sum() == 1 and obs[18 + 3] == 1
    assert obs[-1] == np.float32(2 / 9)


def test_markers_may_repeat_and_are_counted():
    game = new_game(max_thoughts=9, num_markers=3)
    for m in (2, 2, 0, 2):
        think(game, "marker", m)
    assert game.store_entries(0) == (("#", 2), ("#", 2), ("#", 0), ("#", 2))
    assert all(legal(game, "marker", m) for m in range(3))
    obs = game.observation(game.to_move)
    rules = game.layout
    np.testing.assert_array_equal(obs[4 * rules.n_cells:4 * rules.n_cells + 3],
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
    assert game.observation(game.to_move)[18 + 0] == 0
    think(game, "marker", 1)  # -1 goes
    assert game.store_entries(0) == (("#", 0), ("+", 2), ("#", 1))
    assert legal(game, "negate", 1) and not legal(game, "forget", 1)
    assert game.observation(game.to_move)[27 + 1] == 0
    think(game, "negate", 2)  # flips +2: removes it first, so nothing is evicted
    assert game.store_entries(0) == (("#", 0), ("#", 1), ("-", 2))
    think(game, "propose", 4)  # #0 goes: its count drops to zero
    assert game.store_entries(0) == (("#", 1), ("-", 2), ("+", 4))
    obs = game.observation(game.to_move)
    rules = game.layout
    np.testing.assert_array_equal(obs[4 * rules.n_cells:4 * rules.n_cells + 2], np.float32([0, 1 / 3]))
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
    obs = game.observation(game.to_move)
    assert obs[18:36].tolist() == [0.0] * 9 + [0.0] * 5 + [1.0] + [0.0] * 3
    assert obs[-1] == 1.0


def test_marker_counts_stay_exact_under_many_evictions():
    """Observation entries are count / memory_size exactly, never drifting outside [0, 1]."""
    game = new_game(memory_size=3, max_thoughts=64, channels=("marker",))  # 64: the largest budget allowed
    rng = np.random.default_rng(0)
    rules = game.layout
    for _ in range(64):
        think(game, "marker", int(rng.integers(2)))
        counts = [game.stores[0].count(2 * 9 + m) for m in range(2)]
        np.testing.assert_array_equal(game.observation(game.to_move)[4 * rules.n_cells:4 * rules.n_cells + 2],
                                      np.float32([c / 3 for c in counts]))


def test_budget_runs_out_and_resets_on_the_move():
    game = new_game(max_thoughts=2)
    rules = game.layout
    think(game, "propose", 0)
    assert game.observation(game.to_move)[(rules.obs_size - 2)] == np.float32(1 / 2)
    think(game, "marker", 0)
    assert game.observation(game.to_move)[(rules.obs_size - 2)] == 0.0
    mask = game.legal_mask()
    assert mask[:9].all() and not mask[9:].any()
    a = rules.encode_action("propose", 1)
    assert not game.is_legal(a) and game.illegal_reason(a) == "no thoughts are left this turn"
    # O's budget is its own.
    assert game.observation(1)[(rules.obs_size - 2)] == 1.0
    game.move(4)
    assert game.observation(0)[(rules.obs_size - 2)] == 1.0
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
    rules = game.layout
    think(game, "propose", 4)
    think(game, "marker", 1)
    game.move(0)
    assert game.store_entries(0) == ()
    obs = game.observation(0)
    assert obs[18:36].sum() == 0 and obs[4 * rules.n_cells:4 * rules.n_cells + 2].sum() == 0 and obs[-1] == 0
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
    rules = game.layout
    assert rules.action_size == (9 if not game.config.channels else 38)
    assert rules.obs_size == (38 if not game.config.channels else 40)
    # thoughts left / max(max_thoughts, 1): the budget slot is constant, 0 when max_thoughts = 0
    assert game.observation(game.to_move)[(rules.obs_size - 2)] == min(game.config.max_thoughts, 1)
    assert not game.config.thinking
    for cells in ((), (4,), (4, 0)):
        g = new_game(**kwargs)
        play(g, cells)
        mask = g.legal_mask()
        assert mask[:9].tolist() == [g.board[c] == 0 for c in range(9)]
        assert not mask[9:].any()


def test_observation_layout_full():
    game = new_game()
    rules = game.layout
    think(game, "propose", 4)
    think(game, "negate", 0)
    think(game, "marker", 1)
    expected = np.zeros(40, np.float32)
    expected[18 + 4] = 1
    expected[27 + 0] = 1
    expected[36 + 1] = 1 / 9
    expected[38] = 0.0  # no thoughts left
    expected[39] = np.float32(3 / 9)
    np.testing.assert_array_equal(game.observation(game.to_move), expected)
    assert (4 * rules.n_cells, (rules.obs_size - 2), (rules.obs_size - 1)) == (36, 38, 39)
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
    obs = game.observation(game.to_move)
    obs[:] = 1
    assert game.observation(game.to_move).sum() == 1.0  # only thoughts-left
    mask = game.legal_mask()
    mask[:] = False
    assert game.legal_mask().any()


def test_thoughts_do_not_touch_board_or_turn():
    game = new_game()
    think(game, "propose", 4)
    think(game, "negate", 4)
    assert game.to_move == 0 and not game.board.any() and game.num_moves == 0


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


def test_step_dispatches_moves_and_thoughts_and_think_reports_what_it_replaced():
    game = new_game(max_thoughts=9)
    layout = game.layout
    assert game.think(layout.encode_action("negate", 2)) == ("negate", 2, -1)
    assert game.think(layout.encode_action("propose", 2)) == ("propose", 2, 9 + 2)  # replaced -2 (code N + p)
    assert game.think(layout.encode_action("forget", 2)) == ("forget", 2, 2)  # forgot +2 (code p)
    assert game.think(layout.encode_action("marker", 1)) == ("marker", 1, -1)
    assert game.thoughts_left == [5, 9]
    game.step(4)
    assert game.board[4] == 1 and game.to_move == 1 and game.thoughts_left == [9, 9]
    game.step(layout.encode_action("propose", 0))
    assert game.store_entries(1) == (("+", 0),) and game.to_move == 1
    assert game.store_string(0) == "#1" and game.store_string(1) == "+0"
