"""A replay as an animated GIF: each frame is :func:`~tttthought_env.render.render_rgb` with captions below."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tttthought_env.render import ASSERTED, MARKER, NEGATED, render_rgb
from tttthought_env.replay.frames import Frame, Records, episode_frames, load_episode, player_label

if TYPE_CHECKING:
    from PIL import Image, ImageFont

BACKGROUND = (250, 250, 245)
_LEGEND = ((ASSERTED, "+p asserted"), (NEGATED, "-p negated"), (MARKER, "#m marker"))


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # pragma: no cover - Pillow < 10.1 has only the bitmap font
        return ImageFont.load_default()


def frame_image(frame: Frame, names: dict[str, str] | None = None, min_width: int = 420) -> Image.Image:
    """A ``PIL.Image`` of one frame: the picture, a legend beside it, the captions and both stores below."""
    from PIL import Image, ImageDraw

    picture = render_rgb(frame.game)
    height, width, _ = picture.shape
    font = _font(12)
    names = names or {}
    lines = [frame.caption, frame.detail,
             *(f"{player_label(names, p)}: {frame.game.store_string(p) or '(empty)'}" for p in (0, 1))]
    line_h = 15
    out_w = max(width, min_width)
    canvas = Image.new("RGB", (out_w, height + line_h * (len(lines) + 1) + 6), BACKGROUND)
    canvas.paste(Image.fromarray(picture), (0, 0))
    draw = ImageDraw.Draw(canvas)
    legend_x = width + 8
    if legend_x + 100 <= out_w:
        for i, (colour, text) in enumerate(_LEGEND):
            y = 12 + i * 18
            draw.rectangle((legend_x, y, legend_x + 10, y + 10), fill=tuple(int(v) for v in colour))
            draw.text((legend_x + 16, y - 1), text, fill=(40, 40, 40), font=font)
    for i, text in enumerate(lines):
        draw.text((8, height + 4 + i * line_h), text, fill=(20, 20, 20), font=font)
    return canvas


def write_gif(records: Records | str | os.PathLike[str], path: str | os.PathLike[str], fps: float = 1.5,
              last_frame_seconds: float = 3.0) -> Path:
    """Write an animated GIF of a recorded episode (records, or the path of an episode file)."""
    from PIL import Image

    if not isinstance(records, list):
        records = load_episode(records)
    names: dict[str, Any] = records[0].get("names") or {}
    images = [frame_image(frame, names) for frame in episode_frames(records)]
    size = (max(im.width for im in images), max(im.height for im in images))
    padded = []
    for im in images:
        if im.size != size:
            canvas = Image.new("RGB", size, BACKGROUND)
            canvas.paste(im, (0, 0))
            im = canvas
        padded.append(im.convert("P", palette=Image.Palette.ADAPTIVE, colors=64))
    durations = [int(1000 / fps)] * len(padded)
    durations[-1] = int(last_frame_seconds * 1000)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    padded[0].save(path, save_all=True, append_images=padded[1:], duration=durations, loop=0, optimize=False)
    return path
