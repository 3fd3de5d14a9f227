"""What the learner sees of a batch state: observations, legal-action masks and uniform legal actions.

All three are derived from the :class:`~tttthought_env.vector.state.BatchState` alone (docs/spec.md,
"Observation" and "Legal actions"). Bit columns are packed into int64 words and unpacked with one table
gather per byte (:meth:`Backend.unpack_words`), which beats writing columns one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tttthought_env.layout import (
    TOKEN_BUDGET,
    TOKEN_EMPTY,
    TOKEN_MARKER,
    TOKEN_MINE,
    TOKEN_OCCUPIED,
    TOKEN_POSITIVE,
    Layout,
)

from .kernel import Kernel
from .state import BatchState


class Observer:
    """Observations, masks and action sampling of one configuration."""

    def __init__(self, kernel: Kernel, layout: Layout, obs_mode: str = "flat") -> None:
        self.k, self.be, self.xp, self.lay = kernel, kernel.be, kernel.xp, kernel.lay
        self.layout = layout
        self.tokens_mode = obs_mode == "tokens"
        self.offsets = {channel: start for channel, (start, _) in layout.blocks.items()}
        n = layout.n_cells
        self.obs_marker = 4 * n  # columns of the observation, as in the core
        self.obs_thoughts_left = 4 * n + layout.marker_slots
        self.obs_entries = self.obs_thoughts_left + 1

    # ============================================================ bit words
    def pack(self, fields: Sequence[tuple[Any, int, int]], width: int) -> list[Any]:
        """int64 words holding ``fields`` (``(bits, offset, nbits)``) at their column offsets."""
        xp = self.xp
        words: list[Any] = [None] * ((width + 63) // 64)
        for value, offset, nbits in fields:
            v = xp.astype(value, xp.int64)
            w, sh = divmod(offset, 64)
            part = v << sh if sh else v
            words[w] = part if words[w] is None else words[w] | part
            if sh and sh + nbits > 64:
                spill = (v >> (64 - sh)) & ((1 << sh) - 1)
                words[w + 1] = spill if words[w + 1] is None else words[w + 1] | spill
        for i, word in enumerate(words):
            if word is None:
                words[i] = self.be.zeros((fields[0][0].shape[0],), self.be.int64)
        return words

    # ============================================================ observations
    def obs(self, st: BatchState) -> Any:
        """float32 ``(B, obs_size)`` observations (docs/spec.md, "Observation"), or with ``obs_mode="tokens"``
        the int64 ``(B, L, 3)`` tokens (:meth:`tokens`)."""
        if self.tokens_mode:
            return self.tokens(st)
        be, xp, lay = self.be, self.xp, self.lay
        n, width = lay.n, self.layout.obs_size
        fields = [(st.me, 0, n), (st.opp, n, n)] if st.last is None else [(st.me | st.opp, 0, n), (st.last, n, n)]
        if lay.thinking:
            fields += [(st.pos, 2 * n, n), (st.neg, 3 * n, n)]
        elif lay.max_thoughts > 0:  # thoughts left / max_thoughts stays 1.0: a constant bit
            fields.append((xp.ones_like(st.me), self.obs_thoughts_left, 1))
        obs = be.unpack_words(self.pack(fields, width), width, be.float32)
        if lay.thinking:
            # count / S in float32: one correctly rounded division, the float32 of the core's Python c / S.
            f32 = be.float32
            S, max_thoughts = float(lay.memory), float(lay.max_thoughts)
            for m in range(lay.markers):
                obs[:, self.obs_marker + m] = xp.astype(st.mcount[:, m], f32) / S
            obs[:, self.obs_thoughts_left] = xp.astype(st.tleft, f32) / max_thoughts
            obs[:, self.obs_entries] = xp.astype(st.slen, f32) / S
        return obs

    def tokens(self, st: BatchState) -> Any:
        """int64 ``(B, L, 3)`` token observations, row for row those of :meth:`tttthought_env.core.Game.tokens`."""
        be, xp, k, lay = self.be, self.xp, self.k, self.lay
        i64, n = xp.int64, lay.n
        index = xp.astype(be.asarray(np.arange(n)), i64)[None, :] + xp.zeros((st.me.shape[0], 1), dtype=i64)
        if st.last is None:  # full view: 1 empty, 2 mine, 3 the opponent's
            kind = TOKEN_EMPTY + k.bit_columns(st.me, i64) * (TOKEN_MINE - TOKEN_EMPTY) + k.bit_columns(st.opp, i64) * 2
        else:  # last-move view: 1 empty, 8 occupied, 9 the opponent's last move
            kind = (TOKEN_EMPTY + k.bit_columns(st.me | st.opp, i64) * (TOKEN_OCCUPIED - TOKEN_EMPTY)
                    + k.bit_columns(st.last, i64))
        rows = [xp.stack([kind, index, index], axis=2)]
        if lay.thinking:
            rows.append(self._store_tokens(st))
        else:  # no thought channel: the store stays empty
            rows.append(xp.zeros((st.me.shape[0], self.layout.memory_size, 3), dtype=i64))
        tleft = xp.astype(st.tleft, i64) if st.tleft is not None else xp.full_like(index[:, 0], lay.max_thoughts)
        budget = xp.stack([xp.full_like(tleft, TOKEN_BUDGET), tleft, xp.zeros_like(tleft)], axis=1)
        return xp.concat([*rows, budget[:, None, :]], axis=1)

    def _store_tokens(self, st: BatchState) -> Any:
        """``(B, memory_size, 3)``: the store's entries oldest first (position = age), zero rows after them."""
        xp, lay, n = self.xp, self.lay, self.lay.n
        i64 = xp.int64
        fields = [(st.store[:, w] >> (lay.code_bits * f)) & lay.field for w in range(lay.words) for f in range(lay.fields)]
        codes = xp.stack(fields[:self.layout.memory_size], axis=1) - 1  # -1 where the slot is empty
        used = codes >= 0
        kind = TOKEN_POSITIVE + xp.minimum(codes // n, xp.full_like(codes, 2))
        value = xp.where(kind == TOKEN_MARKER, codes - 2 * n, codes - (codes // n) * n)
        slot = xp.astype(self.be.asarray(np.arange(self.layout.memory_size)), i64)[None, :]
        age = xp.astype(st.slen, i64)[:, None] - 1 - slot
        return xp.astype(xp.stack([kind, value, age], axis=2) * xp.astype(used, i64)[:, :, None], i64)

    # ============================================================ legal actions
    def legal_fields(self, st: BatchState) -> list[tuple[Any, int, int]]:
        """The legal actions as ``(bits, action offset, width)`` fields, one per action block."""
        k, xp, lay = self.k, self.xp, self.lay
        n, off = lay.n, self.offsets
        moves = ~(st.me | st.opp) & lay.full
        may_move = k.may_move(st)
        if may_move is not None:
            moves = moves & k.ones_where(may_move, moves.dtype)
        over = None
        if k.reset_can_end:
            over = k.game_over(st)
            moves = moves & ~k.ones_where(over, moves.dtype)
        fields = [(moves, 0, n)]
        if not lay.thinking:
            return fields
        has = st.tleft > 0
        if over is not None:
            has = has & ~over
        hm = k.ones_where(has, st.pos.dtype)
        if "propose" in off:
            fields.append((~st.pos & lay.full & hm, off["propose"], n))
        if "negate" in off:
            fields.append((~st.neg & lay.full & hm, off["negate"], n))
        if "forget" in off:
            fields.append(((st.pos | st.neg) & hm, off["forget"], n))
        if "marker" in off:
            has64 = xp.astype(has, xp.int64)
            for start in range(0, lay.markers, 32):
                width = min(32, lay.markers - start)
                fields.append((has64 * ((1 << width) - 1), off["marker"] + start, width))
        return fields

    def mask(self, st: BatchState) -> Any:
        """bool ``(B, A)``: the legal actions."""
        be, width = self.be, self.lay.actions
        return be.unpack_words(self.pack(self.legal_fields(st), width), width, be.bool)

    # ============================================================ sampling
    def sample(self, st: BatchState, u: Any) -> Any:
        """One uniformly random legal action per game (action 0 where none is legal), from one draw ``u``.

        Drawn from the bitboards, without touching the ``(B, A)`` mask: ``u`` picks the rank ``r`` among
        the legal actions; the block holding it and the ``r``-th legal id in it follow.
        """
        if self.k.t.sampler_k and not self.k.reset_can_end:
            return self._sample_by_proposition(st, u)
        xp, k = self.xp, self.k
        i32 = xp.int32
        fields = self.legal_fields(st)
        marker_off = self.offsets.get("marker", self.lay.actions)
        counts = [xp.astype(k.popcount(bits), i32) if offset < marker_off  # a marker chunk: all bits set or none
                  else xp.astype(bits != 0, i32) * width for bits, offset, width in fields]
        total = counts[0]
        for c in counts[1:]:
            total = total + c
        r = xp.minimum(xp.astype(u * xp.astype(total, xp.float32), i32), total - 1)
        # Walk the blocks in order: a game whose rank reaches a block's start moves its choice into that block.
        bits_sel, rank, offset_sel, start = xp.astype(fields[0][0], xp.int64), r, xp.zeros_like(r), counts[0]
        in_marker = None
        for (bits, offset, _width), count in zip(fields[1:], counts[1:]):
            inside = k.ones_where(r >= start, i32)
            inside64 = xp.astype(inside, xp.int64)
            bits_sel = (bits_sel & ~inside64) | (xp.astype(bits, xp.int64) & inside64)
            rank = (rank & ~inside) | ((r - start) & inside)
            offset_sel = (offset_sel & ~inside) | (inside & offset)
            if offset >= marker_off:
                in_marker = inside if in_marker is None else in_marker | inside
            start = start + count
        # (a marker chunk may be wider than the board: & full keeps its bits a valid table index)
        pick = xp.astype(k.select_rank(xp.astype(bits_sel, k.bb) & self.lay.full, rank), i32)
        if in_marker is not None:  # the r-th marker of a chunk
            pick = (pick & ~in_marker) | (rank & in_marker)
        return offset_sel + pick

    def _sample_by_proposition(self, st: BatchState, u: Any) -> Any:
        """:meth:`sample` when every proposition has the same number ``k`` of legal thoughts whatever its
        state (propose, negate and forget all on: 2), so rank ``r`` among the thoughts is proposition
        ``r // k``, its ``r % k``-th legal channel (a fixed bijection: uniform stays uniform)."""
        be, xp, kernel, lay = self.be, self.xp, self.k, self.lay
        i32 = xp.int32
        n, k = lay.n, kernel.t.sampler_k
        moves = ~(st.me | st.opp) & lay.full
        may_move = kernel.may_move(st)
        if may_move is not None:
            moves = moves & kernel.ones_where(may_move, moves.dtype)
        c_move = xp.astype(kernel.popcount(moves), i32)
        total = c_move + xp.astype(st.tleft > 0, i32) * (k * n + lay.markers)
        r = xp.minimum(xp.astype(u * xp.astype(total, xp.float32), i32), total - 1)
        move = xp.astype(kernel.select_rank(moves, r), i32)
        rt = r - c_move
        # clamped (rows without a thought ignore it); no Python scalars in xp calls: on a GPU they become copies
        q = xp.minimum(xp.maximum(rt // k, xp.zeros_like(rt)), xp.full_like(rt, n - 1))
        which = rt - (rt // k) * k
        state = ((xp.astype(st.pos, i32) >> q) & 1) + ((xp.astype(st.neg, i32) >> q) & 1) * 2
        thought = be.take(kernel.t.sampler, state * k + which) + q
        if lay.markers:
            marker = self.offsets["marker"] + rt - k * n
            mm = kernel.ones_where(rt >= k * n, i32)
            thought = (thought & ~mm) | (marker & mm)
        tm = kernel.ones_where(rt >= 0, i32)
        return (move & ~tm) | (thought & tm)
