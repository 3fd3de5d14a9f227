"""The state of a batch of games: one typed structure of arrays, leading dimension ``B`` (the batch).

Every field is an array of the backend (NumPy array or PyTorch tensor). Dtypes are the smallest that
hold the values (:func:`~tttthought_env.vector.tables.build_layouts` chooses them per configuration);
"bitboard" means int16 for boards of up to 15 cells, int32 up to 31, int64 up to 64 (bit ``c`` is cell
``c``; on 64-cell boards the top cell is the sign bit). The thought fields are ``None`` when no thought
channel is on (the plain game), ``mcount`` also when the marker channel is off, ``last`` unless
``view="last_move"``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BatchState:
    """One state per game of the batch; replace fields with :meth:`replace`, never in place."""

    me: Any  #: ``(B,)`` bitboard: the learner's marks.
    opp: Any  #: ``(B,)`` bitboard: the opponent's marks.
    agent: Any  #: ``(B,)`` int8: the learner's side, 0 = X, 1 = O.
    pos: Any = None  #: ``(B,)`` bitboard: propositions ``p`` with ``+p`` in the store.
    neg: Any = None  #: ``(B,)`` bitboard: propositions ``p`` with ``-p`` in the store.
    #: ``(B, W)`` int64: the ordered store, ``F`` fields of ``code_bits`` bits per word holding ``entry code
    #: + 1`` (0 = empty), oldest in the lowest field of word 0 (see :class:`~.tables.Layouts`). Entry codes:
    #: ``p`` for ``+p``, ``N + p`` for ``-p``, ``2N + m`` for marker ``m``.
    store: Any = None
    slen: Any = None  #: ``(B,)`` int8/int16: entries in the store.
    mcount: Any = None  #: ``(B, M)`` int8/int16: entries per marker (derivable from the store; read per step).
    tleft: Any = None  #: ``(B,)`` int8: thoughts left this turn.
    thoughts: Any = None  #: ``(B,)`` int8/int16/int32: thoughts of the learner this episode.
    #: ``(B,)`` bitboard: the opponent's most recent mark (one bit; 0 before its first move), for ``view="last_move"``.
    last: Any = None

    def arrays(self) -> dict[str, Any]:
        """The fields that exist in this configuration, by name."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if getattr(self, f.name) is not None}

    def replace(self, **changes: Any) -> BatchState:
        return dataclasses.replace(self, **changes)
