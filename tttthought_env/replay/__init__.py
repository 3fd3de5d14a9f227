"""Record episodes as JSON lines and replay them as an animated GIF or a self-contained HTML page.

:class:`RecordEpisode` records a Gymnasium env, :class:`EpisodeRecorder` any game (``tttthought play
--record`` uses it); :func:`replay_episode` rebuilds a file's games through the rules, and
:func:`write_gif` / :func:`write_html` (``tttthought replay``) draw them. The format: :mod:`.record`.
"""

from __future__ import annotations

import os
from pathlib import Path

from tttthought_env.replay.frames import (Frame, Replay, ReplayStep, describe_thought, episode_frames, episode_games,
                                          load_episode, replay_episode)
from tttthought_env.replay.gif import frame_image, write_gif
from tttthought_env.replay.page import render_html, write_html
from tttthought_env.replay.record import (FORMAT, EpisodeRecorder, RecordEpisode, record_policy_episode,
                                          reward_parts_of, snapshot, start_game)

__all__ = ["FORMAT", "EpisodeRecorder", "Frame", "RecordEpisode", "Replay", "ReplayStep", "describe_thought",
           "episode_frames", "episode_games", "frame_image", "load_episode", "record_policy_episode", "render_html",
           "replay_episode", "replay_file", "reward_parts_of", "snapshot", "start_game", "write_gif", "write_html"]


def replay_file(episode: str | os.PathLike[str], gif: str | os.PathLike[str] | None = None,
                html_path: str | os.PathLike[str] | None = None, fps: float = 1.5) -> list[Path]:
    """Write a GIF and/or an HTML page of a recorded episode; return the paths written."""
    records = load_episode(episode)
    return ([write_gif(records, gif, fps=fps)] if gif is not None else []) + \
        ([write_html(records, html_path)] if html_path is not None else [])
