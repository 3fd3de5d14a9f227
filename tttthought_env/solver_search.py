"""The exact solver's search for boards too large for a complete table: memoised fail-soft alpha-beta (negamax)
over symmetry-reduced positions, with threat-based move ordering and pruning. Closures over the board's tables:
this is the solver's hot path, and closure variables are faster to read than attributes."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator

__all__ = ["SolverLimitError", "make_search"]


class SolverLimitError(ValueError):
    """The exact solution of a position needs more work than the solver is allowed to do."""


def make_search(line_masks: tuple[int, ...], perms: list[tuple[int, ...]], tt: dict[int, int], limit: int,
                describe: str) -> Callable[[int, int], int]:
    """``exact(x, o)``: the value of an unfinished position for the player to move.

    ``perms`` are the board's symmetries (cell ``c`` goes to ``perm[c]``); ``tt`` maps a position's
    canonical key (the least of its keys under every symmetry) to ``(lower + 1) * 3 + (upper + 1) + 9 *
    (best cell + 1)``, the best cell in the canonical frame; absent reads as ``unseen`` (bounds -1..1).
    Past ``limit`` stored positions, :class:`SolverLimitError` names ``describe``.
    """
    n = len(perms[0])
    full = (1 << n) - 1
    lines_on = [sum(line >> c & 1 for line in line_masks) for c in range(n)]
    # Cells on many lines first: alpha-beta cuts off sooner when strong moves come first.
    order = tuple((cell, 1 << cell) for cell in sorted(range(n), key=lambda c: (-lines_on[c], c)))
    # sym_bits[p][c][s]: the bit that a mark of player p on cell c sets in the key of symmetry s.
    sym_bits = tuple(tuple(tuple(1 << (perm[c] + p * n) for perm in perms) for c in range(n)) for p in (0, 1))
    inverse_perms = tuple(tuple(perm.index(c) for c in range(n)) for perm in perms)
    or_, unseen = operator.or_, 2
    bounds_of = tuple((code // 3 - 1, code % 3 - 1) for code in range(9))  # entry % 9 -> (lower, upper)

    def scan_lines(me: int, opp: int, my_moves: int, opp_moves: int) -> tuple[int, int, int, int, bool, bool] | None:
        """None if the mover completes a line now; else the opponent's completing cells, the cells making a threat
        for the mover (two at once: ``doubles``) and for the opponent, and whether each side can still win."""
        threats = makers = doubles = opp_makers = 0
        me_alive = opp_alive = False
        for line in line_masks:
            if not line & opp:
                rest = line & ~me
                if not rest & (rest - 1):
                    return None  # one mark short of a line: win now (cheap, so not stored)
                need = rest.bit_count()
                if need <= my_moves:
                    me_alive = True
                    if need == 2:
                        doubles |= makers & rest
                        makers |= rest
            if not line & me:
                rest = line & ~opp
                if not rest & (rest - 1):
                    threats |= rest
                    opp_alive = True
                else:
                    need = rest.bit_count()
                    if need <= opp_moves:
                        opp_alive = True
                        if need == 2:
                            opp_makers |= rest
        return threats, makers, doubles, opp_makers, me_alive, opp_alive

    def forced_block(x: int, o: int, x_to_move: bool, keys: tuple[int, ...], threats: int,
                     alpha: int, beta: int) -> int:
        """Value when the opponent threatens to complete a line: every move but the block loses at once."""
        if threats & (threats - 1):
            return -1  # two threats: blocking one lets the other through
        if (x | o) | threats == full:
            return 0  # the block fills the board
        child_keys = tuple(map(or_, keys, sym_bits[0 if x_to_move else 1][threats.bit_length() - 1]))
        if x_to_move:
            return -search(x | threats, o, False, child_keys, -beta, -alpha)
        return -search(x, o | threats, True, child_keys, -beta, -alpha)

    def candidates(tried: int, tiers: tuple[int, ...]) -> Iterator[int]:
        """Cells not in ``tried``, in search order: each tier's (ascending), then the rest in move order."""
        for tier in tiers:
            tier &= ~tried
            tried |= tier
            while tier:
                low = tier & -tier
                yield low.bit_length() - 1
                tier ^= low
        for cell, bit in order:
            if not tried & bit:
                yield cell

    def store(canon: int, entry: int, lo: int, hi: int, best: int, window_low: int, window_high: int,
              best_cell: int) -> None:
        """Record the bounds that ``best``, found in the window ``window_low..window_high``, proves."""
        if best <= window_low:
            hi = best if best < hi else hi  # noqa: FURB136
        elif best >= window_high:
            lo = best if best > lo else lo  # noqa: FURB136
        else:
            lo = hi = best
        if entry == unseen and len(tt) >= limit:
            raise SolverLimitError(
                f"solving this {describe} position needs more than max_positions={limit} stored positions; "
                "raise max_positions (memory grows with it) or use a smaller board"
            )
        tt[canon] = (lo + 1) * 3 + hi + 1 + 9 * (best_cell + 1)

    def expand(x: int, o: int, x_to_move: bool, keys: tuple[int, ...], canon: int, entry: int, lo: int, hi: int,
               alpha: int, beta: int, tiers: tuple[int, int, int]) -> int:
        """Try the moves within the window narrowed to ``lo..hi``, store the result and return it."""
        # Conditional expressions rather than max()/min(): measurably faster on this hot path.
        a = alpha if alpha > lo else lo  # noqa: FURB136
        b = beta if beta < hi else hi  # noqa: FURB136
        window_low = a
        sym = keys.index(canon)
        hint = entry // 9 - 1
        # Move order: the stored best move, our double threats, our threats, cells that stop theirs, the rest.
        first = (1 << inverse_perms[sym][hint]) if hint >= 0 else 0
        adds = sym_bits[0 if x_to_move else 1]
        occupied = x | o
        best, best_cell = -2, -1
        for cell in candidates(occupied, (first, *tiers)):
            bit = 1 << cell
            if occupied | bit == full:
                value = 0  # no threat of ours exists, so the last cell cannot make a line
            elif x_to_move:
                value = -search(x | bit, o, False, tuple(map(or_, keys, adds[cell])), -b, -a)
            else:
                value = -search(x, o | bit, True, tuple(map(or_, keys, adds[cell])), -b, -a)
            if value > best:
                best, best_cell = value, cell
                if value > a:
                    a = value
                    if a >= b:
                        break
        store(canon, entry, lo, hi, best, window_low, b, perms[sym][best_cell])
        return best

    def search(x: int, o: int, x_to_move: bool, keys: tuple[int, ...], alpha: int, beta: int) -> int:
        """Fail-soft negamax: a result <= alpha is an upper bound, >= beta a lower bound, between exact."""
        canon = min(keys)
        entry = tt.get(canon, unseen)
        lo, hi = bounds_of[entry % 9]
        if lo == hi or lo >= beta:
            return lo
        if hi <= alpha:
            return hi
        me, opp = (x, o) if x_to_move else (o, x)
        empty = n - (x | o).bit_count()
        census = scan_lines(me, opp, (empty + 1) >> 1, empty >> 1)  # moves each side has left, mover first
        if census is None:
            return 1
        threats, makers, doubles, opp_makers, me_alive, opp_alive = census
        if threats:
            return forced_block(x, o, x_to_move, keys, threats, alpha, beta)
        # A side that can no longer complete any line in the moves it has left cannot win.
        if not me_alive and hi > 0:
            hi = 0
        if not opp_alive and lo < 0:
            lo = 0
        if lo >= hi or lo >= beta:
            return lo
        if hi <= alpha:
            return hi
        return expand(x, o, x_to_move, keys, canon, entry, lo, hi, alpha, beta, (doubles, makers, opp_makers))

    def exact(x: int, o: int) -> int:
        keys = (0,) * len(perms)
        for player, marks in ((0, x), (1, o)):
            for cell in range(n):
                if marks >> cell & 1:
                    keys = tuple(map(or_, keys, sym_bits[player][cell]))
        return search(x, o, x.bit_count() == o.bit_count(), keys, -1, 1)  # full window: the result is exact

    return exact
