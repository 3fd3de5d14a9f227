"""Record episodes as JSON lines and replay them as an animated GIF or a self-contained HTML page.

* :class:`RecordEpisode` is a ``gymnasium.Wrapper`` that records episodes of the Gymnasium env
  (any registered id, any wrapper stack over :class:`~tttthought_env.gymnasium_env.ThoughtTicTacToeEnv`).
* :class:`EpisodeRecorder` records any sequence of actions on a :class:`~tttthought_env.core.Game`;
  ``tttthought play --record`` and the PettingZoo example use it.
* :func:`replay_episode` rebuilds every position of a file by playing its actions through the rules;
  :func:`episode_frames` turns them into captioned frames.
* :func:`write_gif` and :func:`write_html` turn a recorded episode into pictures; ``tttthought replay``
  is the command line for them.

The file format is described in :mod:`tttthought_env.replay.record`.
"""

from __future__ import annotations

import os
from pathlib import Path

from tttthought_env.replay.frames import (Frame, Replay, ReplayStep, describe_thought, episode_frames, episode_games,
                                          iter_steps, load_episode, replay_episode)
from tttthought_env.replay.gif import frame_image, write_gif
from tttthought_env.replay.page import render_html, write_html
from tttthought_env.replay.record import (FORMAT, EpisodeRecorder, RecordEpisode, record_policy_episode, snapshot,
                                          start_game)

__all__ = ["FORMAT", "EpisodeRecorder", "Frame", "RecordEpisode", "Replay", "ReplayStep", "describe_thought",
           "episode_frames", "episode_games", "frame_image", "iter_steps", "load_episode", "record_policy_episode",
           "render_html", "replay_episode", "replay_file", "snapshot", "start_game", "write_gif", "write_html"]


def replay_file(episode: str | os.PathLike[str], gif: str | os.PathLike[str] | None = None,
                html_path: str | os.PathLike[str] | None = None, fps: float = 1.5) -> list[Path]:
    """Write a GIF and/or an HTML page of a recorded episode; return the paths written."""
    records = load_episode(episode)
    written = []
    if gif is not None:
        written.append(write_gif(records, gif, fps=fps))
    if html_path is not None:
        written.append(write_html(records, html_path))
    return written
