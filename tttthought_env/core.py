"""The rules of docs/spec.md as code: one game of m,n,k with a private thought store per player.

The state is a handful of ints and lists (:class:`Game`); observations and masks are derived from
it on demand. No Gymnasium or PettingZoo here: every env runs these rules (the vector env runs their
batched twin, tied to this file by property tests).
"""

from __future__ import annotations

import struct
from functools import lru_cache
from typing import Any

import numpy as np

from tttthought_env.config import CHANNELS, Config, check_int, check_real
from tttthought_env.layout import (
    ACTION_KINDS,
    TOKEN_BUDGET,
    TOKEN_EMPTY,
    TOKEN_MARKER,
    TOKEN_OCCUPIED,
    TOKEN_POSITIVE,
    Layout,
    layout_for,
    winning_lines,
)
from tttthought_env.transition import WINNER_DRAW, WINNER_NONE

__all__ = ["ACTION_KINDS", "CHANNELS", "EMPTY", "O", "WINNER_DRAW", "WINNER_NONE", "X", "Config", "Game",
           "Layout", "board_from_string", "check_int", "check_real", "layout_for", "player_to_move", "winner_of",
           "winning_lines"]

EMPTY, X, O = 0, 1, 2  # board cell values: player p (0 = X, 1 = O) marks cells with p + 1


# The 8 bits of each byte value as 8 items (float32, or bytes 0/1 for bool and int8), lowest bit first:
# an int becomes an array by one table lookup per byte and one np.frombuffer.
_FLOAT32_ITEMS = tuple(np.array([b >> i & 1 for i in range(8)], np.float32).tobytes() for b in range(256))
_BYTE_ITEMS = tuple(bytes(b >> i & 1 for i in range(8)) for b in range(256))


def _bit_items(bits: int, count: int, items: tuple[bytes, ...]) -> bytes:
    """The low ``count`` bits of ``bits``, bit 0 first, one item of ``items`` per bit."""
    raw = b"".join(map(items.__getitem__, bits.to_bytes((count + 7) // 8, "little")))
    return raw[:count * len(items[0]) // 8]


# Observations and masks are pure functions of the state, and a game meets the same few thousand
# positions again and again: building a small numpy array costs about three times as much as copying one
# (docs/performance.md), so both are memoised by their inputs (a bounded LRU, never out of date) and the
# envs get copies.
@lru_cache(maxsize=1 << 15)
def _observation_of(layout: Layout, planes: int, marker_counts: tuple[int, ...], thoughts_left: int,
                    entries: int) -> np.ndarray:
    memory_size = layout.memory_size
    slots = [*(count / memory_size for count in marker_counts),
             thoughts_left / max(layout.config.max_thoughts, 1), entries / memory_size]
    raw = _bit_items(planes, 4 * layout.n_cells, _FLOAT32_ITEMS) + struct.pack(f"<{len(slots)}f", *slots)
    obs = np.frombuffer(raw, np.float32)  # read-only: the memo hands out copies
    return obs


@lru_cache(maxsize=1 << 15)
def _mask_of(bits: int, action_size: int) -> np.ndarray:
    return np.frombuffer(_bit_items(bits, action_size, _BYTE_ITEMS), bool)


class Game:
    """The state of one game and its transitions.

    Store entries are coded ``+p -> p``, ``-p -> N + p``, ``#m -> 2N + m``; ``pos[p]`` and ``neg[p]``
    are the bitmasks of player ``p``'s ``+`` and ``-`` entries (a proposition is in a store at most once).
    """

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.config = layout.config
        self.n = layout.n_cells
        self.reset()

    def reset(self) -> None:
        max_thoughts = self.config.max_thoughts
        self.marks = [0, 0]  # bitboards of X's and O's cells
        self.pos = [0, 0]
        self.neg = [0, 0]
        self.stores: list[list[int]] = [[], []]  # entry codes, oldest first
        self.thoughts_left = [max_thoughts, max_thoughts]
        self.last_move = [-1, -1]  # the cell each player marked most recently (-1 before its first move)
        self.to_move = 0
        self.winner = WINNER_NONE

    def copy(self) -> Game:
        new = Game.__new__(Game)
        new.__dict__.update(self.__dict__)
        for name in ("marks", "pos", "neg", "thoughts_left", "last_move"):
            setattr(new, name, list(getattr(self, name)))
        new.stores = [list(store) for store in self.stores]
        return new

    # ------------------------------------------------------------------ reading
    @property
    def done(self) -> bool:
        return self.winner != WINNER_NONE

    @property
    def occupied(self) -> int:
        return self.marks[0] | self.marks[1]

    @property
    def num_moves(self) -> int:
        return self.occupied.bit_count()

    @property
    def board(self) -> np.ndarray:
        """A new int8 array of the cells: 0 empty, 1 X, 2 O."""
        x_cells, o_cells = (np.frombuffer(_bit_items(marks, self.n, _BYTE_ITEMS), np.int8) for marks in self.marks)
        return x_cells + 2 * o_cells

    def store_entries(self, player: int) -> tuple[tuple[str, int], ...]:
        """The store of ``player`` oldest first, as ``("+", p)``, ``("-", p)`` or ``("#", m)`` pairs."""
        n = self.n
        return tuple(("+-#"[code // n], code % n) if code < 2 * n else ("#", code - 2 * n)
                     for code in self.stores[player])

    def store_string(self, player: int) -> str:
        return " ".join(f"{sign}{arg}" for sign, arg in self.store_entries(player))

    def mark_planes(self, player: int) -> tuple[int, int]:
        """The two mark planes of ``player``'s observation as bitmasks: its marks and the other's
        (``view="full"``), or the occupied cells and the other's last move (``view="last_move"``)."""
        other = 1 - player
        if self.config.view == "full":
            return self.marks[player], self.marks[other]
        last = self.last_move[other]
        return self.occupied, 0 if last < 0 else 1 << last

    def observation(self, player: int) -> np.ndarray:
        """``player``'s float32 observation (docs/spec.md, "Observations"), a new array."""
        n, store = self.n, self.stores[player]
        first, second = self.mark_planes(player)
        planes = first | second << n | self.pos[player] << 2 * n | self.neg[player] << 3 * n
        marker_counts = tuple(store.count(2 * n + marker) for marker in range(self.layout.marker_slots))
        return _observation_of(self.layout, planes, marker_counts, self.thoughts_left[player], len(store)).copy()

    def observe(self, player: int, obs_mode: str, action_mask: np.ndarray | None) -> Any:
        """``player``'s observation in ``obs_mode`` (:data:`~tttthought_env.config.OBS_MODES`), with
        ``action_mask`` (its legal actions; unused by ``"flat"``) in the dict modes as int8."""
        if obs_mode == "tokens":
            tokens = self.tokens(player)
            return {"tokens": tokens, "token_mask": (tokens[:, 0] != 0).view(np.int8),
                    "action_mask": np.asarray(action_mask, np.int8)}
        obs = self.observation(player)
        if obs_mode == "flat":
            return obs
        return {"observation": obs, "action_mask": np.asarray(action_mask, np.int8)}

    def tokens(self, player: int) -> np.ndarray:
        """``player``'s int64 ``(L, 3)`` token observation (docs/spec.md, "Token observations"): one
        ``(type, value, position)`` row per cell, per store entry (oldest first, position = age, 0 newest;
        zero rows pad to ``memory_size``) and for the budget (thoughts left)."""
        n, store = self.n, self.stores[player]
        first, second = self.mark_planes(player)
        rows = np.zeros((self.layout.token_count, 3), np.int64)
        full = self.config.view == "full"
        for cell in range(n):
            one, two = first >> cell & 1, second >> cell & 1
            kind = TOKEN_EMPTY + one + 2 * two if full else TOKEN_EMPTY + (TOKEN_OCCUPIED - TOKEN_EMPTY) * one + two
            rows[cell] = (kind, cell, cell)
        for slot, code in enumerate(store):
            kind = TOKEN_POSITIVE + min(code // n, 2)
            rows[n + slot] = (kind, code - 2 * n if kind == TOKEN_MARKER else code % n, len(store) - 1 - slot)
        rows[-1] = (TOKEN_BUDGET, self.thoughts_left[player], 0)
        return rows

    def legal_bits(self, player: int) -> int:
        """The legal actions of ``player`` as a bitmask over action ids (0 if it is not to act)."""
        if self.winner != WINNER_NONE or player != self.to_move:
            return 0
        thoughts = 0
        if self.thoughts_left[player] > 0:
            for channel, offset in self.layout.thought_offsets:
                thoughts |= self._thought_bits(player, channel) << offset
        if thoughts and self._must_think(player):
            return thoughts
        return thoughts | self.layout.all_cells & ~self.occupied

    def _must_think(self, player: int) -> bool:
        """Whether ``player`` has thought fewer than ``min_thoughts`` times this turn (then, while a thought
        is legal, it may not move)."""
        return self.config.max_thoughts - self.thoughts_left[player] < self.config.min_thoughts

    def _thought_bits(self, player: int, channel: str) -> int:
        """The args of ``channel`` that ``player`` may think, budget aside: those that change its store."""
        if channel == "propose":
            return self.layout.all_cells & ~self.pos[player]  # unless +p is in the store
        if channel == "negate":
            return self.layout.all_cells & ~self.neg[player]  # unless -p is
        if channel == "forget":
            return self.pos[player] | self.neg[player]  # if either is
        return (1 << self.config.num_markers) - 1  # a marker, always

    def legal_mask(self, player: int | None = None) -> np.ndarray:
        """Bool array of the actions legal for ``player`` (default: the player to move)."""
        player = self.to_move if player is None else player
        return _mask_of(self.legal_bits(player), self.layout.action_size).copy()

    def is_legal(self, action: int, player: int | None = None) -> bool:
        """Whether ``player`` (default: the player to move) may take ``action`` now."""
        player = self.to_move if player is None else player
        if self.winner != WINNER_NONE or player != self.to_move:
            return False
        channel, arg = self.layout.decode[action]
        if channel == "move" and self.config.min_thoughts and self._must_think(player):
            return bool(self.legal_bits(player) >> action & 1)  # legal only where no thought is
        if channel == "move":
            return not self.occupied >> arg & 1
        if self.thoughts_left[player] <= 0:
            return False
        return bool(self._thought_bits(player, channel) >> arg & 1)

    def illegal_reason(self, action: int, player: int | None = None) -> str:
        """Why ``action`` is illegal for ``player`` (default: the player to move); it must be illegal."""
        if self.winner != WINNER_NONE:
            return "the game is over"
        if player is not None and player != self.to_move:
            return "it is the other player's turn"
        channel, arg = self.layout.decode[action]
        if channel == "move" and not self.occupied >> arg & 1:  # free, so min_thoughts forbids it
            taken = self.config.max_thoughts - self.thoughts_left[self.to_move]
            return f"think at least {self.config.min_thoughts} thought(s) before moving ({taken} so far)"
        if channel == "move":
            return f"cell {arg} is occupied"
        if self.thoughts_left[self.to_move] <= 0:
            return "no thoughts are left this turn"
        if channel == "propose":
            return f"+{arg} is already in the store"
        if channel == "negate":
            return f"-{arg} is already in the store"
        return f"neither +{arg} nor -{arg} is in the store"  # forget; a marker is always legal

    # -------------------------------------------------------------- transitions
    def _remove(self, player: int, code: int) -> None:
        """Take ``code`` out of ``player``'s store (a proposition's bit with it)."""
        self.stores[player].remove(code)
        self._drop_bit(player, code)

    def _drop_bit(self, player: int, code: int) -> None:
        n = self.n
        if code < n:
            self.pos[player] &= ~(1 << code)
        elif code < 2 * n:
            self.neg[player] &= ~(1 << (code - n))

    def _append(self, player: int, code: int) -> None:
        """Append ``code``; a store over ``memory_size`` evicts its oldest entry."""
        store = self.stores[player]
        store.append(code)
        n = self.n
        if code < n:
            self.pos[player] |= 1 << code
        elif code < 2 * n:
            self.neg[player] |= 1 << (code - n)
        if len(store) > self.layout.memory_size:
            self._drop_bit(player, store.pop(0))

    def think(self, action: int) -> tuple[str, int, int]:
        """Apply a legal thought of the player to move; return ``(channel, arg, removed_code)``.

        ``removed_code`` is the entry about ``arg`` the thought replaced or forgot (-1 if none).
        """
        player, n = self.to_move, self.n
        channel, arg = self.layout.decode[action]
        removed = -1
        if channel == "marker":
            self._append(player, 2 * n + arg)
        else:
            bit = 1 << arg
            if (self.pos[player] | self.neg[player]) & bit:
                removed = arg if self.pos[player] & bit else n + arg
                self._remove(player, removed)
            if channel == "propose":
                self._append(player, arg)
            elif channel == "negate":
                self._append(player, n + arg)
        self.thoughts_left[player] -= 1
        return channel, arg, removed

    def clear_store(self, player: int) -> None:
        self.stores[player] = []
        self.pos[player] = self.neg[player] = 0

    def move(self, cell: int) -> int:
        """Mark empty ``cell`` for the player to move and end its turn; return the winner code afterwards."""
        player, marks = self.to_move, self.marks
        marks[player] |= 1 << cell
        self.last_move[player] = cell
        self.thoughts_left[player] = self.config.max_thoughts
        if self.config.persist == "turn":
            self.clear_store(player)
        if self.layout.has_line(marks[player], cell):
            self.winner = player
        elif marks[0] | marks[1] == self.layout.all_cells:
            self.winner = WINNER_DRAW
        else:
            self.to_move = 1 - player
        return self.winner

    def forfeit(self, player: int) -> None:
        """End the game as a loss for ``player`` (an illegal action under ``illegal_action="lose"``)."""
        self.winner = 1 - player

    def step(self, action: int) -> None:
        """Apply a legal action (move or thought) of the player to move."""
        if action < self.n:
            self.move(action)
        else:
            self.think(action)


def board_from_string(text: str, rows: int = 3, cols: int = 3) -> np.ndarray:
    """Parse a board like ``"X.O/.X./..O"`` (``/`` and whitespace ignored) into an int8 array."""
    cells = [ch for ch in text if ch not in "/ \n\t"]
    if len(cells) != rows * cols:
        raise ValueError(f"text must describe {rows * cols} cells, got {len(cells)} in {text!r}")
    table = {".": EMPTY, "-": EMPTY, "X": X, "x": X, "O": O, "o": O}
    try:
        return np.array([table[ch] for ch in cells], dtype=np.int8)
    except KeyError as err:
        raise ValueError(f"text may hold only X, O and . (empty), got {err.args[0]!r} in {text!r}") from None


def player_to_move(board: np.ndarray) -> int:
    """0 (X) when both sides have as many marks, else 1 (O)."""
    return 0 if np.count_nonzero(board == X) == np.count_nonzero(board == O) else 1


def winner_of(board: np.ndarray, rows: int, cols: int, k: int) -> int:
    """Winner of a board: 0 (X), 1 (O), ``WINNER_DRAW`` for a full board, ``WINNER_NONE`` otherwise."""
    for line in winning_lines(rows, cols, k):
        first = board[line[0]]
        if first != EMPTY and all(board[c] == first for c in line):
            return int(first) - 1
    return WINNER_DRAW if np.all(board != EMPTY) else WINNER_NONE
