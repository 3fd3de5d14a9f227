"""The state of a batch of games: one typed structure of arrays, leading dimension ``B`` (the batch).

Every field is an array of the backend (NumPy array or PyTorch tensor). Dtypes are the smallest that
hold the values (:func:`~tttthought_env.vector.tables.build_layouts` chooses them per configuration);
"bitboard" means int16 for boards of up to 15 cells, int32 up to 31, int64 up to 64 (bit ``c`` is cell
``c``; on 64-cell boards the top cell is the sign bit). The fields of the thought store are ``None``
when no thought channel is on (the plain game), ``mcount`` also when the marker channel is off.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BatchState:
    """One state per game of the batch; replace fields with :meth:`replace`, never in place."""

    #: ``(B,)`` bitboard: the learner's marks.
    me: Any
    #: ``(B,)`` bitboard: the opponent's marks.
    opp: Any
    #: ``(B,)`` int8: the learner's side, 0 = X, 1 = O.
    agent: Any
    #: ``(B,)`` bitboard: propositions ``p`` with ``+p`` in the store.
    pos: Any = None
    #: ``(B,)`` bitboard: propositions ``p`` with ``-p`` in the store.
    neg: Any = None
    #: The ordered store, oldest entry first. Packed configurations: ``(B,)`` int32/int64 holding
    #: ``entry code + 1`` (0 = empty) in fields of ``code_bits`` bits, oldest lowest. Otherwise ``(B, S)``
    #: int8/int16 entry codes, ``-1`` = empty. Entry codes: ``p`` for ``+p``, ``N + p`` for ``-p``,
    #: ``2N + m`` for marker ``m``.
    store: Any = None
    #: ``(B,)`` int8/int16: entries in the store.
    slen: Any = None
    #: Entries per marker. Packed: ``(B,)`` integer, one ``count_bits`` field per marker; else ``(B, M)``.
    mcount: Any = None
    #: ``(B,)`` int8: thoughts left this turn.
    tleft: Any = None
    #: ``(B,)`` int8/int16/int32: thoughts of the learner this episode.
    thoughts: Any = None

    def arrays(self) -> dict[str, Any]:
        """The fields that exist in this configuration, by name."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if getattr(self, f.name) is not None}

    def replace(self, **changes: Any) -> BatchState:
        return dataclasses.replace(self, **changes)
