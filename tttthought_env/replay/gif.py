"""A replay as an animated GIF: each frame is :func:`~tttthought_env.render.render_rgb` with captions below.

The GIF is written frame by frame (each with its own colour table), so memory holds one frame at a time
however long the episode; the file appears only when complete (:func:`~.output.atomic_output`)."""

from __future__ import annotations

import io
import math
import os
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from tttthought_env.render import ASSERTED, MARKER, NEGATED, render_rgb
from tttthought_env.replay.frames import Frame, Records, episode_frames, load_episode, player_label
from tttthought_env.replay.output import atomic_output

if TYPE_CHECKING:
    from PIL import Image

BACKGROUND = (250, 250, 245)
_LEGEND = ((ASSERTED, "+p asserted"), (NEGATED, "-p negated"), (MARKER, "#m marker"))
#: The fastest GIF replay: browsers show frames of under 2/100 s at 1/10 s.
MAX_FPS = 50.0
PIL_HINT = "writing a GIF needs Pillow, which is not installed: pip install pillow (or write only the page: --html)"


def check_fps(fps: object) -> float:
    """``fps`` as a float in ``(0, MAX_FPS]``, else a ``ValueError`` saying what is allowed."""
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not math.isfinite(fps) or not 0 < fps <= MAX_FPS:
        raise ValueError(f"fps must be a number in (0, {MAX_FPS:g}] (frames per second), got {fps!r}")
    return float(fps)


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


def _skip_blocks(data: bytes, pos: int) -> int:
    """The position after a chain of GIF data sub-blocks starting at ``pos`` (its 0 terminator included)."""
    while data[pos]:
        pos += data[pos] + 1
    return pos + 1


def _frame_block(image: Image.Image, centiseconds: int) -> tuple[tuple[int, int], bytes]:
    """One frame as GIF blocks: a graphic control extension with its delay, and the image with its own
    (local) colour table, cut from Pillow's single-frame GIF of it."""
    buffer = io.BytesIO()
    image.save(buffer, format="GIF", optimize=False)
    data = buffer.getvalue()
    width, height, packed = struct.unpack_from("<HHB", data, 6)
    table = data[13:13 + 3 * 2 ** ((packed & 7) + 1)] if packed & 0x80 else b""
    pos = 13 + len(table)
    while data[pos] == 0x21:  # extensions Pillow wrote: ours replace them
        pos = _skip_blocks(data, pos + 2)
    if data[pos] != 0x2C:  # pragma: no cover - Pillow always writes an image here
        raise RuntimeError("unexpected GIF data from Pillow")
    left, top, w, h, local = struct.unpack_from("<HHHHB", data, pos + 1)
    end = _skip_blocks(data, pos + 11)  # the LZW minimum code size, then the image data
    if local & 0x80:  # already a local table
        descriptor = data[pos:end]
    else:
        descriptor = (struct.pack("<BHHHHB", 0x2C, left, top, w, h, (local & 0x40) | 0x80 | (packed & 7)) + table
                      + data[pos + 10:end])
    control = struct.pack("<BBBBHBB", 0x21, 0xF9, 4, 0, centiseconds, 0, 0)
    return (width, height), control + descriptor


def write_frames(fh: IO[bytes], images: Iterable[Image.Image], durations_ms: Iterable[int]) -> int:
    """Write an animated, looping GIF of ``images`` (each converted to 64 colours when it comes, then dropped)
    to ``fh``; return the number of frames."""
    from PIL import Image

    size, count = None, 0
    for image, duration in zip(images, durations_ms):
        frame_size, block = _frame_block(image.convert("P", palette=Image.Palette.ADAPTIVE, colors=64),
                                         max(1, min(65535, round(duration / 10))))
        if size is None:
            size = frame_size
            fh.write(b"GIF89a" + struct.pack("<HHBBB", *size, 0, 0, 0)  # no global colour table
                     + b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00")  # loop forever
        elif frame_size != size:
            raise ValueError(f"frame {count} is {frame_size}, the first frame {size}: a GIF's frames have one size")
        fh.write(block)
        count += 1
    if size is not None:
        fh.write(b"\x3b")
    return count


def write_gif(records: Records | str | os.PathLike[str], path: str | os.PathLike[str], fps: float = 1.5,
              last_frame_seconds: float = 3.0) -> Path:
    """Write an animated GIF of a recorded episode (records, or the path of an episode file), frame by frame;
    a ``ModuleNotFoundError`` names Pillow if it is missing."""
    fps = check_fps(fps)
    if not isinstance(last_frame_seconds, (int, float)) or not 0 < last_frame_seconds <= 600:
        raise ValueError(f"last_frame_seconds must be a number in (0, 600], got {last_frame_seconds!r}")
    try:
        import PIL.Image  # noqa: F401
    except ImportError as err:
        raise ModuleNotFoundError(PIL_HINT, name="PIL") from err
    records = records if isinstance(records, list) else load_episode(records)
    names = records[0].get("names") or {}
    frames = episode_frames(records)  # the games: small; the images are made one at a time below
    durations = [int(1000 / fps)] * (len(frames) - 1) + [int(last_frame_seconds * 1000)]
    path = Path(path)
    with atomic_output(path) as fh:
        write_frames(fh, (frame_image(frame, names) for frame in frames), durations)
    return path
