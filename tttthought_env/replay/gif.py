"""A replay as an animated GIF: each frame is :func:`~tttthought_env.render.render_rgb` with captions below."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from tttthought_env.render import ASSERTED, MARKER, NEGATED, render_rgb
from tttthought_env.replay.frames import Frame, Records, episode_frames, load_episode, player_label

if TYPE_CHECKING:
    from PIL import Image

BACKGROUND = (250, 250, 245)
_LEGEND = ((ASSERTED, "+p asserted"), (NEGATED, "-p negated"), (MARKER, "#m marker"))


def frame_image(frame: Frame, names: dict[str, str] | None = None, min_width: int = 420) -> Image.Image:
    """A ``PIL.Image`` of one frame: the picture, a legend beside it, the captions and both stores below."""
    from PIL import Image, ImageDraw, ImageFont

    try:
        font: ImageFont.FreeTypeFont | ImageFont.ImageFont = ImageFont.load_default(size=12)
    except TypeError:  # pragma: no cover - Pillow < 10.1 has only the bitmap font
        font = ImageFont.load_default()
    picture = render_rgb(frame.game)
    height, width, _ = picture.shape
    lines = [frame.caption, frame.detail,
             *(f"{player_label(names or {}, p)}: {frame.game.store_string(p) or '(empty)'}" for p in (0, 1))]
    canvas = Image.new("RGB", (max(width, min_width), height + 15 * (len(lines) + 1) + 6), BACKGROUND)
    canvas.paste(Image.fromarray(picture), (0, 0))
    draw = ImageDraw.Draw(canvas)
    if width + 108 <= canvas.width:  # room for the legend
        for i, (colour, text) in enumerate(_LEGEND):
            x, y = width + 8, 12 + i * 18
            draw.rectangle((x, y, x + 10, y + 10), fill=tuple(int(v) for v in colour))
            draw.text((x + 16, y - 1), text, fill=(40, 40, 40), font=font)
    for i, text in enumerate(lines):
        draw.text((8, height + 4 + i * 15), text, fill=(20, 20, 20), font=font)
    return canvas


def write_gif(records: Records | str | os.PathLike[str], path: str | os.PathLike[str], fps: float = 1.5,
              last_frame_seconds: float = 3.0) -> Path:
    """Write an animated GIF of a recorded episode (records, or the path of an episode file)."""
    from PIL import Image

    records = records if isinstance(records, list) else load_episode(records)
    names = records[0].get("names") or {}
    # Every frame of an episode has the same size: the board's and the same four lines of text.
    images = [frame_image(frame, names).convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
              for frame in episode_frames(records)]
    durations = [int(1000 / fps)] * (len(images) - 1) + [int(last_frame_seconds * 1000)]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, save_all=True, append_images=images[1:], duration=durations, loop=0, optimize=False)
    return path
