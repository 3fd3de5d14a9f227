"""Recording: episodes of the Gymnasium env (:class:`RecordEpisode`) or of any game (:class:`EpisodeRecorder`).

An episode file holds one JSON object per line: a ``"reset"`` line, then one ``"step"`` line per
action with the player and action id, its ``(kind, arg)``, the thought (or ``null`` for a move), the
opponent's reply in the same step (the Gymnasium env's), the reward and its parts, the legal-action
mask the action was chosen from, and a snapshot of the game after the step (board, both stores,
thoughts left, player to move, winner). A replay rebuilds every position by playing the recorded
actions through the rules from the start (:mod:`tttthought_env.replay.frames`) and checks each
snapshot against it; the snapshots also let other tools read a file without this package.
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
from tttthought_env.transition import play_move

#: Value of the ``"format"`` key of every reset line.
FORMAT = "tttthought-episode/1"


def snapshot(game: Game) -> dict[str, Any]:
    """The JSON-ready state of ``game``: board, both stores, thoughts left, player to move, winner."""
    return {
        "board": [int(v) for v in game.board],
        "stores": [[[sign, int(arg)] for sign, arg in game.store_entries(p)] for p in (0, 1)],
        "thoughts_left": [int(t) for t in game.thoughts_left],
        "to_move": int(game.to_move),
        "winner": int(game.winner),
    }


def start_game(layout: Layout, opening: int | None = None) -> Game:
    """The position an episode starts from: a new game, after X's ``opening`` move if one is given."""
    game = Game(layout)
    if opening is not None:
        if not (isinstance(opening, int) and not isinstance(opening, bool) and 0 <= opening < game.n):
            raise ValueError(f"the opening move must be a cell in [0, {game.n}), got {opening!r}")
        play_move(game, opening, None)
    return game


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars and arrays turned into Python ones (anything else unknown: its repr)."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return repr(value)


class EpisodeRecorder:
    """Collects the lines of one episode played on ``game``.

    Call :meth:`reset` when the game is at its start (a new game, or one where X has made only the
    ``opponent_move`` opening), :meth:`step` after every action, then :meth:`write`.
    ``names`` maps player index to a label (e.g. ``{0: "you", 1: "minimax"}``).
    """

    def __init__(self, game: Game, names: dict[int, str] | None = None, env_id: str | None = None,
                 meta: dict[str, Any] | None = None) -> None:
        self.game = game
        self.names = {0: "X", 1: "O"} if names is None else dict(names)
        self.env_id = env_id
        self.meta = dict(meta or {})
        self.lines: list[dict[str, Any]] = []

    def reset(self, seed: int | None = None, opponent_move: int | None = None, **extra: Any) -> None:
        """Start the episode; the game must be at its start, as a replay rebuilds it from there."""
        state = snapshot(self.game)
        if state != snapshot(start_game(self.game.layout, opponent_move)):
            opening = "" if opponent_move is None else f" after X's opening move {opponent_move}"
            raise ValueError(f"EpisodeRecorder.reset() needs the game at its start{opening} (a replay plays the "
                             "recorded actions from there); reset the game first")
        self.lines = [{
            "type": "reset",
            "format": FORMAT,
            "env_id": self.env_id,
            "config": self.game.config.as_dict(),
            "names": {str(k): v for k, v in self.names.items()},
            "seed": seed,
            "opponent_move": opponent_move,
            **jsonable(self.meta),
            **jsonable(extra),
            **state,
        }]

    def step(self, player: int, action: int, mask: np.ndarray | Sequence[bool], reward: float = 0.0,
             reward_parts: dict[str, float] | None = None, opponent_move: int | None = None,
             terminated: bool = False, truncated: bool = False, outcome: str | None = None,
             **extra: Any) -> dict[str, Any]:
        """Record ``player``'s ``action``, chosen from ``mask``; the game must already show its result."""
        if not self.lines:
            raise RuntimeError("EpisodeRecorder.step() called before reset()")
        kind, arg = self.game.layout.decode[int(action)]
        line = {
            "type": "step",
            "t": len(self.lines),
            "player": int(player),
            "action": int(action),
            "kind": kind,
            "arg": int(arg),
            "thought": None if kind == "move" else f"{kind} {arg}",
            "reward": float(reward),
            "reward_parts": {key: float(value) for key, value in (reward_parts or {}).items()},
            "mask": [int(bool(v)) for v in mask],
            "opponent_move": None if opponent_move is None else int(opponent_move),
            "terminated": bool(terminated),
            "truncated": bool(truncated),
            "outcome": outcome,
            **jsonable(extra),
            **snapshot(self.game),
        }
        self.lines.append(line)
        return line

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the episode as JSON lines to ``path`` (parent folders are created)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as fh:
            for line in self.lines:
                fh.write(json.dumps(line, separators=(",", ":")) + "\n")
        return path


class RecordEpisode(gym.Wrapper):
    """Record episodes of a tttthought Gymnasium env as JSON lines, one file per episode.

    Files are ``{folder}/{name_prefix}-{episode:06d}.jsonl``, written when the episode ends (or on
    :meth:`close` for an unfinished one); :attr:`paths` lists them. ``episode_trigger(episode_index)``
    chooses which episodes to record (default: all), as in Gymnasium's ``RecordVideo``.
    Replay a file with ``tttthought replay FILE --gif out.gif`` or :func:`write_gif` / :func:`write_html`.

    Example::

        env = RecordEpisode(gymnasium.make("tttthought/Full-v0"), "episodes")
    """

    def __init__(self, env: gym.Env, folder: str | os.PathLike[str], name_prefix: str = "episode",
                 episode_trigger: Callable[[int], bool] | None = None) -> None:
        super().__init__(env)
        base = env.unwrapped
        if not isinstance(getattr(base, "game", None), Game):
            raise TypeError(
                f"RecordEpisode records tttthought envs (ThoughtTicTacToeEnv and wrappers of it), got {base!r}"
            )
        self.folder = Path(folder)
        self.name_prefix = name_prefix
        self.episode_trigger = episode_trigger
        self.episode_index = -1
        self.paths: list[Path] = []
        self._recorder: EpisodeRecorder | None = None
        self._mask: np.ndarray | None = None

    def _start(self, seed: int | None) -> None:
        base: Any = self.env.unwrapped
        self.episode_index += 1
        if self.episode_trigger is not None and not self.episode_trigger(self.episode_index):
            self._recorder = None
            return
        names = {base.agent: "agent", 1 - base.agent: str(base.opponent_name)}
        env_id = self.env.spec.id if self.env.spec is not None else None
        self._recorder = EpisodeRecorder(base.game, names=names, env_id=env_id, meta={"agent": base.agent})
        self._recorder.reset(seed=seed, opponent_move=base.last_opponent_move)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        self._flush()
        obs, info = self.env.reset(seed=seed, options=options)
        self._mask = np.asarray(info["action_mask"], bool).copy()
        self._start(seed)
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        game: Game = self.env.unwrapped.game  # type: ignore[attr-defined]
        occupied_before = game.occupied
        mask = self._mask
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._mask = np.asarray(info["action_mask"], bool).copy()
        recorder = self._recorder
        if recorder is not None:
            a = int(np.asarray(action))
            # The opponent's reply in this step: the cell marked besides the agent's own move.
            replied = game.occupied & ~occupied_before & ~(1 << a)
            recorder.step(
                self.env.unwrapped.agent,  # type: ignore[attr-defined]
                a, mask if mask is not None else np.ones(game.layout.action_size, bool), float(reward),
                {"game": info.get("reward_game", 0.0), "shaping": info.get("reward_shaping", 0.0),
                 "cost": info.get("reward_cost", 0.0)},
                opponent_move=replied.bit_length() - 1 if replied else None, terminated=terminated,
                truncated=truncated, outcome=info.get("outcome"),
                illegal_action=bool(info.get("illegal_action", False)),
            )
            if terminated or truncated:
                self._flush()
        return obs, reward, terminated, truncated, info

    def _flush(self) -> None:
        recorder = self._recorder
        if recorder is not None and len(recorder.lines) > 1:
            path = self.folder / f"{self.name_prefix}-{self.episode_index:06d}.jsonl"
            self.paths.append(recorder.write(path))
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
        action = policy(obs, info["action_mask"])
        obs, _, terminated, truncated, info = recorder.step(action)
        done = terminated or truncated
    written = recorder.paths[-1]
    target = Path(path)
    os.replace(written, target)
    return target
