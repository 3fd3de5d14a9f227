"""Training against a mix of opponents: several SB3 ``VecEnv``s of one task, side by side as one ``VecEnv``.

A *mix* is a list of members ``{"opponent": name, "epsilon": float, "share": float}``; member ``k`` plays
``share_k * n_envs`` of the ``n_envs`` training games, all of them against its own opponent. Every
condition of a run shares the mix of its algorithm's YAML ``default`` section (``opponent_mix``), so the
conditions still differ only in what the issue varies. Why a mix: against the registered opponent alone
(minimax with 50% random moves) a plain policy never sees enough of the lines that perfect minimax
plays, and against perfect minimax alone it never sees the positions a weaker opponent leads to, so
the rare positions of either stay untrained.

:class:`ConcatVecEnv` is the generic part: it concatenates any SB3 ``VecEnv``s with the same spaces,
game ``i`` of the whole being game ``i - start_k`` of member ``k``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices

#: The opponents a mix member may name (those the vector env and the single env both play).
MIX_OPPONENTS: tuple[str, ...] = ("random", "minimax", "heuristic")


def _check_member(index: int, member: Any) -> tuple[str, float, float]:
    """``(opponent, epsilon, share)`` of one mix member, or a ValueError naming what is wrong."""
    if not isinstance(member, dict) or set(member) - {"opponent", "epsilon", "share"} or "share" not in member:
        raise ValueError(f"opponent_mix[{index}] must be a dict with keys opponent, epsilon (optional) and share, "
                         f"got {member!r}")
    opponent = member.get("opponent", "minimax")
    if opponent not in MIX_OPPONENTS:
        raise ValueError(f"opponent_mix[{index}].opponent must be one of {MIX_OPPONENTS}, got {opponent!r}")
    epsilon, share = float(member.get("epsilon", 0.0)), float(member["share"])
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"opponent_mix[{index}].epsilon must be in [0, 1], got {epsilon!r}")
    if not 0.0 < share <= 1.0:
        raise ValueError(f"opponent_mix[{index}].share must be in (0, 1], got {share!r}")
    return str(opponent), epsilon, share


def mix_counts(mix: Sequence[dict[str, Any]], n_envs: int) -> list[tuple[str, float, int]]:
    """``[(opponent, epsilon, games)]``: how many of the ``n_envs`` training games each member plays.

    The shares must sum to 1 and each ``share * n_envs`` must be a whole number: a mix is exact, never
    rounded, so the record's shares are the shares trained on.
    """
    if not mix:
        raise ValueError(f"opponent_mix must list at least one member, got {mix!r}")
    members = [_check_member(i, member) for i, member in enumerate(mix)]
    total = sum(share for _, _, share in members)
    if abs(total - 1.0) > 1e-9:
        raise ValueError(f"opponent_mix shares must sum to 1, got {total!r} (from {mix!r})")
    out = []
    for i, (opponent, epsilon, share) in enumerate(members):
        games = share * n_envs
        if abs(games - round(games)) > 1e-9:
            raise ValueError(f"opponent_mix[{i}].share * n_envs must be a whole number of games, got "
                             f"{share!r} * {n_envs} = {games!r}")
        out.append((opponent, epsilon, int(round(games))))
    return out


def split_games(mix: Sequence[dict[str, Any]], n_games: int) -> list[tuple[str, float, int]]:
    """``[(opponent, epsilon, games)]``: ``n_games`` evaluation games split by the shares (largest remainder).

    Unlike :func:`mix_counts`, any ``n_games`` works: the evaluation against "the training opponent" of a
    mixed run plays each member in proportion to its share, and the shares rarely divide 1,000 unevenly.
    """
    members = [_check_member(i, member) for i, member in enumerate(mix)]
    if not members:
        raise ValueError(f"opponent_mix must list at least one member, got {mix!r}")
    exact = [share * n_games for _, _, share in members]
    games = [int(np.floor(x)) for x in exact]
    for i in sorted(range(len(exact)), key=lambda j: games[j] - exact[j])[: n_games - sum(games)]:
        games[i] += 1
    return [(opponent, epsilon, count) for (opponent, epsilon, _), count in zip(members, games)]


def _concat(parts: list[Any]) -> Any:
    """Concatenate per-member observations (arrays, or dicts of arrays) along the game axis."""
    if isinstance(parts[0], dict):
        return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    return np.concatenate(parts)


class ConcatVecEnv(VecEnv):
    """Several SB3 ``VecEnv``s with the same spaces, as one: game ``i`` is game ``i - start_k`` of member ``k``.

    ``reset``/``step`` concatenate the members' observations, rewards, dones and infos; ``action_masks()``
    and ``env_method("action_masks")`` concatenate their masks (what sb3-contrib's ``get_action_masks``
    calls); ``get_attr``/``env_method``/``env_is_wrapped`` route each index to its member, and ``set_attr``
    with ``indices=None`` sets it on every member (a member such as ``SB3VecEnv`` may share attributes
    among its games). ``seed(s)`` seeds member ``k`` with ``s + start_k``, so game ``i`` gets seed ``s + i``
    as in any SB3 ``VecEnv``, and the members draw different random streams.
    """

    def __init__(self, members: Sequence[VecEnv]) -> None:
        if not members:
            raise ValueError("members must list at least one VecEnv, got none")
        first = members[0]
        for k, member in enumerate(members[1:], start=1):
            if member.observation_space != first.observation_space or member.action_space != first.action_space:
                raise ValueError(f"members[{k}] has other spaces than members[0]: {member.observation_space}, "
                                 f"{member.action_space} vs {first.observation_space}, {first.action_space}")
        self.members = list(members)
        self.starts = np.cumsum([0] + [member.num_envs for member in self.members]).tolist()
        super().__init__(self.starts[-1], first.observation_space, first.action_space)
        self._actions: np.ndarray | None = None

    def _locate(self, indices: VecEnvIndices) -> list[tuple[int, int]]:
        """``[(member, local index)]`` of global game indices, in the order asked."""
        out = []
        for i in self._get_indices(indices):
            k = int(np.searchsorted(self.starts, i, side="right")) - 1
            if not 0 <= i < self.num_envs:
                raise ValueError(f"indices must be in [0, {self.num_envs}), got {i!r}")
            out.append((k, i - self.starts[k]))
        return out

    def seed(self, seed: int | None = None) -> list[int | None]:
        if seed is None:  # as SB3: draw one, so that the members still get distinct seeds
            seed = int(np.random.randint(0, np.iinfo(np.uint32).max, dtype=np.uint32))
        seeds: list[int | None] = []
        for member, start in zip(self.members, self.starts):
            member.seed(seed + start)
            seeds += [seed + start + j for j in range(member.num_envs)]
        self._seeds = seeds
        return seeds

    def reset(self) -> Any:
        # Members keep their own pending seeds (set by ``seed``) and consume them in their reset.
        self._reset_seeds()
        return _concat([member.reset() for member in self.members])

    def step_async(self, actions: np.ndarray) -> None:
        actions = np.asarray(actions)
        for member, start, stop in zip(self.members, self.starts, self.starts[1:]):
            member.step_async(actions[start:stop])

    def step_wait(self) -> Any:
        results = [member.step_wait() for member in self.members]
        infos: list[dict[str, Any]] = []
        for result in results:
            infos += list(result[3])
        return (_concat([r[0] for r in results]), np.concatenate([r[1] for r in results]),
                np.concatenate([r[2] for r in results]), infos)

    def close(self) -> None:
        for member in self.members:
            member.close()

    def action_masks(self) -> np.ndarray:
        return np.concatenate([np.stack(member.env_method("action_masks")) for member in self.members])

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [self.members[k].get_attr(attr_name, indices=[j])[0] for k, j in self._locate(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        if indices is not None:
            raise ValueError(f"set_attr({attr_name!r}, indices={indices!r}): a ConcatVecEnv sets an attribute on "
                             "every game (indices=None), since its members may share attributes among their games")
        for member in self.members:
            member.set_attr(attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None,
                   **method_kwargs: Any) -> list[Any]:
        if method_name == "action_masks":  # one call per member, not one per game
            masks = self.action_masks()
            return [masks[i] for i in self._get_indices(indices)]
        return [self.members[k].env_method(method_name, *method_args, indices=[j], **method_kwargs)[0]
                for k, j in self._locate(indices)]

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [self.members[k].env_is_wrapped(wrapper_class, indices=[j])[0] for k, j in self._locate(indices)]

    def get_images(self) -> list[Any]:
        images: list[Any] = []
        for member in self.members:
            images += list(member.get_images())
        return images
