"""Pure game core of tttthought-env: m,n,k rules, the thought store, legality, masks, transitions.

No Gymnasium or PettingZoo import here: both adapters (and the vector env's differential tests)
drive this one implementation, so they cannot drift apart. See docs/spec.md for the rules.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache

import numpy as np

#: Thought channels, in the fixed order their action blocks follow the move block.
CHANNELS: tuple[str, ...] = ("propose", "negate", "forget", "marker")
#: Every channel name :meth:`Rules.decode_action` can return.
ACTION_KINDS: tuple[str, ...] = ("move",) + CHANNELS
PERSIST_MODES: tuple[str, ...] = ("game", "turn")

EMPTY, X, O = 0, 1, 2  # board cell values; player index p (0 = X, 1 = O) marks cells with p + 1

# Outcome of a finished game, from X's side: who won, or a draw.
WINNER_NONE = -1  # game still running
WINNER_DRAW = 2


def check_int(name: str, value: object, minimum: int) -> int:
    """``value`` as an int if it is one (not a bool) and ``>= minimum``; else an error naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int >= {minimum}, got {value!r} of type {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def check_real(name: str, value: object, low: float, high: float | None = None) -> float:
    """``value`` as a float if it is a finite real number in ``[low, high]``; else an error naming ``name``."""
    allowed = f"in [{low}, {high}]" if high is not None else f">= {low}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number {allowed}, got {value!r} of type {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be a real number {allowed}, got {value!r}")
    return value


@cache
def winning_lines(rows: int, cols: int, k: int) -> tuple[tuple[int, ...], ...]:
    """All segments of ``k`` cells in a row (row, column, both diagonals), as row-major cell tuples."""
    lines = []
    for r in range(rows):
        for c in range(cols):
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                end_r, end_c = r + dr * (k - 1), c + dc * (k - 1)
                if 0 <= end_r < rows and 0 <= end_c < cols:
                    lines.append(tuple((r + dr * i) * cols + (c + dc * i) for i in range(k)))
    return tuple(lines)


@dataclass(frozen=True)
class Config:
    """Validated settings of one game; every adapter takes these as keyword arguments.

    ``memory_size=None`` means ``rows * cols``. Errors name the argument, the value and what is allowed.
    """

    rows: int = 3
    cols: int = 3
    k: int = 3
    channels: tuple[str, ...] = CHANNELS
    max_thoughts: int = 3
    memory_size: int | None = None
    num_markers: int = 2
    persist: str = "game"

    def __post_init__(self) -> None:
        rows = check_int("rows", self.rows, 1)
        cols = check_int("cols", self.cols, 1)
        k = check_int("k", self.k, 1)
        if k > max(rows, cols):
            raise ValueError(f"k must be between 1 and max(rows, cols) = {max(rows, cols)}, got k={k!r}")
        if rows * cols > 64:
            raise ValueError(f"rows * cols must be at most 64 cells, got rows={rows}, cols={cols} ({rows * cols})")
        channels = self.channels
        if isinstance(channels, str) or not isinstance(channels, Iterable):
            raise TypeError(f"channels must be a tuple of names from {CHANNELS}, got {channels!r}")
        channels = tuple(channels)
        for name in channels:
            if name not in CHANNELS:
                raise ValueError(f"channels contains unknown channel {name!r}; allowed: {CHANNELS}")
        if len(set(channels)) != len(channels):
            raise ValueError(f"channels must not repeat a channel, got {channels!r}")
        # Store the canonical order so that equal channel sets give equal configs and action layouts.
        object.__setattr__(self, "channels", tuple(c for c in CHANNELS if c in channels))
        check_int("max_thoughts", self.max_thoughts, 0)
        memory_size = rows * cols if self.memory_size is None else check_int("memory_size", self.memory_size, 1)
        object.__setattr__(self, "memory_size", memory_size)
        num_markers = check_int("num_markers", self.num_markers, 0)
        if "marker" in self.channels and num_markers < 1:
            raise ValueError(f"num_markers must be >= 1 when the 'marker' channel is on, got {num_markers!r}")
        if self.persist not in PERSIST_MODES:
            raise ValueError(f"persist must be one of {PERSIST_MODES}, got {self.persist!r}")
        for name, value in (("rows", rows), ("cols", cols), ("k", k), ("max_thoughts", self.max_thoughts),
                            ("num_markers", num_markers)):
            object.__setattr__(self, name, int(value))

    @property
    def thinking(self) -> bool:
        """Whether any thought action exists (False is the plain tic-tac-toe control)."""
        return bool(self.channels) and self.max_thoughts > 0


@dataclass(frozen=True, eq=False)
class Rules:
    """Precomputed tables for one :class:`Config`: action layout, line masks, observation layout."""

    config: Config
    n_cells: int = field(init=False)
    action_size: int = field(init=False)
    obs_size: int = field(init=False)
    #: First action id of each present block, e.g. ``{"move": 0, "propose": 9, ...}``.
    offsets: dict = field(init=False)
    #: ``decode[a] = (channel, arg)`` for every action id.
    decode: tuple = field(init=False)
    #: ``lines_through[c]`` = bitmasks of the winning lines that contain cell ``c``.
    lines_through: tuple = field(init=False)
    line_masks: tuple = field(init=False)
    #: ``win_table[marks]`` is 1 iff the bitboard ``marks`` holds a line (boards of up to 16 cells), else None.
    win_table: bytes | None = field(init=False)
    full_board: int = field(init=False)
    # Observation slots.
    obs_marker: int = field(init=False)
    obs_thoughts_left: int = field(init=False)
    obs_entries: int = field(init=False)
    max_episode_moves_and_thoughts: int = field(init=False)

    def __post_init__(self) -> None:
        cfg = self.config
        n = cfg.rows * cfg.cols
        offsets = {"move": 0}
        decode = [("move", c) for c in range(n)]
        size = n
        # Blocks exist whenever their channel is on, even at max_thoughts=0 (then they are always masked).
        for channel in cfg.channels:
            offsets[channel] = size
            width = cfg.num_markers if channel == "marker" else n
            decode.extend((channel, i) for i in range(width))
            size += width
        lines = winning_lines(cfg.rows, cfg.cols, cfg.k)
        masks = tuple(sum(1 << c for c in line) for line in lines)
        through = tuple(tuple(m for m in masks if m >> c & 1) for c in range(n))
        marker_slots = cfg.num_markers if "marker" in cfg.channels else 0
        set_ = object.__setattr__
        set_(self, "n_cells", n)
        set_(self, "action_size", size)
        set_(self, "offsets", offsets)
        set_(self, "decode", tuple(decode))
        set_(self, "line_masks", masks)
        set_(self, "lines_through", through)
        win_table = None
        if n <= 16:
            every_marks = np.arange(1 << n, dtype=np.int64)
            has_line = np.zeros(1 << n, dtype=np.uint8)
            for line in masks:
                has_line |= (every_marks & line) == line
            win_table = has_line.tobytes()
        set_(self, "win_table", win_table)
        set_(self, "full_board", (1 << n) - 1)
        set_(self, "obs_marker", 4 * n)
        set_(self, "obs_thoughts_left", 4 * n + marker_slots)
        set_(self, "obs_entries", 4 * n + marker_slots + 1)
        set_(self, "obs_size", 4 * n + marker_slots + 2)
        # With no channel on there are no thoughts, whatever max_thoughts says.
        set_(self, "max_episode_moves_and_thoughts", n * ((cfg.max_thoughts if cfg.channels else 0) + 1))

    def encode_action(self, channel: str, arg: int) -> int:
        """Action id of ``(channel, arg)``; raises ``ValueError`` for a channel that is off or an arg out of range."""
        if channel not in self.offsets:
            raise ValueError(f"channel must be one of {tuple(self.offsets)} in this configuration, got {channel!r}")
        width = self.config.num_markers if channel == "marker" else self.n_cells
        if isinstance(arg, bool) or not isinstance(arg, (int, np.integer)) or not 0 <= arg < width:
            raise ValueError(f"arg of channel {channel!r} must be an int in [0, {width}), got {arg!r}")
        return self.offsets[channel] + int(arg)

    def check_action(self, action: object) -> int:
        """Return ``action`` as an int, or raise ``TypeError``/``ValueError`` if it is not an int in ``[0, A)``."""
        if type(action) is int and 0 <= action < self.action_size:  # the common case, first
            return action
        if isinstance(action, (int, np.integer)) and not isinstance(action, (bool, np.bool_)) or isinstance(action, np.ndarray) and action.shape == () and np.issubdtype(action.dtype, np.integer):
            a = int(action)
        else:
            raise TypeError(
                f"action must be an int in [0, {self.action_size}), got {action!r} of type {type(action).__name__}"
            )
        if not 0 <= a < self.action_size:
            raise ValueError(f"action must be an int in [0, {self.action_size}), got {a}")
        return a


@lru_cache(maxsize=64)
def rules_for(config: Config) -> Rules:
    """Shared, cached :class:`Rules` for a config (tables are read-only, so sharing is safe)."""
    return Rules(config)


_VIEW_SLOTS = frozenset(
    ("board_view", "_board_mv", "_obs_mv", "_obs_pairs", "_mask_mv", "obs", "store_mask", "_obs_both_mv",
     "_mask_both_mv", "_move_obs", "_observer_mask_mv", "_obs_init_mv", "_mask_init_mv", "_zero_board_mv",
     "_no_thoughts_mv")
)


class Game:
    """Mutable state of one game and its transitions.

    Per player ``p`` (0 = X, 1 = O) the game keeps an observation buffer and a store-legality mask that
    every transition updates in place, so reading the observation or mask costs one copy.
    :meth:`observe_only` restricts that upkeep to one player (the Gymnasium env's learner: nobody reads
    the built-in opponent's). Store entries are coded ``+p -> p``, ``-p -> N + p``, ``#m -> 2N + m``.
    """

    __slots__ = (
        "_board_mv",
        "_decode",
        "_forget_off",
        "_full_board",
        "_marker_off",
        "_mask_both",
        "_mask_both_mv",
        "_mask_init_mv",
        "_mask_mv",
        "_max_thoughts",
        "_memory_size",
        "_move_obs",
        "_neg_off",
        "_no_thoughts_mv",
        "_obs_both",
        "_obs_both_mv",
        "_obs_entries",
        "_obs_init_mv",
        "_obs_mv",
        "_obs_neg",
        "_obs_pairs",
        "_obs_pos",
        "_obs_thoughts_left",
        "_observer_mask_mv",
        "_persist_turn",
        "_prop_off",
        "_thought_start",
        "_win_table",
        "_zero_board_mv",
        "_zero_mask",
        "board",
        "board_view",
        "config",
        "marks",
        "n",
        "neg_bits",
        "obs",
        "observer",
        "occupied",
        "pos_bits",
        "prop_state",
        "rules",
        "store_mask",
        "stores",
        "thoughts_left",
        "to_move",
        "winner",
    )

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        cfg = self.config = rules.config
        n = self.n = rules.n_cells
        self.board = np.zeros(n, dtype=np.int8)
        # Both players' observations (and masks) share one buffer, so a reset is one memcpy for each.
        self._obs_both = np.zeros(2 * rules.obs_size, np.float32)
        self._mask_both = np.zeros(2 * rules.action_size, bool)
        self._zero_mask = np.zeros(rules.action_size, bool)
        self._persist_turn = cfg.persist == "turn"
        self._max_thoughts = cfg.max_thoughts
        self._memory_size = cfg.memory_size
        off = rules.offsets
        self._prop_off = off.get("propose")
        self._neg_off = off.get("negate")
        self._forget_off = off.get("forget")
        self._marker_off = off.get("marker")
        # What every reset writes, as buffers to copy from: one memcpy per array instead of slice fills.
        obs_init = np.zeros(rules.obs_size, np.float32)
        obs_init[rules.obs_thoughts_left] = 1.0 if cfg.max_thoughts > 0 else 0.0
        obs_init = np.concatenate([obs_init, obs_init])
        mask_init = np.ones(rules.action_size, bool)
        if self._forget_off is not None:
            mask_init[self._forget_off:self._forget_off + n] = False  # nothing to forget yet
        mask_init = np.concatenate([mask_init, mask_init])
        self._obs_init_mv = memoryview(obs_init)
        self._mask_init_mv = memoryview(mask_init)
        self._zero_board_mv = memoryview(np.zeros(n, dtype=np.int8))
        self._no_thoughts_mv = memoryview(self._zero_mask)[n:]
        self.observer = -1  # both players' observations and masks are kept (see observe_only)
        self._bind_views()
        self._thought_start = n
        self._win_table = rules.win_table
        self._full_board = rules.full_board
        self._obs_thoughts_left = rules.obs_thoughts_left
        self._obs_entries = rules.obs_entries
        self._obs_pos, self._obs_neg = 2 * n, 3 * n  # the +p and -p planes
        self._decode = rules.decode
        self._empty_stores()
        self.reset()

    def _bind_views(self) -> None:
        """Point the memoryviews at this game's arrays (after construction, copy or unpickling).

        Transitions write single cells through these: a memoryview item write costs about half of a
        numpy scalar write, and it is the same memory, so the arrays always hold the state.
        """
        view = self.board.view()
        view.flags.writeable = False
        self.board_view = view  # what opponents and shaping callables see: read-only, no copy per step
        self._board_mv = memoryview(self.board)
        obs_size, action_size = self.rules.obs_size, self.rules.action_size
        self.obs = (self._obs_both[:obs_size], self._obs_both[obs_size:])
        self.store_mask = (self._mask_both[:action_size], self._mask_both[action_size:])
        self._obs_both_mv = memoryview(self._obs_both)
        self._mask_both_mv = memoryview(self._mask_both)
        self._obs_mv = (memoryview(self.obs[0]), memoryview(self.obs[1]))
        # (own, opponent's) observation per mover: a move writes its mark into both.
        self._obs_pairs = ((self._obs_mv[0], self._obs_mv[1]), (self._obs_mv[1], self._obs_mv[0]))
        self._mask_mv = (memoryview(self.store_mask[0]), memoryview(self.store_mask[1]))
        observer = self.observer
        if observer >= 0:
            # One observer: per mover, the one observation cell a move sets (its own plane, or the
            # opponent plane at offset N), and the one mask whose move block loses the cell.
            own = self._obs_mv[observer]
            self._move_obs = ((own, 0), (own, self.n)) if observer == 0 else ((own, self.n), (own, 0))
            self._observer_mask_mv = self._mask_mv[observer]
        else:
            self._move_obs = self._observer_mask_mv = None

    def observe_only(self, player: int | None) -> None:
        """Keep only ``player``'s observation and mask up to date from now on (``None``: both, the default).

        A move then costs two buffer writes fewer. The other player's buffers go stale, so
        :meth:`observation` and :meth:`legal_mask` refuse to read them. To read them again, call
        ``observe_only(None)`` and then :meth:`reset`, which restarts both from the templates.
        """
        if player is not None and (isinstance(player, bool) or player not in (0, 1)):
            raise ValueError(f"player must be 0, 1 or None, got {player!r}")
        self.observer = -1 if player is None else player
        self._bind_views()

    # ------------------------------------------------------------------ state
    def _empty_stores(self) -> None:
        n = self.n
        self.stores: list[list[int]] = [[], []]
        self.prop_state = [[0] * n, [0] * n]  # per proposition: 0 absent, +1 asserted, -1 negated
        self.pos_bits = [0, 0]  # bitmask of asserted propositions (+p) per player, for shaping
        self.neg_bits = [0, 0]  # bitmask of negated propositions (-p) per player

    def reset(self) -> None:
        stores = self.stores
        if stores[0] or stores[1]:  # with both stores empty every proposition is already absent
            self._empty_stores()
        self._board_mv[:] = self._zero_board_mv
        self.marks = [0, 0]  # bitboards of X's and O's cells
        self.occupied = 0
        self.thoughts_left = [self._max_thoughts, self._max_thoughts]
        self.to_move = 0
        self.winner = WINNER_NONE
        self._obs_both_mv[:] = self._obs_init_mv
        self._mask_both_mv[:] = self._mask_init_mv

    def copy(self) -> Game:
        new = Game.__new__(Game)
        for name in Game.__slots__:
            setattr(new, name, getattr(self, name))
        new.board = self.board.copy()
        new.marks = list(self.marks)
        new.stores = [list(s) for s in self.stores]
        new.prop_state = [list(s) for s in self.prop_state]
        new.pos_bits = list(self.pos_bits)
        new.neg_bits = list(self.neg_bits)
        new.thoughts_left = list(self.thoughts_left)
        new._obs_both = self._obs_both.copy()
        new._mask_both = self._mask_both.copy()
        new._bind_views()
        return new

    def __getstate__(self) -> dict:
        # Memoryviews do not pickle: templates travel as arrays, views are rebuilt from the arrays.
        state = {name: getattr(self, name) for name in Game.__slots__ if name not in _VIEW_SLOTS}
        state["_init_arrays"] = (np.asarray(self._obs_init_mv), np.asarray(self._mask_init_mv),
                                 np.asarray(self._zero_board_mv))
        return state

    def __setstate__(self, state: dict) -> None:
        obs_init, mask_init, zero_board = state.pop("_init_arrays")
        for name, value in state.items():
            setattr(self, name, value)
        self._obs_init_mv = memoryview(obs_init)
        self._mask_init_mv = memoryview(mask_init)
        self._zero_board_mv = memoryview(zero_board)
        self._no_thoughts_mv = memoryview(self._zero_mask)[self.n:]
        self._bind_views()

    @property
    def num_moves(self) -> int:
        """Marks on the board (both players)."""
        return self.occupied.bit_count()

    @property
    def done(self) -> bool:
        return self.winner != WINNER_NONE

    def store_entries(self, player: int) -> tuple[tuple[str, int], ...]:
        """The store of ``player`` oldest first, as ``("+", p)``, ``("-", p)`` or ``("#", m)`` pairs."""
        n = self.n
        out = []
        for code in self.stores[player]:
            if code < n:
                out.append(("+", code))
            elif code < 2 * n:
                out.append(("-", code - n))
            else:
                out.append(("#", code - 2 * n))
        return tuple(out)

    # ----------------------------------------------------------------- legality
    def legal_mask(self, player: int | None = None) -> np.ndarray:
        """A fresh bool array of the actions legal for ``player`` (default: the player to move).

        All False when the game is over or ``player`` is not to move.
        """
        p = self.to_move if player is None else player
        if self.winner != WINNER_NONE or p != self.to_move:
            return self._zero_mask.copy()
        if 0 <= self.observer != p:
            raise ValueError(f"player {p}'s mask is not kept: observe_only({self.observer}) is on")
        mask = self.store_mask[p].copy()
        if self.thoughts_left[p] <= 0:
            memoryview(mask)[self._thought_start:] = self._no_thoughts_mv  # a memcpy; a numpy fill costs more
        return mask

    def is_legal(self, action: int) -> bool:
        if self.winner != WINNER_NONE:
            return False
        if action < self.n:
            return not self.occupied >> action & 1
        return self.thoughts_left[self.to_move] > 0 and self._mask_mv[self.to_move][action]

    def illegal_reason(self, action: int) -> str:
        if self.winner != WINNER_NONE:
            return "the game is over"
        channel, arg = self.rules.decode[action]
        if channel == "move":
            return f"cell {arg} is occupied"
        if self.thoughts_left[self.to_move] <= 0:
            return "no thoughts are left this turn"
        state = self.prop_state[self.to_move][arg] if channel != "marker" else 0
        if channel == "propose":
            return f"+{arg} is already in the store"
        if channel == "negate":
            return f"-{arg} is already in the store"
        if channel == "forget" and state == 0:
            return f"neither +{arg} nor -{arg} is in the store"
        return "it is not legal here"  # pragma: no cover - every illegal case is listed above

    # -------------------------------------------------------------- transitions
    def _set_prop(self, p: int, q: int, state: int) -> None:
        """Record proposition ``q`` of player ``p`` as absent (0), asserted (+1) or negated (-1)."""
        self.prop_state[p][q] = state
        bit = 1 << q
        pos_bits, neg_bits = self.pos_bits, self.neg_bits
        asserted, negated = state == 1, state == -1
        pos_bits[p] = pos_bits[p] | bit if asserted else pos_bits[p] & ~bit
        neg_bits[p] = neg_bits[p] | bit if negated else neg_bits[p] & ~bit
        obs = self._obs_mv[p]
        obs[self._obs_pos + q] = 1.0 if asserted else 0.0
        obs[self._obs_neg + q] = 1.0 if negated else 0.0
        mask = self._mask_mv[p]
        # A block is legal where the thought would change the store: propose unless +q, negate unless -q,
        # forget if either. Absent channels have no block.
        if self._prop_off is not None:
            mask[self._prop_off + q] = not asserted
        if self._neg_off is not None:
            mask[self._neg_off + q] = not negated
        if self._forget_off is not None:
            mask[self._forget_off + q] = state != 0

    def _drop_code(self, p: int, code: int) -> None:
        """Bookkeeping after ``code`` left player ``p``'s store (removed or evicted)."""
        n = self.n
        if code < 2 * n:
            self._set_prop(p, code % n, 0)
        else:
            # Recount (``code`` has already left the store): repeated float32 += / -= of 1/memory_size
            # drifts away from count / memory_size, even below 0, outside the observation space.
            self._obs_mv[p][self.rules.obs_marker + code - 2 * n] = self.stores[p].count(code) / self._memory_size

    def _append(self, p: int, code: int) -> None:
        store = self.stores[p]
        store.append(code)
        if len(store) > self._memory_size:
            self._drop_code(p, store.pop(0))  # the oldest entry is evicted
        self._obs_mv[p][self._obs_entries] = len(store) / self._memory_size

    def think(self, action: int) -> tuple[str, int, int]:
        """Apply a legal thought action of the player to move; return ``(channel, arg, removed_code)``.

        ``removed_code`` is the store code the thought removed (-1 if none), which shaping needs.
        """
        p = self.to_move
        n = self.n
        channel, arg = self._decode[action]
        store = self.stores[p]
        removed = -1
        if channel == "marker":
            self._append(p, 2 * n + arg)
            self._obs_mv[p][self.rules.obs_marker + arg] = store.count(2 * n + arg) / self._memory_size
        else:
            state = self.prop_state[p][arg]
            if state != 0:
                removed = arg if state == 1 else n + arg
                store.remove(removed)
            if channel == "propose":
                self._set_prop(p, arg, 1)
                self._append(p, arg)
            elif channel == "negate":
                self._set_prop(p, arg, -1)
                self._append(p, n + arg)
            else:  # forget
                self._set_prop(p, arg, 0)
                self._obs_mv[p][self._obs_entries] = len(store) / self._memory_size
        left = self.thoughts_left[p] - 1
        self.thoughts_left[p] = left
        self._obs_mv[p][self._obs_thoughts_left] = left / self._max_thoughts
        return channel, arg, removed

    def clear_store(self, p: int) -> None:
        codes = list(self.stores[p])
        self.stores[p].clear()  # first, so that _drop_code recounts markers on the emptied store
        for code in codes:
            self._drop_code(p, code)
        self._obs_mv[p][self.rules.obs_entries] = 0.0

    def move(self, cell: int) -> int:
        """Place the mark of the player to move on empty ``cell``; return the winner code afterwards.

        Returns ``WINNER_NONE`` while the game goes on, the mover's index on a win, ``WINNER_DRAW``.
        """
        p = self.to_move
        bit = 1 << cell
        marks = self.marks
        mine = marks[p] = marks[p] | bit
        occupied = self.occupied = self.occupied | bit
        self._board_mv[cell] = p + 1
        if self.observer < 0:
            own_obs, other_obs = self._obs_pairs[p]
            own_obs[cell] = 1.0
            other_obs[self.n + cell] = 1.0
            mask_0, mask_1 = self._mask_mv
            mask_0[cell] = mask_1[cell] = False
        else:
            view, offset = self._move_obs[p]
            view[offset + cell] = 1.0
            self._observer_mask_mv[cell] = False
        if self.thoughts_left[p] != self._max_thoughts:  # p thought this turn: its turn state resets
            self.thoughts_left[p] = self._max_thoughts
            self._obs_mv[p][self._obs_thoughts_left] = 1.0
            if self._persist_turn and self.stores[p]:
                self.clear_store(p)
        win_table = self._win_table
        if win_table[mine] if win_table is not None else any(mine & line == line for line in self.rules.lines_through[cell]):
            self.winner = p
            return p
        if occupied == self._full_board:
            self.winner = WINNER_DRAW
            return WINNER_DRAW
        self.to_move = 1 - p
        return WINNER_NONE

    def forfeit(self, player: int) -> None:
        """End the game as a loss for ``player`` (an illegal action under ``illegal_action="lose"``)."""
        self.winner = 1 - player

    def step(self, action: int) -> None:
        """Apply a legal action (move or thought) of the player to move."""
        if action < self.n:
            self.move(action)
        else:
            self.think(action)

    def observation(self, player: int | None = None) -> np.ndarray:
        """A fresh float32 copy of the observation of ``player`` (default: the player to move)."""
        p = self.to_move if player is None else player
        if 0 <= self.observer != p:
            raise ValueError(f"player {p}'s observation is not kept: observe_only({self.observer}) is on")
        return self.obs[p].copy()

    def store_string(self, player: int) -> str:
        return " ".join(f"{sign}{arg}" for sign, arg in self.store_entries(player))


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
    x_count = int(np.count_nonzero(board == X))
    o_count = int(np.count_nonzero(board == O))
    return 0 if x_count == o_count else 1


def winner_of(board: np.ndarray, rows: int, cols: int, k: int) -> int:
    """Winner of a board: 0 (X), 1 (O), ``WINNER_DRAW`` for a full board, ``WINNER_NONE`` otherwise."""
    for line in winning_lines(rows, cols, k):
        first = board[line[0]]
        if first != EMPTY and all(board[c] == first for c in line):
            return int(first) - 1
    return WINNER_DRAW if np.all(board != EMPTY) else WINNER_NONE
