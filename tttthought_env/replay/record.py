"""Recording episodes as JSON lines, format ``tttthought-episode/1``: a ``"reset"`` line (config, names,
seed, X's opening move), then a ``"step"`` line per action (player, action, reward and its parts, the mask it
was chosen from, the opponent's reply in the same step). Every line ends with a :func:`snapshot` of the game,
which a replay checks against the games it rebuilds through the rules.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from tttthought_env.core import Game
from tttthought_env.layout import Layout
from tttthought_env.transition import outcome_name, play_move

#: Value of the ``"format"`` key of every reset line.
FORMAT = "tttthought-episode/1"


def snapshot(game: Game) -> dict[str, Any]:
    """The JSON-ready state of ``game``: board, both stores, thoughts left, player to move, winner."""
    return {"board": [int(v) for v in game.board],
            "stores": [[[sign, int(arg)] for sign, arg in game.store_entries(p)] for p in (0, 1)],
            "thoughts_left": [int(t) for t in game.thoughts_left], "to_move": int(game.to_move),
            "winner": int(game.winner)}


def start_game(layout: Layout, opening: int | None = None) -> Game:
    """The position an episode starts from: a new game, after X's ``opening`` move if one is given."""
    game = Game(layout)
    if opening is not None:
        if type(opening) is not int or not 0 <= opening < game.n:
            raise ValueError(f"the opening move must be a cell in [0, {game.n}), got {opening!r}")
        play_move(game, opening, None)
    return game


def reward_parts_of(info: dict[str, Any]) -> dict[str, float]:
    """The ``reward_parts`` of a step line, from an env's step info."""
    return {part: float(info.get(f"reward_{part}", 0.0)) for part in ("game", "shaping", "cost")}


def _jsonable(value: Any) -> Any:
    """``value`` with numpy scalars and arrays as Python ones (anything else unknown: its repr)."""
    return json.loads(json.dumps(value, default=lambda v: v.tolist() if isinstance(v, (np.generic, np.ndarray))
                                 else repr(v)))


class EpisodeRecorder:
    """Collects the lines of one episode played on ``game``: :meth:`reset` at its start, :meth:`step` after
    every action, then :meth:`write`. ``names`` labels the players, e.g. ``{0: "you", 1: "minimax"}``."""

    def __init__(self, game: Game, names: dict[int, str] | None = None, env_id: str | None = None,
                 meta: dict[str, Any] | None = None) -> None:
        self.game, self.env_id, self.meta = game, env_id, dict(meta or {})
        self.names = {0: "X", 1: "O"} if names is None else dict(names)
        self.lines: list[dict[str, Any]] = []

    def reset(self, seed: int | None = None, opponent_move: int | None = None, **extra: Any) -> None:
        """Start the episode; the game must be at its start (after X's ``opponent_move``, if given)."""
        state = snapshot(self.game)
        if state != snapshot(start_game(self.game.layout, opponent_move)):
            opening = "" if opponent_move is None else f" after X's opening move {opponent_move}"
            raise ValueError(f"EpisodeRecorder.reset() needs the game at its start{opening} (a replay plays the "
                             "recorded actions from there); reset the game first")
        self.lines = [{"type": "reset", "format": FORMAT, "env_id": self.env_id, "config": self.game.config.as_dict(),
                       "names": {str(k): v for k, v in self.names.items()}, "seed": seed,
                       "opponent_move": opponent_move, **_jsonable({**self.meta, **extra}), **state}]

    def step(self, player: int, action: int, mask: np.ndarray | Sequence[bool], reward: float = 0.0,
             reward_parts: dict[str, float] | None = None, opponent_move: int | None = None,
             terminated: bool = False, truncated: bool = False, outcome: str | None = None,
             **extra: Any) -> dict[str, Any]:
        """Record ``player``'s ``action``, chosen from ``mask``; the game must already show its result."""
        if not self.lines:
            raise RuntimeError("EpisodeRecorder.step() called before reset()")
        kind, arg = self.game.layout.decode[int(action)]
        line = {"type": "step", "t": len(self.lines), "player": int(player), "action": int(action), "kind": kind,
                "arg": arg, "thought": None if kind == "move" else f"{kind} {arg}", "reward": float(reward),
                "reward_parts": {key: float(value) for key, value in (reward_parts or {}).items()},
                "mask": [int(bool(v)) for v in mask],
                "opponent_move": None if opponent_move is None else int(opponent_move),
                "terminated": bool(terminated), "truncated": bool(truncated), "outcome": outcome,
                **_jsonable(extra), **snapshot(self.game)}
        self.lines.append(line)
        return line

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the episode as JSON lines to ``path`` (parent folders are created)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(line, separators=(",", ":")) + "\n" for line in self.lines),
                        encoding="utf-8")
        return path


class RecordEpisode(gym.Wrapper):
    """Record episodes of a tttthought Gymnasium env to ``{folder}/{name_prefix}-{episode:06d}.jsonl``
    (:attr:`paths`), each written when it ends or on :meth:`close`; ``episode_trigger(index)`` picks the
    episodes to record (default: all), as in Gymnasium's ``RecordVideo``."""

    def __init__(self, env: gym.Env, folder: str | os.PathLike[str], name_prefix: str = "episode",
                 episode_trigger: Callable[[int], bool] | None = None) -> None:
        super().__init__(env)
        if not isinstance(getattr(env.unwrapped, "game", None), Game):
            raise TypeError(f"RecordEpisode records tttthought envs (ThoughtTicTacToeEnv and wrappers of it), "
                            f"got {env.unwrapped!r}")
        self.folder, self.name_prefix, self.episode_trigger = Path(folder), name_prefix, episode_trigger
        self.episode_index = -1
        self.paths: list[Path] = []
        self._recorder: EpisodeRecorder | None = None
        self._mask = np.zeros(0, bool)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        self._flush()
        obs, info = self.env.reset(seed=seed, options=options)
        self._mask = np.array(info["action_mask"], bool)
        self.episode_index += 1
        if self.episode_trigger is None or self.episode_trigger(self.episode_index):
            base: Any = self.env.unwrapped
            self._recorder = EpisodeRecorder(base.game, {base.agent: "agent", 1 - base.agent: str(base.opponent_name)},
                                             self.env.spec.id if self.env.spec else None, meta={"agent": base.agent})
            self._recorder.reset(seed=seed, opponent_move=base.last_opponent_move)
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        base: Any = self.env.unwrapped
        occupied_before, mask = base.game.occupied, self._mask
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._mask = np.array(info["action_mask"], bool)
        if self._recorder is not None:
            action = int(np.asarray(action))
            # The opponent's reply in this step: the cell marked besides the agent's own move.
            replied = base.game.occupied & ~occupied_before & ~(1 << action)
            self._recorder.step(base.agent, action, mask, float(reward), reward_parts_of(info),
                                opponent_move=replied.bit_length() - 1 if replied else None, terminated=terminated,
                                truncated=truncated, outcome=outcome_name(info["outcome"]),
                                illegal_action=bool(info["illegal_action"]))
            if terminated or truncated:
                self._flush()
        return obs, reward, terminated, truncated, info

    def _flush(self) -> None:
        if self._recorder is not None and len(self._recorder.lines) > 1:
            path = self.folder / f"{self.name_prefix}-{self.episode_index:06d}.jsonl"
            self.paths.append(self._recorder.write(path))
        self._recorder = None

    def close(self) -> None:
        self._flush()
        super().close()


def record_policy_episode(env: gym.Env, policy: Callable[[Any, np.ndarray], int], path: str | os.PathLike[str],
                          seed: int | None = None) -> Path:
    """Play one episode of ``env`` with ``policy(obs, mask) -> action`` and record it to ``path``."""
    recorder = RecordEpisode(env, Path(path).parent, name_prefix="_tmp_episode")
    obs, info = recorder.reset(seed=seed)
    done = False
    while not done:
        obs, _, terminated, truncated, info = recorder.step(policy(obs, info["action_mask"]))
        done = terminated or truncated
    return recorder.paths[-1].replace(path)
