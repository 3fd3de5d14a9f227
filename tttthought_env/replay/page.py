"""A replay as one self-contained HTML page (no external files, no network), rendered from the Jinja2
template ``page.html`` with autoescaping: every value taken from the episode file is escaped."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tttthought_env.core import Game
from tttthought_env.render import SYMBOLS
from tttthought_env.replay.frames import Frame, Records, episode_frames, load_episode, player_label
from tttthought_env.replay.output import atomic_output

if TYPE_CHECKING:
    import jinja2


@cache
def _template() -> jinja2.Template:
    import jinja2

    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return environment.from_string((resources.files("tttthought_env.replay") / "page.html").read_text(encoding="utf-8"))


def _cells(game: Game, view: Callable[[int], dict[str, Any]]) -> list[list[dict[str, Any]]]:
    cols = game.config.cols
    return [[view(r * cols + c) for c in range(cols)] for r in range(game.config.rows)]


def _store_view(frame: Frame, player: int, label: str) -> dict[str, Any]:
    game, entries = frame.game, frame.game.store_entries(player)
    signs = {arg: sign for sign, arg in entries if sign != "#"}
    new = frame.arg if frame.player == player and frame.event in ("propose", "negate", "forget") else None

    def cell_view(cell: int) -> dict[str, Any]:
        sign = signs.get(cell, "")
        classes = {"+": "pos", "-": "neg", "": ""}[sign] + (" new" if cell == new else "")
        return {"index": cell, "text": sign.replace("-", "\u2212"), "classes": classes.strip()}

    to_move = not game.done and game.to_move == player
    return {"label": label, "to_move": to_move, "rows": _cells(game, cell_view),
            "left": game.thoughts_left[player] if to_move and game.config.thinking else None,
            "entries": game.store_string(player), "markers": [arg for sign, arg in entries if sign == "#"]}


def _frame_view(frame: Frame, names: dict[str, str]) -> dict[str, Any]:
    board = frame.game.board
    last = frame.arg if frame.event in ("move", "reply") else None

    def cell_view(cell: int) -> dict[str, Any]:
        mark = SYMBOLS[int(board[cell])].replace(".", "")
        return {"index": cell, "mark": mark, "classes": (mark or "empty") + (" last" if cell == last else "")}

    return {"event": frame.event, "caption": frame.caption, "detail": frame.detail,
            "board": _cells(frame.game, cell_view),
            "stores": [_store_view(frame, p, player_label(names, p)) for p in (0, 1)]}


def render_html(records: Records, title: str | None = None) -> str:
    """The HTML page of a recorded episode, as text."""
    header = records[0]
    settings = ", ".join(f"{key}={value}" for key, value in (header.get("config") or {}).items())
    frames = [_frame_view(frame, header.get("names") or {}) for frame in episode_frames(records)]
    return _template().render(title=title or f"tttthought replay: {header.get('env_id') or 'episode'}",
                              settings=settings, frames=frames)


def write_html(records: Records | str | os.PathLike[str], path: str | os.PathLike[str],
               title: str | None = None) -> Path:
    """Write a self-contained HTML page (no external files or network) that steps through an episode."""
    page = render_html(records if isinstance(records, list) else load_episode(records), title)
    path = Path(path)
    with atomic_output(path) as fh:
        fh.write(page.encode("utf-8"))
    return path
