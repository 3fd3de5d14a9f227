"""Golden trajectories: run one recorded case through the public API and hash what it returns.

Shared by ``scripts/record_golden.py`` (which chooses the actions with a seeded random-legal policy and
writes ``tests/golden/trajectories.json``) and ``tests/test_golden.py`` (which feeds the recorded actions
back to whatever ``tttthought_env`` is importable and compares the hashes). Both go through
:func:`run_case`, so recording and replaying cannot drift apart.

Only public API is used: ``gymnasium.make(id, **kwargs)``, ``tttthought_env.pettingzoo.env(**kwargs)``
(``agent_iter``/``last``/``step``) and the vector env (``gymnasium.make_vec(id, num_envs=...,
vectorization_mode="vector_entry_point", **kwargs)`` or ``tttthought_env.vector.ThoughtVectorEnv``).

Per step (a reset counts as a step) two byte strings are built:

* the *main* record: exact observation bytes (dtype and shape tagged; for dict observations both entries),
  the action mask (values as uint8), the reward (``struct.pack("<d")`` and its Python type), the
  terminated/truncated flags (and their types), the PettingZoo agent name, the vector env's final
  observations of the games that ended;
* the *info* record: the info dict's scalar items (numbers, bools, strings) by sorted key, as ``repr``, plus
  the names of the other items with their dtype/shape (vector infos: every array but the mask and
  ``final_obs``, by bytes).

A case keeps the sha256 of all main records in order, the first 8 hex digits of each step's own sha256
(so a failure can name the first differing step), and the same two for the info records.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any

import numpy as np

#: Format version of trajectories.json (bump if what is hashed changes).
FORMAT = 1
#: Hex digits kept per step.
SHORT = 8
#: A case never runs longer than this many steps in total (guards a replay that stops ending episodes).
MAX_STEPS = 5000


def policy_seed(name: str) -> int:
    """The policy generator's seed of a case: derived from its name, so it is stable and distinct per case."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


def to_kwargs(kwargs: dict) -> dict:
    """JSON kwargs back to constructor kwargs (lists, e.g. ``channels``, become tuples)."""
    return {key: tuple(value) if isinstance(value, list) else value for key, value in kwargs.items()}


# ----------------------------------------------------------------------------- byte encodings
def _array_bytes(x: Any) -> bytes:
    a = np.asarray(x)
    return a.dtype.str.encode() + repr(a.shape).encode() + np.ascontiguousarray(a).tobytes()


def _mask_bytes(mask: Any) -> bytes:
    a = np.asarray(mask)
    return b"mask" + repr(a.shape).encode() + np.ascontiguousarray(a.astype(bool).astype(np.uint8)).tobytes()


def _obs_bytes(obs: Any) -> bytes:
    if isinstance(obs, dict):
        return b"".join(key.encode() + _array_bytes(obs[key]) for key in sorted(obs))
    return b"obs" + _array_bytes(obs)


def _scalar_bytes(value: Any, fmt: str) -> bytes:
    return type(value).__name__.encode() + struct.pack(fmt, value)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (bool, int, float, str, np.bool_, np.integer, np.floating))


def _info_bytes(info: dict, skip: tuple = ()) -> bytes:
    parts = []
    for key in sorted(info):
        if key in skip:
            continue
        value = info[key]
        if _is_scalar(value):
            parts.append(f"{key}={value!r};")
        elif isinstance(value, np.ndarray):
            parts.append(f"{key}:array{value.dtype.str}{value.shape};")
        else:
            parts.append(f"{key}:{type(value).__name__};")
    return "".join(parts).encode()


def _vector_info_bytes(infos: dict) -> bytes:
    parts = []
    for key in sorted(infos):
        if key in ("action_mask", "final_obs"):  # in the main record (final_obs only where a game ended)
            continue
        value = infos[key]
        parts.append(key.encode() + (_array_bytes(value) if isinstance(value, np.ndarray) else repr(value).encode()))
    return b";".join(parts)


# ----------------------------------------------------------------------------- the recording
class Recorder:
    """Collects the per-step records of one case and chooses (or replays) its actions."""

    def __init__(self, case: dict, actions: list | None) -> None:
        self.replaying = actions is not None
        self.actions: list = list(actions) if actions is not None else []
        self.next_action = 0
        self.rng = np.random.default_rng(policy_seed(case["name"]))
        self.illegal_p = float(case.get("illegal_p", 0.0))
        self.main = hashlib.sha256()
        self.info = hashlib.sha256()
        self.main_steps: list[str] = []
        self.info_steps: list[str] = []
        self.labels: list[str] = []
        self.stats: dict[str, int] = {}  # what the case covered (illegal actions, truncations, ...), for reports

    def count(self, key: str, n: int = 1) -> None:
        if n:
            self.stats[key] = self.stats.get(key, 0) + int(n)

    def add(self, label: str, main: bytes, info: bytes) -> None:
        self.main.update(len(main).to_bytes(8, "little") + main)
        self.info.update(len(info).to_bytes(8, "little") + info)
        self.main_steps.append(hashlib.sha256(main).hexdigest()[:SHORT])
        self.info_steps.append(hashlib.sha256(info).hexdigest()[:SHORT])
        self.labels.append(label)

    def _choose(self, mask: np.ndarray) -> int:
        mask = np.asarray(mask).astype(bool)
        legal, illegal = np.flatnonzero(mask), np.flatnonzero(~mask)
        if not legal.size:  # nothing is legal (k=1: the opponent's opening move won): any action, all illegal
            return int(self.rng.integers(mask.size))
        if self.illegal_p and illegal.size and self.rng.random() < self.illegal_p:
            return int(illegal[self.rng.integers(illegal.size)])
        return int(legal[self.rng.integers(legal.size)])

    def action(self, mask: Any) -> Any:
        """The next action: the recorded one when replaying (None once they run out), else the policy's."""
        if self.replaying:
            if self.next_action >= len(self.actions):
                return _EXHAUSTED
            action = self.actions[self.next_action]
            self.next_action += 1
            return action
        if mask is None:
            action = None
        elif np.ndim(mask) == 2:
            action = [self._choose(row) for row in np.asarray(mask)]
        else:
            action = self._choose(mask)
        self.actions.append(action)
        return action

    def result(self, error: str | None = None) -> dict:
        out = {
            "actions": self.actions if not self.replaying else self.actions[: self.next_action],
            "steps": len(self.main_steps),
            "sha256": self.main.hexdigest(),
            "step_hashes": "".join(self.main_steps),
            "info_sha256": self.info.hexdigest(),
            "info_step_hashes": "".join(self.info_steps),
            "labels": self.labels,
            "stats": self.stats,
        }
        if error is not None:
            out["error"] = error
        return out


_EXHAUSTED = object()  # a replay ran out of recorded actions


def _run_gymnasium(case: dict, rec: Recorder) -> None:
    import gymnasium

    import tttthought_env  # noqa: F401  (registers the ids)

    env = gymnasium.make(case["id"], **to_kwargs(case["kwargs"]))
    try:
        for episode, seed in enumerate(case["seeds"]):
            obs, info = env.reset(seed=seed)
            rec.add(f"episode {episode} reset(seed={seed})", _obs_bytes(obs) + _mask_bytes(info["action_mask"]),
                    _info_bytes(info, skip=("action_mask",)))
            t = 0
            while True:
                action = rec.action(info["action_mask"])
                if action is _EXHAUSTED:
                    return
                obs, reward, terminated, truncated, info = env.step(action)
                t += 1
                rec.add(f"episode {episode} step {t} (action {action})",
                        _obs_bytes(obs) + _mask_bytes(info["action_mask"]) + _scalar_bytes(reward, "<d")
                        + _scalar_bytes(terminated, "?") + _scalar_bytes(truncated, "?"),
                        _info_bytes(info, skip=("action_mask",)))
                rec.count("steps")
                rec.count("illegal", bool(info.get("illegal_action")))
                rec.count("truncated", bool(truncated))
                if terminated:
                    rec.count(f"outcome_{info.get('outcome')}")
                if terminated or truncated or len(rec.labels) > MAX_STEPS:
                    break
    finally:
        env.close()


def _run_pettingzoo(case: dict, rec: Recorder) -> None:
    from tttthought_env.pettingzoo import env as make_env

    env = make_env(**to_kwargs(case["kwargs"]))
    try:
        for episode, seed in enumerate(case["seeds"]):
            env.reset(seed=seed)
            t = 0
            for agent in env.agent_iter():
                obs, reward, termination, truncation, info = env.last()
                done = termination or truncation
                action = rec.action(None if done else obs["action_mask"])
                if action is _EXHAUSTED:
                    return
                rec.add(f"episode {episode} turn {t} ({agent}, action {action})",
                        agent.encode() + _obs_bytes(obs) + _mask_bytes(obs["action_mask"])
                        + _scalar_bytes(reward, "<d")
                        + _scalar_bytes(termination, "?") + _scalar_bytes(truncation, "?"),
                        _info_bytes(info))
                rec.count("illegal", bool(info.get("illegal_action")))
                rec.count("nonzero_reward", reward != 0)
                env.step(action)
                t += 1
                if len(rec.labels) > MAX_STEPS:
                    raise RuntimeError("the episode did not end")
    finally:
        env.close()


def _run_vector(case: dict, rec: Recorder) -> None:
    kwargs = to_kwargs(case["kwargs"])
    if case["maker"] == "make_vec":
        import gymnasium

        import tttthought_env  # noqa: F401

        env = gymnasium.make_vec(case["id"], num_envs=case["num_envs"], vectorization_mode="vector_entry_point",
                                 **kwargs)
    else:
        from tttthought_env.vector import ThoughtVectorEnv

        env = ThoughtVectorEnv(case["num_envs"], **kwargs)
    try:
        obs, infos = env.reset(seed=case["seed"])
        rec.add("reset", _obs_bytes(obs) + _mask_bytes(infos["action_mask"]), _vector_info_bytes(infos))
        for t in range(1, case["num_steps"] + 1):
            action = rec.action(infos["action_mask"])
            if action is _EXHAUSTED:
                return
            obs, rewards, terminations, truncations, infos = env.step(np.asarray(action, np.int64))
            main = [_obs_bytes(obs), _mask_bytes(infos["action_mask"]), _array_bytes(rewards),
                    _array_bytes(terminations), _array_bytes(truncations)]
            if "final_obs" in infos:
                # Only the rows of games that ended are defined (the others may hold anything).
                ended = np.flatnonzero(np.asarray(infos.get("_final_obs", terminations)))
                final = infos["final_obs"]
                final = {k: np.asarray(v)[ended] for k, v in final.items()} if isinstance(final, dict) \
                    else np.asarray(final)[ended]
                main.append(b"final" + _array_bytes(ended) + _obs_bytes(final))
            rec.add(f"step {t}", b"".join(main), _vector_info_bytes(infos))
            rec.count("illegal", int(np.sum(infos["illegal_action"])) if "illegal_action" in infos else 0)
            rec.count("episodes_ended", int(np.sum(terminations)))
    finally:
        env.close()


RUNNERS = {"gymnasium": _run_gymnasium, "pettingzoo": _run_pettingzoo, "vector": _run_vector}


def run_case(case: dict, actions: list | None = None) -> dict:
    """Run ``case``: choose actions with its policy (``actions=None``) or replay ``actions``; its hashes.

    An exception from the env ends the run; it is recorded as a last step (so the hashes differ) and named
    under ``"error"``.
    """
    rec = Recorder(case, actions)
    try:
        RUNNERS[case["group"]](case, rec)
    except Exception as err:  # noqa: BLE001 - a replay reports it as the first differing step
        text = f"{type(err).__name__}: {err}"
        rec.add("exception raised", b"exception", b"exception")
        return rec.result(error=text)
    return rec.result()


def first_difference(recorded: str, replayed: str) -> int | None:
    """Index of the first differing step between two concatenated short-hash strings (None if equal)."""
    a = [recorded[i:i + SHORT] for i in range(0, len(recorded), SHORT)]
    b = [replayed[i:i + SHORT] for i in range(0, len(replayed), SHORT)]
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))
