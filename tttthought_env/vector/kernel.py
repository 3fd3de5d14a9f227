"""The batched rules of docs/spec.md: think, move, the opponent's reply, legality, the win test, rewards.

This is the one second form of the rules (the reference is :mod:`tttthought_env.core`), written once
against the Python array API (``xp``) so that it runs on NumPy arrays and PyTorch tensors alike. It
shares what can be shared with the single env: the opponents' candidate functions
(:mod:`tttthought_env.opponents`), the R(δx) judgements (:mod:`tttthought_env.rewards`) and the outcome
codes (:mod:`tttthought_env.transition`). A choice between two integers is a blend with ``&``/``|`` and an
all-ones mask (:meth:`Kernel.ones_where`) rather than ``where``: cheaper, and the same on both backends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tttthought_env.opponents import epsilon_candidates, heuristic_rule, random_candidates
from tttthought_env.rewards import oracle_reward, potential, prediction_reward, store_balance, thought_is_correct

from .backend import Backend
from .state import BatchState
from .tables import CH_FORGET, CH_MARKER, CH_MOVE, CH_NEGATE, CH_PROPOSE, Layouts, Tables


def rescale_pick_draw(xp: Any, u: Any, use_random: Any, epsilon: float) -> Any:
    """The ε-mix's pick from the same float32 draw ``u`` as its coin (``use_random = u < epsilon``).

    ``u`` is uniform in ``[0, ε)`` where the coin came up and in ``[ε, 1)`` elsewhere; rescaled to ``[0, 1)``
    it picks the cell, so the vector env spends one draw per reply where the single env spends two.
    """
    if epsilon >= 1.0:
        return u / epsilon
    r = xp.astype(use_random, xp.float32)
    return (u - (1.0 - r) * epsilon) * (r * (1.0 / epsilon - 1.0 / (1.0 - epsilon)) + 1.0 / (1.0 - epsilon))


@dataclass
class Decision:
    """What each game's action is, before anything moves (all ``(B,)``)."""

    action: Any  # int64/intp action ids
    bit: Any  # bitboard: the action's cell or proposition bit (0 for markers)
    channel: Any  # int8 channel code, None without thoughts
    is_move: Any  # bool, None when every action is a move
    has_pos: Any  # bool: +p of the action's proposition is in the store (None without thoughts)
    has_neg: Any  # bool: -p is in the store
    legal: Any  # bool
    move: Any  # bool: a legal move
    thought: Any  # bool: a legal thought (None without thoughts)


class Kernel:
    """The batched rules of one configuration, over the lookup tables of :class:`Tables`."""

    def __init__(self, be: Backend, lay: Layouts, tables: Tables, *, opponent: Any, epsilon: float,
                 persist: str, reset_can_end: bool, channels: tuple[str, ...] = (), min_thoughts: int = 0) -> None:
        self.be, self.xp, self.lay, self.t = be, be.xp, lay, tables
        self.channels, self.min_thoughts = channels, min_thoughts
        self.bb = getattr(be.xp, lay.board_np.__name__)
        self.opponent = opponent  # a name of OPPONENTS or a batched callable
        self.epsilon = epsilon
        self.persist = persist
        #: The opponent's opening move can end the game (k = 1, or a one-cell board): every action is illegal.
        self.reset_can_end = reset_can_end

    def may_move(self, st: BatchState) -> Any:
        """Where ``min_thoughts`` lets the player move: it has thought that often this turn, or no thought is
        legal (core.Game.legal_bits); ``None`` where it never forbids a move."""
        if not self.min_thoughts or not self.lay.thinking:
            return None
        xp, full = self.xp, self.lay.full
        some_thought = xp.zeros_like(st.tleft > 0)
        for channel, bits in (("propose", ~st.pos & full), ("negate", ~st.neg & full), ("forget", st.pos | st.neg)):
            if channel in self.channels:
                some_thought = some_thought | (bits != 0)
        if "marker" in self.channels:
            some_thought = some_thought | True
        taken = self.lay.max_thoughts - xp.astype(st.tleft, xp.int32)
        return (taken >= self.min_thoughts) | ~(some_thought & (st.tleft > 0))

    # ============================================================ bit helpers
    def ones_where(self, cond: Any, dtype: Any) -> Any:
        """``-1`` (all bits set) where ``cond``, else ``0``: blends ints with ``&`` and ``|`` (no ``where``)."""
        return -self.xp.astype(cond, dtype)

    def bit_columns(self, x: Any, dtype: Any) -> Any:
        """``(B, N)``: bit ``c`` of each bitboard in column ``c`` (the generic form of the bit tables)."""
        return self.xp.astype((self.xp.astype(x, self.xp.int64)[:, None] >> self.t.shifts) & 1, dtype)

    def popcount(self, x: Any) -> Any:
        if self.t.small:
            return self.be.take(self.t.pop, x)
        return self.xp.sum(self.bit_columns(x, self.xp.int16), axis=1)

    def won(self, marks: Any) -> Any:
        """Whether ``marks`` holds a winning line."""
        if self.t.small:
            return self.be.take(self.t.won, marks)
        xp = self.xp
        m = xp.astype(marks, xp.int64)[:, None] & self.t.line_masks[None, :]
        return xp.any(m == self.t.line_masks[None, :], axis=1)

    def select_rank(self, bits: Any, r: Any) -> Any:
        """The ``r``-th set bit of ``bits`` (rows with ``r`` out of range give an arbitrary cell)."""
        xp = self.xp
        if self.t.small:
            rr = xp.minimum(xp.maximum(r, xp.zeros_like(r)), xp.full_like(r, self.lay.n - 1))
            return self.be.take(self.t.select, xp.astype(bits, xp.int32) * self.lay.n + rr)
        csum = xp.cumulative_sum(self.bit_columns(bits, xp.int32), axis=1)
        return xp.argmax(xp.astype(csum > r[:, None], xp.int8), axis=1)

    def pick(self, cand: Any, u: Any) -> Any:
        """The ``floor(u * popcount(cand))``-th set bit of each ``cand`` (a uniform choice among its cells)."""
        xp = self.xp
        count = xp.astype(self.popcount(cand), xp.int32)
        r = xp.astype(u * xp.astype(count, xp.float32), xp.int32)
        r = xp.minimum(r, count - 1)  # u < 1, but float rounding may reach count; count 0 only in unused rows
        if self.t.small:  # r in range wherever cand has a bit: no clamp (r = -1 reads the table's last entry)
            return self.be.take(self.t.select, xp.astype(cand, xp.int32) * self.lay.n + r)
        return self.select_rank(cand, r)

    def optimal_bits(self, me: Any, opp: Any, agent: Any) -> Any:
        """The solver's optimal moves (bitmask) of each game's position (the player to move's), by base-3 key
        ``sum(board[i] * 3**i)``: ``pow3`` of the X bits + 2 * ``pow3`` of the O bits."""
        t_me, t_opp = self.be.take(self.t.pow3, me), self.be.take(self.t.pow3, opp)
        a = self.xp.astype(agent, self.xp.int32)
        return self.be.take(self.t.opt, t_me + t_opp * 2 + (t_me - t_opp) * a)

    def boards(self, me: Any, opp: Any, agent: Any) -> Any:
        """int8 ``(B, N)`` boards (0 empty, 1 X, 2 O), for callable opponents."""
        a = self.xp.astype(agent, self.xp.int8)[:, None]
        return self.bit_columns(me, self.xp.int8) * (1 + a) + self.bit_columns(opp, self.xp.int8) * (2 - a)

    # ============================================================ the opponent
    def base_candidates(self, me: Any, opp: Any, agent: Any) -> Any:
        """The built-in opponent's candidate cells in each game, the opponent to move."""
        if self.opponent == "random":
            return random_candidates(me, opp, self.lay.full)
        if self.opponent == "minimax":
            return self.optimal_bits(me, opp, agent)
        return heuristic_rule(opp, me, self.t.heuristic)

    def opponent_cells(self, me: Any, opp: Any, agent: Any, need: Any, u: Any) -> Any:
        """Cell the opponent plays in every game where ``need``; rows elsewhere are arbitrary.

        ``u``: one float32 uniform per game; with ``epsilon > 0`` it is the coin and, rescaled, the pick.
        """
        be, xp = self.be, self.xp
        empty = random_candidates(me, opp, self.lay.full)
        use_random = None
        if self.epsilon > 0.0:
            use_random = u < self.epsilon
            u = rescale_pick_draw(xp, u, use_random, self.epsilon)
        if callable(self.opponent):
            cells = self.pick(empty, u) if use_random is not None else be.zeros(tuple(me.shape), be.int32)
            ask = need if use_random is None else need & ~use_random
            if be.item_any(ask):
                rows = be.nonzero(ask)
                boards = self.boards(me[rows], opp[rows], agent[rows])
                got = self.opponent(boards, be.rng)
                cells = self._checked_callable_cells(got, boards, cells, rows)
            return cells
        cand = self.base_candidates(me, opp, agent)
        if use_random is not None:
            cand = epsilon_candidates(empty, cand, use_random)
        return self.pick(cand, u)

    def _checked_callable_cells(self, got: Any, boards: Any, cells: Any, rows: Any) -> Any:
        be, xp = self.be, self.xp
        who = f"opponent {getattr(self.opponent, '__name__', 'callable')!r}"
        try:
            arr = be.asarray(got)
        except Exception as err:
            raise ValueError(f"{who} must return an int array of {boards.shape[0]} empty cells, got {got!r}") from err
        m = boards.shape[0]
        if tuple(arr.shape) != (m,) or arr.dtype not in (xp.int8, xp.int16, xp.int32, xp.int64, xp.uint8):
            raise ValueError(
                f"{who} must return an int array of shape ({m},) (one empty cell per board), got "
                f"shape {tuple(arr.shape)} and dtype {arr.dtype}"
            )
        arr = xp.astype(arr, xp.int64)
        out_of_range = (arr < 0) | (arr >= self.lay.n)
        if be.item_any(out_of_range):
            i = int(be.to_numpy(be.nonzero(out_of_range))[0])
            raise ValueError(f"{who} must return cells in [0, {self.lay.n}), got {int(arr[i])} for board {i}")
        picked = xp.take_along_axis(boards, arr[:, None], axis=1)[:, 0]
        if be.item_any(picked != 0):
            i = int(be.to_numpy(be.nonzero(picked != 0))[0])
            raise ValueError(f"{who} returned cell {int(arr[i])}, which is occupied on board {i}; "
                             "it must return an empty cell")
        cells = xp.astype(cells, xp.int64)
        cells[rows] = arr
        return cells

    # ============================================================ legality
    def game_over(self, st: BatchState) -> Any:
        """Games the opponent's opening move already ended (only where :attr:`reset_can_end`)."""
        return self.won(st.opp) | ((st.me | st.opp) == self.lay.full)

    def decide(self, st: BatchState, a: Any) -> Decision:
        """Which actions are legal moves and legal thoughts (docs/spec.md, "Legal actions")."""
        be, xp, lay, t = self.be, self.xp, self.lay, self.t
        bit = be.take(t.bit, a)
        move_free = ((st.me | st.opp) & bit) == 0
        may_move = self.may_move(st)
        if may_move is not None:
            move_free = move_free & may_move
        ch = pb = nb = None
        if lay.thinking:
            ch = be.take(t.chan, a)
            is_move = ch == CH_MOVE
            pb = (st.pos & bit) != 0
            nb = (st.neg & bit) != 0
            s = ch * 3 + xp.astype(pb, xp.int8) + xp.astype(nb, xp.int8) * 2
            thought_ok = be.take(t.ok, s) & (st.tleft > 0)
            legal = (is_move & move_free) | (~is_move & thought_ok)
        elif lay.actions > lay.n:  # thought blocks exist but max_thoughts=0: every thought is illegal
            is_move = a < lay.n
            legal = is_move & move_free
        else:
            is_move = None
            legal = move_free
        if self.reset_can_end:
            legal = legal & ~self.game_over(st)
        move = legal if is_move is None else is_move & legal
        thought = ~is_move & legal if lay.thinking else None
        return Decision(a, bit, ch, is_move, pb, nb, legal, move, thought)

    # ============================================================ thoughts
    def think(self, st: BatchState, d: Decision) -> BatchState:
        """The store after the legal thoughts (rows ``d.thought``); other rows unchanged.

        The store is ``W`` int64 words of ``F`` fields (entry code + 1, 0 = empty, oldest lowest). A thought
        about a proposition in the store deletes its entry; a thought that adds an entry to a full store
        evicts the oldest; then the new entry is appended (docs/spec.md, "Thoughts").
        """
        be, xp, lay, t = self.be, self.xp, self.lay, self.t
        i64 = xp.int64
        a, bit, ch, th = d.action, d.bit, d.channel, d.thought
        slen = xp.astype(st.slen, i64)
        add1 = be.take(t.add1, a) & self.ones_where(th, i64)  # code + 1 of the entry the thought appends, 0: none
        has_rem = th & (d.has_pos | d.has_neg)  # a thought about a proposition in the store: its entry leaves
        hrm = self.ones_where(has_rem, i64)
        rem1 = (be.take(t.arg, a) + 1 + xp.astype(d.has_neg, i64) * lay.n) & hrm
        evict = (add1 != 0) & ~has_rem & (slen == lay.memory)
        words = [st.store[:, w] for w in range(lay.words)]
        evicted1 = words[0] & lay.field & self.ones_where(evict, i64)
        words = self._delete(words, rem1 * lay.ones, hrm, self.ones_where(evict, i64))
        slen = slen - xp.astype(has_rem | evict, i64)
        word_of = slen // lay.fields  # the new entry goes to field slen: word slen // F, field slen % F
        shift = (slen - word_of * lay.fields) * lay.code_bits  # (no %: 4x slower in numpy)
        words = [w | ((add1 << shift) & self.ones_where(word_of == i, i64)) for i, w in enumerate(words)]
        # +/- bits: drop the removed and the evicted propositions, then set the new entry's.
        keep = ~((bit & self.ones_where(has_rem, st.pos.dtype)) | be.take(t.code_bit, evicted1))
        pos = (st.pos & keep) | (bit & self.ones_where(th & (ch == CH_PROPOSE), st.pos.dtype))
        neg = (st.neg & keep) | (bit & self.ones_where(th & (ch == CH_NEGATE), st.neg.dtype))
        mcount = st.mcount
        if lay.markers:
            mcount = mcount + be.take(t.marker_of, add1) - be.take(t.marker_of, evicted1)
        slen = xp.astype(slen + xp.astype(add1 != 0, i64), st.slen.dtype)
        return st.replace(store=xp.stack(words, axis=1), slen=slen, mcount=mcount, pos=pos, neg=neg,
                          tleft=st.tleft - xp.astype(th, st.tleft.dtype),
                          thoughts=st.thoughts + xp.astype(th, st.thoughts.dtype))

    def _delete(self, words: list[Any], target: Any, hrm: Any, shifting: Any) -> list[Any]:
        """Each store with the field equal to ``target`` deleted (rows ``hrm``; ``target`` repeats the code in
        every field) or its oldest one (rows ``shifting``): lower fields stay, higher ones move down one
        field, and the next word's lowest field moves into the top one."""
        lay, cb = self.lay, self.lay.code_bits
        out = []
        for i, word in enumerate(words):
            x = word ^ target
            # SWAR: the field equal to the target is zero in x, and its top bit the lowest one flagged (the
            # flags above it may be borrows; the lowest is exact; a store holds a proposition at most once).
            flagged = (x - lay.ones) & ~x & lay.highs & hrm
            low = flagged & -flagged
            stay = ((low >> (cb - 1)) - 1) & ~shifting  # -1 where nothing is deleted in this word or below
            incoming = (words[i + 1] & lay.field) << (cb * (lay.fields - 1)) if i + 1 < len(words) else 0
            out.append((word & stay) | (((word >> cb) | incoming) & ~stay))
            if i + 1 < len(words):
                shifting = self.ones_where(stay != -1, self.xp.int64)
        return out

    # ============================================================ moves
    def learner_move(self, st: BatchState, d: Decision) -> tuple[BatchState, Any, Any, Any]:
        """The learner's legal moves: ``(state, won, draw, needs_reply)``; a move refills the thoughts
        and, with ``persist="turn"``, empties the mover's store."""
        xp, lay = self.xp, self.lay
        mv = d.move
        mvm = self.ones_where(mv, self.bb)
        me = st.me | (d.bit & mvm)
        won = mv & self.won(me)
        full = (me | st.opp) == lay.full
        draw = mv & ~won & full
        reply = mv & ~won & ~full
        st = st.replace(me=me)
        if lay.thinking:
            rt = self.ones_where(mv, st.tleft.dtype)
            st = st.replace(tleft=(st.tleft & ~rt) | (rt & lay.max_thoughts))
            if self.persist == "turn":
                st = self.clear_stores(st, mv)
        return st, won, draw, reply

    def clear_stores(self, st: BatchState, rows: Any) -> BatchState:
        """``st`` with the stores of the games where ``rows`` emptied."""
        def keep(x: Any) -> Any:
            return x & ~self.ones_where(rows, x.dtype)

        # (B, M) marker counts: the row mask by one gather (a broadcast over a short last axis is slow in numpy)
        mcount = st.mcount & self.be.take(self.t.keep_markers, rows) if self.lay.markers else None
        store = st.store & ~self.ones_where(rows, st.store.dtype)[:, None]  # (B, W): W is 1 below ~60 bits of store
        return st.replace(pos=keep(st.pos), neg=keep(st.neg), store=store, slen=keep(st.slen), mcount=mcount)

    def opponent_reply(self, st: BatchState, reply: Any, u: Any) -> tuple[BatchState, Any, Any, Any]:
        """The opponent's move where ``reply``: ``(state, its bit, it won, it filled the board)``."""
        cells = self.opponent_cells(st.me, st.opp, st.agent, reply, u)
        obit = self.be.take(self.t.cell_bit, cells) & self.ones_where(reply, self.bb)
        opp = st.opp | obit
        owon = reply & self.won(opp)
        ofull = reply & ~owon & ((st.me | opp) == self.lay.full)
        if st.last is not None:  # view="last_move": the reply is the opponent's last move now
            return st.replace(opp=opp, last=(st.last & ~self.ones_where(reply, self.bb)) | obit), obit, owon, ofull
        return st.replace(opp=opp), obit, owon, ofull

    # ============================================================ shaping (R(δx) from tttthought_env.rewards)
    def potential(self, pos: Any, neg: Any, optimal: Any, scale: float) -> Any:
        """Φ of the stores, float64."""
        xp = self.xp

        def count(bits: Any) -> Any:  # int32: int8 table counts would overflow in the sums
            return xp.astype(self.popcount(bits), xp.int32)

        balance = store_balance(pos, neg, optimal, self.lay.full, count)
        return potential(xp.astype(balance, self.be.float64), scale, self.lay.n)

    def oracle(self, d: Decision, optimal: Any, scale: float, zero: Any) -> Any:
        """``"oracle"``: ±scale per judged thought (markers are not judged)."""
        xp = self.xp
        asserts_absent = (d.channel == CH_NEGATE) | ((d.channel == CH_FORGET) & d.has_pos)
        correct = thought_is_correct(optimal, d.bit, asserts_absent)
        # ±1.0 first, then the scale: float64 on both backends (torch would compute scale * int in float32)
        value = oracle_reward(xp.astype(correct, self.be.float64), 1.0) * scale
        return xp.where(d.thought & (d.channel != CH_MARKER), value, zero)

    def prediction(self, pos: Any, neg: Any, opponent_bit: Any, scale: float) -> Any:
        """``"prediction"``: ±scale where the store forecast the opponent's cell (0 bits where no reply)."""
        return self.xp.astype(prediction_reward(pos, neg, opponent_bit, 1.0), self.be.float64) * scale
