"""Record episodes as JSON lines and replay them as an animated GIF or a self-contained HTML page.

An episode file holds one JSON object per line: a ``"reset"`` line, then one ``"step"`` line per
action with the action id, its ``(kind, arg)``, the thought (or ``null`` for a move), the reward and
its parts, the legal-action mask the action was chosen from, and a snapshot of the game after the
step (board, both stores, thoughts left, player to move, winner). The snapshots make a replay
self-sufficient: it needs no env, no policy and no solver.

* :class:`RecordEpisode` is a ``gymnasium.Wrapper`` that records episodes of the Gymnasium env
  (any registered id, any wrapper stack over :class:`~tttthought_env.gymnasium_env.ThoughtTicTacToeEnv`).
* :class:`EpisodeRecorder` records any sequence of actions on a :class:`~tttthought_env.core.Game`;
  ``tttthought play --record`` and the PettingZoo example use it.
* :func:`write_gif` and :func:`write_html` turn a recorded episode into pictures; ``tttthought replay``
  is the command line for them.
"""

from __future__ import annotations

import html
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from tttthought_env.core import WINNER_DRAW, WINNER_NONE, Config, Game, rules_for

#: Value of the ``"format"`` key of every reset line.
FORMAT = "tttthought-episode/1"
CONFIG_KEYS: tuple[str, ...] = ("rows", "cols", "k", "channels", "max_thoughts", "memory_size", "num_markers",
                                "persist")
SYMBOLS = (".", "X", "O")

__all__ = [
    "FORMAT",
    "EpisodeRecorder",
    "Frame",
    "RecordEpisode",
    "episode_frames",
    "game_from_snapshot",
    "load_episode",
    "replay_file",
    "snapshot",
    "write_gif",
    "write_html",
]


# --------------------------------------------------------------------------- snapshots
def snapshot(game: Game) -> dict[str, Any]:
    """The JSON-ready state of ``game``: board, both stores, thoughts left, player to move, winner."""
    return {
        "board": [int(v) for v in game.board],
        "stores": [[[sign, int(arg)] for sign, arg in game.store_entries(p)] for p in (0, 1)],
        "thoughts_left": [int(t) for t in game.thoughts_left],
        "to_move": int(game.to_move),
        "winner": int(game.winner),
    }


def config_dict(config: Config) -> dict[str, Any]:
    out = {key: getattr(config, key) for key in CONFIG_KEYS}
    out["channels"] = list(config.channels)
    return out


def game_from_snapshot(config: Config | dict, snap: dict) -> Game:
    """A :class:`Game` in the state a snapshot describes (enough to render it and to read its stores)."""
    if isinstance(config, dict):
        config = Config(**{**config, "channels": tuple(config.get("channels", ()))})
    game = Game(rules_for(config))
    n = game.n
    board = snap["board"]
    if len(board) != n:
        raise ValueError(f"snapshot board has {len(board)} cells, the config has {n}")
    for cell, value in enumerate(board):
        if value:
            game.board[cell] = value
            game.marks[value - 1] |= 1 << cell
            game.occupied |= 1 << cell
    for p in (0, 1):
        for sign, arg in snap["stores"][p]:
            if sign == "#":
                code = 2 * n + arg
            else:
                code = arg if sign == "+" else n + arg
                game.prop_state[p][arg] = 1 if sign == "+" else -1
            game.stores[p].append(code)
    game.thoughts_left = list(snap.get("thoughts_left", game.thoughts_left))
    game.to_move = int(snap.get("to_move", 0))
    game.winner = int(snap.get("winner", WINNER_NONE))
    return game


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return repr(value)


# ---------------------------------------------------------------------------- recording
class EpisodeRecorder:
    """Collects the lines of one episode played on ``game``.

    Call :meth:`reset` after the game is reset, :meth:`step` after every action, then :meth:`write`.
    ``names`` maps player index to a label (e.g. ``{0: "you", 1: "minimax"}``).
    """

    def __init__(self, game: Game, names: dict | None = None, env_id: str | None = None,
                 meta: dict | None = None) -> None:
        self.game = game
        self.names = {0: "X", 1: "O"} if names is None else dict(names)
        self.env_id = env_id
        self.meta = dict(meta or {})
        self.lines: list[dict] = []

    def reset(self, seed: int | None = None, opponent_move: int | None = None, **extra: Any) -> None:
        self.lines = [{
            "type": "reset",
            "format": FORMAT,
            "env_id": self.env_id,
            "config": config_dict(self.game.config),
            "names": {str(k): v for k, v in self.names.items()},
            "seed": seed,
            "opponent_move": opponent_move,
            **_jsonable(self.meta),
            **_jsonable(extra),
            **snapshot(self.game),
        }]

    def step(self, player: int, action: int, mask: np.ndarray | Sequence[bool], reward: float = 0.0,
             reward_parts: dict | None = None, opponent_move: int | None = None, terminated: bool = False,
             truncated: bool = False, outcome: str | None = None, **extra: Any) -> dict:
        """Record ``player``'s ``action``, chosen from ``mask``; the game must already show its result."""
        if not self.lines:
            raise RuntimeError("EpisodeRecorder.step() called before reset()")
        kind, arg = self.game.rules.decode[int(action)]
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
            **_jsonable(extra),
            **snapshot(self.game),
        }
        self.lines.append(line)
        return line

    def write(self, path: str | os.PathLike) -> Path:
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

    def __init__(self, env: gym.Env, folder: str | os.PathLike, name_prefix: str = "episode",
                 episode_trigger: Callable[[int], bool] | None = None) -> None:
        super().__init__(env)
        base = env.unwrapped
        if not hasattr(base, "game") or not isinstance(base.game, Game):
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
        base = self.env.unwrapped
        self.episode_index += 1
        if self.episode_trigger is not None and not self.episode_trigger(self.episode_index):
            self._recorder = None
            return
        names = {base.agent: "agent", 1 - base.agent: str(base.opponent_name)}
        env_id = self.env.spec.id if self.env.spec is not None else None
        self._recorder = EpisodeRecorder(base.game, names=names, env_id=env_id, meta={"agent": base.agent})
        self._recorder.reset(seed=seed, opponent_move=base.last_opponent_move)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]:
        self._flush()
        obs, info = self.env.reset(seed=seed, options=options)
        self._mask = np.asarray(info["action_mask"], bool).copy()
        self._start(seed)
        return obs, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        base = self.env.unwrapped
        board_before = base.game.board.copy()
        mask = self._mask
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._mask = np.asarray(info["action_mask"], bool).copy()
        recorder = self._recorder
        if recorder is not None:
            a = int(np.asarray(action))
            changed = np.flatnonzero((board_before == 0) & (base.game.board != 0))
            replies = [int(c) for c in changed if c != a]
            recorder.step(
                base.agent, a, mask if mask is not None else np.ones(base.rules.action_size, bool), reward,
                {"game": info.get("reward_game", 0.0), "shaping": info.get("reward_shaping", 0.0),
                 "cost": info.get("reward_cost", 0.0)},
                opponent_move=replies[0] if replies else None, terminated=terminated, truncated=truncated,
                outcome=info.get("outcome"), illegal_action=bool(info.get("illegal_action", False)),
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


# ------------------------------------------------------------------------------ loading
def load_episode(path: str | os.PathLike) -> list[dict]:
    """Read an episode file; raise ``ValueError`` naming the line if it is not a recorded episode."""
    records = []
    with open(path, encoding="utf-8") as fh:
        for number, text in enumerate(fh, 1):
            if not text.strip():
                continue
            try:
                records.append(json.loads(text))
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}: line {number} is not JSON ({err.msg})") from None
    if not records or records[0].get("type") != "reset" or records[0].get("format") != FORMAT:
        raise ValueError(f"{path}: not a recorded episode (the first line must be a reset line of format {FORMAT!r})")
    for number, record in enumerate(records[1:], 2):
        if record.get("type") != "step" or "board" not in record or "stores" not in record:
            raise ValueError(f"{path}: line {number} is not a step line with a board and stores snapshot")
    return records


# ------------------------------------------------------------------------------- frames
@dataclass
class Frame:
    """One picture of a replay: the game state and what just happened."""

    game: Game
    caption: str
    detail: str
    event: str  #: "start", "move", "reply", "propose", "negate", "forget", "marker" or "illegal"
    step: int


def _label(names: dict, player: int) -> str:
    name = names.get(str(player))
    mark = "XO"[player]
    return mark if not name or name == mark else f"{mark} ({name})"


def _entry(sign: str, arg: int) -> str:
    return f"{sign}{arg}"


def describe_thought(kind: str, arg: int, before: list, after: list) -> str:
    """Words for a thought, from the thinker's store before and after it (lists of ``[sign, arg]``)."""
    was, now = Counter(tuple(e) for e in before), Counter(tuple(e) for e in after)
    removed = list((was - now).elements())
    added = list((now - was).elements())
    if kind == "forget":
        return "forgets " + (", ".join(_entry(*e) for e in removed) if removed else str(arg))
    if kind == "propose":
        text = f"asserts +{arg}"
    elif kind == "negate":
        text = f"negates {arg} (-{arg})"
    else:
        text = f"adds marker #{arg}"
    replaced = [e for e in removed if kind != "marker" and e[0] in "+-" and e[1] == arg]
    evicted = [e for e in removed if e not in replaced]
    if kind == "marker" and not added:  # the evicted oldest entry was this very marker
        evicted = [("#", arg)]
    if replaced:
        text += f", replacing {_entry(*replaced[0])}"
    if evicted:
        text += ", evicting " + ", ".join(_entry(*e) for e in evicted) + " (store full)"
    return text


def _rewards(record: dict) -> str:
    parts = record.get("reward_parts") or {}
    shown = ", ".join(f"{key} {value:+.3f}" for key, value in parts.items() if value)
    return f"reward {record.get('reward', 0.0):+.3f}" + (f" ({shown})" if shown else "")


def _result(winner: int, names: dict) -> str:
    if winner == WINNER_DRAW:
        return "draw"
    return f"{_label(names, winner)} wins"


def episode_frames(records: list[dict]) -> list[Frame]:
    """The frames of a replay: the start, each thought, each move and each opponent reply."""
    header = records[0]
    config = Config(**{**header["config"], "channels": tuple(header["config"]["channels"])})
    names = header.get("names") or {}
    frames = []
    start_caption = "start"
    if header.get("opponent_move") is not None:
        start_caption = f"start: {_label(names, 0)} opened with {header['opponent_move']}"
    frames.append(Frame(game_from_snapshot(config, header), start_caption, "", "start", 0))
    previous = header
    for record in records[1:]:
        player = record["player"]
        who = _label(names, player)
        kind, arg, t = record["kind"], record["arg"], record["t"]
        reply = record.get("opponent_move")
        if record.get("illegal_action"):
            caption = f"{t}: {who} tried {kind} {arg}, which is illegal: it loses"
            frames.append(Frame(game_from_snapshot(config, record), caption, _rewards(record), "illegal", t))
        elif kind != "move":
            text = describe_thought(kind, arg, previous["stores"][player], record["stores"][player])
            frames.append(Frame(game_from_snapshot(config, record), f"{t}: {who} thinks: {text}",
                                _rewards(record), kind, t))
        else:
            if reply is not None:
                # The Gymnasium env plays the opponent's reply in the same step: show the move first.
                mid = dict(record)
                board = list(record["board"])
                board[reply] = 0
                mid["board"] = board
                mid["to_move"] = 1 - player
                mid["winner"] = WINNER_NONE
                frames.append(Frame(game_from_snapshot(config, mid), f"{t}: {who} moves {arg}", "", "move", t))
                caption = f"{t}: {_label(names, 1 - player)} replies {reply}"
                event = "reply"
            else:
                caption = f"{t}: {who} moves {arg}"
                event = "move"
            frames.append(Frame(game_from_snapshot(config, record), caption, _rewards(record), event, t))
        if record.get("winner", WINNER_NONE) != WINNER_NONE:
            frames[-1].caption += f" -- {_result(record['winner'], names)}"
        previous = record
    return frames


# ---------------------------------------------------------------------------------- GIF
def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # pragma: no cover - Pillow < 10.1 has only the bitmap font
        return ImageFont.load_default()


def frame_image(frame: Frame, names: dict | None = None, min_width: int = 420):
    """A ``PIL.Image`` of one frame: :func:`~tttthought_env.render.render_rgb` with a caption below."""
    from PIL import Image, ImageDraw

    from tttthought_env.render import ASSERTED, MARKER, NEGATED, render_rgb

    picture = render_rgb(frame.game)
    height, width, _ = picture.shape
    font = _font(12)
    names = names or {}
    store_lines = [f"{_label(names, p)}: {frame.game.store_string(p) or '(empty)'}" for p in (0, 1)]
    lines = [frame.caption, frame.detail, *store_lines]
    line_h = 15
    out_w = max(width, min_width)
    canvas = Image.new("RGB", (out_w, height + line_h * (len(lines) + 1) + 6), (250, 250, 245))
    canvas.paste(Image.fromarray(picture), (0, 0))
    draw = ImageDraw.Draw(canvas)
    # A legend beside the picture.
    legend_x = width + 8
    for i, (colour, text) in enumerate(((ASSERTED, "+p asserted"), (NEGATED, "-p negated"), (MARKER, "#m marker"))):
        y = 12 + i * 18
        if legend_x + 100 <= out_w:
            draw.rectangle([legend_x, y, legend_x + 10, y + 10], fill=tuple(int(v) for v in colour))
            draw.text((legend_x + 16, y - 1), text, fill=(40, 40, 40), font=font)
    for i, text in enumerate(lines):
        draw.text((8, height + 4 + i * line_h), text, fill=(20, 20, 20), font=font)
    return canvas


def write_gif(records: list[dict] | str | os.PathLike, path: str | os.PathLike, fps: float = 1.5,
              last_frame_seconds: float = 3.0) -> Path:
    """Write an animated GIF of a recorded episode (records, or the path of an episode file)."""
    if not isinstance(records, list):
        records = load_episode(records)
    frames = episode_frames(records)
    names = records[0].get("names") or {}
    images = [frame_image(frame, names) for frame in frames]
    width = max(im.width for im in images)
    height = max(im.height for im in images)
    from PIL import Image

    padded = []
    for im in images:
        if im.size != (width, height):
            canvas = Image.new("RGB", (width, height), (250, 250, 245))
            canvas.paste(im, (0, 0))
            im = canvas
        padded.append(im.convert("P", palette=Image.Palette.ADAPTIVE, colors=64))
    durations = [int(1000 / fps)] * len(padded)
    durations[-1] = int(last_frame_seconds * 1000)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    padded[0].save(path, save_all=True, append_images=padded[1:], duration=durations, loop=0, optimize=False)
    return path


# --------------------------------------------------------------------------------- HTML
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5em;color:#222;background:#fafaf5}
h1{font-size:1.3em}.controls{margin:1em 0}.controls button{font-size:1em;margin-right:.3em}
.frame{display:none}.frame.current{display:block}.row{display:flex;gap:2em;align-items:flex-start}
table.board{border-collapse:collapse}table.board td{width:2.2em;height:2.2em;text-align:center;font-size:1.5em;
border:2px solid #444;font-weight:bold}td.X{color:#c82828}td.O{color:#2850c8}
td.last{background:#fff3c4}table.store{border-collapse:collapse;margin:.3em 0}
table.store td{width:1.5em;height:1.5em;border:1px solid #bbb;text-align:center;font-size:.8em}
td.pos{background:#3caa50;color:#fff}td.neg{background:#d7463c;color:#fff}td.new{outline:3px solid #ffc828}
.store-box{margin-bottom:.8em}.store-box.tomove h3{text-decoration:underline}h3{font-size:1em;margin:.2em 0}
.entries{font-family:monospace}.marker{display:inline-block;background:#9650be;color:#fff;padding:0 .3em;
margin-right:.2em;border-radius:3px}.caption{font-size:1.1em;font-weight:bold;margin:.6em 0}.detail{color:#555}
.event-propose .caption{color:#2a7a3a}.event-negate .caption{color:#b0302a}.event-forget .caption{color:#666}
.event-marker .caption{color:#7a3a9a}ol.log{font-family:monospace;font-size:.9em;max-height:20em;overflow:auto}
ol.log li.current{background:#fff3c4}.legend span{margin-right:1em}
"""

_JS = """
(function(){
  var frames=document.querySelectorAll('.frame'),items=document.querySelectorAll('ol.log li'),
      slider=document.getElementById('slider'),label=document.getElementById('pos'),i=0,timer=null;
  function show(k){i=Math.max(0,Math.min(frames.length-1,k));
    for(var j=0;j<frames.length;j++){frames[j].className=frames[j].className.replace(' current','');
      if(items[j])items[j].className='';}
    frames[i].className+=' current';if(items[i])items[i].className='current';
    slider.value=i;label.textContent=(i+1)+' / '+frames.length;}
  function play(){if(timer){clearInterval(timer);timer=null;return;}
    if(i>=frames.length-1)show(0);
    timer=setInterval(function(){if(i>=frames.length-1){clearInterval(timer);timer=null;}else show(i+1);},800);}
  document.getElementById('first').onclick=function(){show(0);};
  document.getElementById('prev').onclick=function(){show(i-1);};
  document.getElementById('next').onclick=function(){show(i+1);};
  document.getElementById('last').onclick=function(){show(frames.length-1);};
  document.getElementById('play').onclick=play;
  slider.max=frames.length-1;slider.oninput=function(){show(parseInt(slider.value,10));};
  for(var j=0;j<items.length;j++){(function(k){items[k].onclick=function(){show(k);};})(j);}
  document.addEventListener('keydown',function(e){if(e.key==='ArrowRight')show(i+1);
    else if(e.key==='ArrowLeft')show(i-1);else if(e.key===' '){e.preventDefault();play();}});
  show(0);
})();
"""


def _board_html(game: Game, highlight: int | None) -> str:
    cfg = game.config
    rows = []
    for r in range(cfg.rows):
        cells = []
        for c in range(cfg.cols):
            cell = r * cfg.cols + c
            mark = SYMBOLS[int(game.board[cell])]
            classes = [mark if mark != "." else "empty"] + (["last"] if cell == highlight else [])
            text = mark if mark != "." else f'<small style="color:#bbb">{cell}</small>'
            cells.append(f'<td class="{" ".join(classes)}">{text}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return '<table class="board">' + "".join(rows) + "</table>"


def _store_html(game: Game, player: int, label: str, new_arg: int | None) -> str:
    cfg = game.config
    n = game.n
    rows = []
    for r in range(cfg.rows):
        cells = []
        for c in range(cfg.cols):
            cell = r * cfg.cols + c
            state = game.prop_state[player][cell]
            cls = "pos" if state == 1 else "neg" if state == -1 else ""
            text = "+" if state == 1 else "&minus;" if state == -1 else ""
            if cell == new_arg:
                cls += " new"
            cells.append(f'<td class="{cls.strip()}" title="cell {cell}">{text}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    markers = [f'<span class="marker">#{code - 2 * n}</span>' for code in game.stores[player] if code >= 2 * n]
    entries = html.escape(game.store_string(player)) or "(empty)"
    to_move = " tomove" if not game.done and game.to_move == player else ""
    left = f" &middot; {game.thoughts_left[player]} thoughts left" if to_move and cfg.thinking else ""
    return (f'<div class="store-box{to_move}"><h3>{html.escape(label)} store{left}</h3>'
            f'<table class="store">{"".join(rows)}</table>'
            f'<div class="entries">{entries}</div><div>{"".join(markers)}</div></div>')


def write_html(records: list[dict] | str | os.PathLike, path: str | os.PathLike, title: str | None = None) -> Path:
    """Write a self-contained HTML page (no external files or network) that steps through an episode."""
    if not isinstance(records, list):
        records = load_episode(records)
    header = records[0]
    names = header.get("names") or {}
    frames = episode_frames(records)
    title = title or f"tttthought replay: {header.get('env_id') or 'episode'}"
    sections, log = [], []
    for index, frame in enumerate(frames):
        game = frame.game
        record = records[frame.step] if frame.step < len(records) else {}
        highlight = None
        new_arg = None
        if frame.event in ("move", "reply"):
            highlight = record.get("opponent_move") if frame.event == "reply" else record.get("arg")
        elif frame.event in ("propose", "negate", "forget"):
            new_arg = record.get("arg")
        stores = "".join(
            _store_html(game, p, _label(names, p), new_arg if record.get("player") == p else None) for p in (0, 1)
        )
        sections.append(
            f'<section class="frame event-{frame.event}" id="f{index}">'
            f'<div class="caption">{html.escape(frame.caption)}</div>'
            f'<div class="row"><div>{_board_html(game, highlight)}</div><div>{stores}</div></div>'
            f'<div class="detail">{html.escape(frame.detail)}</div></section>'
        )
        log.append(f"<li>{html.escape(frame.caption)}</li>")
    cfg = header["config"]
    settings = ", ".join(f"{key}={value}" for key, value in cfg.items())
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_CSS}</style></head><body>
<h1>{html.escape(title)}</h1>
<div class="detail">{html.escape(settings)}</div>
<div class="legend"><span><b style="color:#3caa50">+p</b> asserted</span><span><b style="color:#d7463c">-p</b>
 negated</span><span><b style="color:#9650be">#m</b> marker</span><span>forgotten entries disappear</span></div>
<div class="controls"><button id="first">&#x23EE;</button><button id="prev">&#x25C0;</button>
<button id="play">play / pause</button><button id="next">&#x25B6;</button><button id="last">&#x23ED;</button>
<input type="range" id="slider" min="0" value="0"> <span id="pos"></span></div>
{"".join(sections)}
<h2>Log</h2><ol class="log" start="0">{"".join(log)}</ol>
<script>{_JS}</script>
<noscript><style>.frame{{display:block;border-bottom:1px solid #ccc}}</style></noscript>
</body></html>
"""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def replay_file(episode: str | os.PathLike, gif: str | os.PathLike | None = None,
                html_path: str | os.PathLike | None = None, fps: float = 1.5) -> list[Path]:
    """Write a GIF and/or an HTML page of a recorded episode; return the paths written."""
    records = load_episode(episode)
    written = []
    if gif is not None:
        written.append(write_gif(records, gif, fps=fps))
    if html_path is not None:
        written.append(write_html(records, html_path))
    return written


def record_policy_episode(env: gym.Env, policy: Callable[[Any, np.ndarray], int], path: str | os.PathLike,
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


def iter_steps(records: Iterable[dict]) -> Iterable[dict]:
    """The step lines of an episode (everything after the reset line)."""
    return (record for record in records if record.get("type") == "step")
