"""Gymnasium's ``call``/``get_attr``/``set_attr`` for a vector env that is one object for all its games.

Gymnasium's ``SyncVectorEnv`` answers each with one value per sub-env; here one env object holds every
game, so a call runs once and its answer is spread over the games (split by rows for per-game methods).
"""

from __future__ import annotations

from typing import Any

#: Methods whose result has one row per game: :meth:`GymnasiumCalls.call` splits it into the games' results.
PER_GAME_METHODS = ("action_masks", "agent_players")


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # arrays compare elementwise: not one value
        return False


class GymnasiumCalls:
    """The three methods, for a class with ``num_envs`` (mixed into the vector env)."""

    num_envs: int

    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        """Gymnasium's ``call``: one result per game, of method ``name`` (or attribute, if not callable).

        One env object holds every game, so ``name`` runs once. The rows of a per-game method's result
        (:data:`PER_GAME_METHODS`) are the games' results, so ``np.stack(envs.call("action_masks"))`` is the
        mask; any other result is every game's.
        """
        attr = getattr(self, name)
        result = attr(*args, **kwargs) if callable(attr) else attr
        if name in PER_GAME_METHODS:
            return tuple(result[i] for i in range(self.num_envs))
        return (result,) * self.num_envs

    def get_attr(self, name: str) -> tuple[Any, ...]:
        """Gymnasium's ``get_attr``: :meth:`call` (a callable attribute is called, as there)."""
        return self.call(name)

    def set_attr(self, name: str, values: Any) -> None:
        """Gymnasium's ``set_attr``: one value for every game, or a list/tuple of ``num_envs`` values.

        The games share this one env's attributes, so a list must hold one value ``num_envs`` times. The
        built rules read the constructor's settings: setting e.g. ``opponent`` here changes no dynamics.
        """
        if isinstance(values, (list, tuple)):
            if len(values) != self.num_envs:
                raise ValueError("Values must be a list or tuple with length equal to the number of environments. "
                                 f"Got `{len(values)}` values for {self.num_envs} environments.")
            if not all(_same(value, values[0]) for value in values):
                raise ValueError(f"set_attr({name!r}, ...): the {self.num_envs} games share one env object, so they "
                                 "take one value; got different values per game")
            values = values[0]
        setattr(self, name, values)
