"""The exact solver's search for boards too large for a complete table (:mod:`tttthought_env.solver`).

Memoised fail-soft alpha-beta (negamax) over symmetry-reduced positions, with threat-based move
ordering and pruning. :func:`make_search` returns the search as closures over the board's tables:
this is the solver's hot path, and closure variables are faster to read than attributes.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator

__all__ = ["SolverLimitError", "make_search"]

Search = Callable[[int, int, bool, tuple[int, ...], int, int], int]


class SolverLimitError(ValueError):
    """The exact solution of a position needs more work than the solver is allowed to do."""


def make_search(full: int, line_masks: tuple[int, ...], move_order: tuple[int, ...],
                sym_bits: tuple[tuple[tuple[int, ...], ...], ...], perms: list[tuple[int, ...]],
                tt: dict[int, int], limit: int, describe: str) -> Search:
    """The search of one board: ``search(x, o, x_to_move, keys, alpha, beta) -> value``.

    ``full`` is the mask of all cells, ``line_masks`` one mask per winning line, ``move_order`` the cells
    in the order tried last, ``sym_bits[p][c][s]`` the bit a mark of player ``p`` on cell ``c`` sets in the
    key of symmetry ``s`` (``perms[s]``); ``keys`` holds a position's key under every symmetry. ``tt`` is
    the table (canonical key -> entry), filled up to ``limit`` positions, then :class:`SolverLimitError`
    names ``describe``.

    ``search(x, o, x_to_move, keys, alpha, beta)`` values an unfinished position for the player to move:
    a result <= alpha is an upper bound, >= beta a lower bound, anything between exact. It reads the
    table, takes the census of the lines (:func:`scan_lines`), follows a forced block at once
    (:func:`forced_block`), and otherwise tries the moves (:func:`expand`, in the order of
    :func:`candidates`) and records what it learnt (:func:`store`).

    Table entries are ``(lower + 1) * 3 + (upper + 1) + 9 * (best cell + 1)``, the best cell (tried
    first next time) in the frame of the canonical symmetry. An absent position reads as ``unseen`` = 2
    (bounds -1..1, no best cell); stored entries always have a best cell, so they are >= 9.
    """
    n = full.bit_length()
    order = tuple((cell, 1 << cell) for cell in move_order)
    inverse_perms = tuple(tuple(perm.index(c) for c in range(n)) for perm in perms)
    or_ = operator.or_
    unseen = 2
    bounds_of = tuple((code // 3 - 1, code % 3 - 1) for code in range(9))  # entry % 9 -> (lower, upper)

    def scan_lines(me: int, opp: int, my_moves: int, opp_moves: int) -> tuple[int, int, int, int, bool, bool] | None:
        """None if the mover completes a line now; else ``(threats, makers, doubles, opp_makers, me_alive,
        opp_alive)``: cells where the opponent would complete a line, cells that make a threat for the mover
        (``doubles``: two at once) and for the opponent, and whether each side can still complete a line in
        the moves it has left (``my_moves``, ``opp_moves``)."""
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
        """Fail-soft negamax of an unfinished position, value for the player to move (see above)."""
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

    return search
