"""R(δx) judgements: what a thought, a store or a forecast is worth, as pure functions.

Written once, on bitmasks, with only ``& | ~ !=`` and arithmetic, so the same functions run on
Python ints (the single and AEC envs, the evaluation's "correct thoughts") and on integer arrays of
NumPy or PyTorch (the vector env). ``optimal`` is the bitmask of the propositions that are true: for
``"oracle"`` and ``"potential"`` the optimal moves of the player to move in the position judged (the
exact solver's), for ``"world"`` and ``"world_potential"`` the cells the thinker's opponent holds
(:func:`truth_is_world`); ``all_cells`` is ``(1 << N) - 1``. See docs/shaping.md for the variants.
"""

from __future__ import annotations

from typing import Any, TypeVar

#: Names of the built-in shaping variants (besides ``None`` and a callable).
SHAPING_KINDS: tuple[str, ...] = ("oracle", "potential", "prediction", "world", "world_potential")
#: The variants paid per thought (±scale), and those paid as a potential Φ of the store.
PER_THOUGHT_KINDS: tuple[str, ...] = ("oracle", "world")
POTENTIAL_KINDS: tuple[str, ...] = ("potential", "world_potential")


def truth_is_world(kind: object) -> bool:
    """Whether ``kind`` judges propositions about the world ("the thinker's opponent holds ``p``") rather
    than about the solver's optimal moves ("``p`` is an optimal move now")."""
    return kind in ("world", "world_potential")

Bits = TypeVar("Bits")  # a Python int, or an integer array of the vector env's backend


def thought_is_correct(optimal: Any, arg_bit: Any, asserts_absent: Any) -> Any:
    """Whether a thought about proposition ``p`` (``arg_bit = 1 << p``) agrees with the solver.

    ``asserts_absent`` says what the thought claims about ``p``: ``False`` for ``propose p`` ("p is
    optimal") and for ``forget`` of a ``-p`` entry (removing "p is not optimal"), ``True`` for
    ``negate p`` and for ``forget`` of a ``+p`` entry. Markers are never judged.
    """
    in_optimal = (optimal & arg_bit) != 0
    return in_optimal != asserts_absent


def oracle_reward(correct: Any, scale: float) -> Any:
    """``"oracle"`` and ``"world"``: ``+scale`` for a correct thought, ``-scale`` for an incorrect one."""
    return scale * (2 * correct - 1)


def store_balance(pos: Any, neg: Any, optimal: Any, all_cells: int, popcount: Any) -> Any:
    """Correct minus incorrect entries of a store (``pos``/``neg``: its ``+p``/``-p`` bitmasks)."""
    not_optimal = ~optimal & all_cells
    correct = popcount(pos & optimal) + popcount(neg & not_optimal)
    incorrect = popcount(pos & not_optimal) + popcount(neg & optimal)
    return correct - incorrect


def potential(balance: Any, scale: float, n_cells: int) -> Any:
    """``Φ(x) = scale · (correct − incorrect) / N`` of ``"potential"`` and ``"world_potential"``."""
    return scale * balance / n_cells


def prediction_reward(predicted_pos: Any, predicted_neg: Any, cell_bit: Any, scale: float) -> Any:
    """``"prediction"``: the opponent moved to the cell of ``cell_bit``; ``+scale`` if the forecast held
    ``+c``, ``-scale`` if it held ``-c``, else 0 (a store never holds both)."""
    hit = (predicted_pos & cell_bit) != 0
    miss = (predicted_neg & cell_bit) != 0
    return scale * (1 * hit - 1 * miss)


def int_popcount(bits: int) -> int:
    """Set bits of a Python int (the single env's popcount for :func:`store_balance`)."""
    return bits.bit_count()
