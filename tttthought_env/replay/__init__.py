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
from tttthought_env.replay.gif import PIL_HINT, check_fps, frame_image, write_gif
from tttthought_env.replay.output import atomic_output, same_file
from tttthought_env.replay.schema import MAX_FILE_BYTES, check_records, load_records
from tttthought_env.replay.page import render_html, write_html
from tttthought_env.replay.record import (FORMAT, EpisodeRecorder, RecordEpisode, record_policy_episode,
                                          reward_parts_of, snapshot, start_game)

__all__ = ["FORMAT", "MAX_FILE_BYTES", "atomic_output", "check_records", "load_records", "EpisodeRecorder", "Frame", "RecordEpisode", "Replay", "ReplayStep", "describe_thought",
           "episode_frames", "episode_games", "frame_image", "load_episode", "record_policy_episode", "render_html",
           "replay_episode", "replay_file", "reward_parts_of", "snapshot", "start_game", "write_gif", "write_html"]


def replay_file(episode: str | os.PathLike[str], gif: str | os.PathLike[str] | None = None,
                html_path: str | os.PathLike[str] | None = None, fps: float = 1.5) -> list[Path]:
    """Write a GIF and/or an HTML page of a recorded episode; return the paths written.

    Everything is checked before anything is written: the episode (:mod:`.schema`), ``fps``, that no output
    is the episode itself or the other output, and (for a GIF) that Pillow is installed. Each file appears
    whole or not at all."""
    outputs = [path for path in (gif, html_path) if path is not None]
    for output in outputs:
        if same_file(output, episode):
            raise ValueError(f"the output {output} is the episode file itself; refusing to overwrite it")
    if len(outputs) == 2 and same_file(outputs[0], outputs[1]):
        raise ValueError(f"the GIF and the page would both be written to {outputs[0]}")
    if gif is not None:
        check_fps(fps)
        try:
            import PIL.Image  # noqa: F401
        except ImportError as err:
            raise ModuleNotFoundError(PIL_HINT, name="PIL") from err
    records = load_episode(episode)
    replay_episode(records)  # every line reproduced by the rules before a file is written
    return ([write_gif(records, gif, fps=fps)] if gif is not None else []) + \
        ([write_html(records, html_path)] if html_path is not None else [])
