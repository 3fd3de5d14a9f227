"""A replay as one self-contained HTML page (no external files, no network), rendered from a Jinja2
template with autoescaping: every value taken from the episode file is escaped."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tttthought_env.core import Game
from tttthought_env.render import SYMBOLS
from tttthought_env.replay.frames import Frame, Records, episode_frames, load_episode, player_label

if TYPE_CHECKING:
    import jinja2

TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>{% raw %}
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
{% endraw %}</style></head><body>
<h1>{{ title }}</h1>
<div class="detail">{{ settings }}</div>
<div class="legend"><span><b style="color:#3caa50">+p</b> asserted</span><span><b style="color:#d7463c">-p</b>
 negated</span><span><b style="color:#9650be">#m</b> marker</span><span>forgotten entries disappear</span></div>
<div class="controls"><button id="first">&#x23EE;</button><button id="prev">&#x25C0;</button>
<button id="play">play / pause</button><button id="next">&#x25B6;</button><button id="last">&#x23ED;</button>
<input type="range" id="slider" min="0" value="0"> <span id="pos"></span></div>
{% for frame in frames -%}
<section class="frame event-{{ frame.event }}" id="f{{ loop.index0 }}">
<div class="caption">{{ frame.caption }}</div>
<div class="row"><div><table class="board">
{%- for row in frame.board %}<tr>{% for cell in row %}<td class="{{ cell.classes }}">
{%- if cell.mark %}{{ cell.mark }}{% else %}<small style="color:#bbb">{{ cell.index }}</small>{% endif %}</td>
{%- endfor %}</tr>{% endfor %}</table></div><div>
{%- for store in frame.stores %}<div class="store-box{{ ' tomove' if store.to_move else '' }}">
<h3>{{ store.label }} store{% if store.left is not none %} &middot; {{ store.left }} thoughts left{% endif %}</h3>
<table class="store">{% for row in store.rows %}<tr>{% for cell in row -%}
<td class="{{ cell.classes }}" title="cell {{ cell.index }}">{{ cell.text }}</td>
{%- endfor %}</tr>{% endfor %}</table>
<div class="entries">{{ store.entries or "(empty)" }}</div>
<div>{% for marker in store.markers %}<span class="marker">#{{ marker }}</span>{% endfor %}</div></div>
{%- endfor %}</div></div>
<div class="detail">{{ frame.detail }}</div></section>
{% endfor -%}
<h2>Log</h2><ol class="log" start="0">{% for frame in frames %}<li>{{ frame.caption }}</li>{% endfor %}</ol>
<script>{% raw %}
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
{% endraw %}</script>
<noscript><style>.frame{display:block;border-bottom:1px solid #ccc}</style></noscript>
</body></html>
"""


@cache
def _template() -> jinja2.Template:
    try:
        import jinja2
    except ImportError as err:  # pragma: no cover - jinja2 is a dependency
        raise ImportError(f"write_html needs Jinja2: pip install jinja2 ({err})") from None
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return environment.from_string(TEMPLATE)


def _grid(game: Game, cell_view: Any) -> list[list[dict[str, Any]]]:
    cols = game.config.cols
    return [[cell_view(r * cols + c) for c in range(cols)] for r in range(game.config.rows)]


def _board_view(game: Game, highlight: int | None) -> list[list[dict[str, Any]]]:
    board = game.board

    def cell_view(cell: int) -> dict[str, Any]:
        mark = SYMBOLS[int(board[cell])]
        classes = (mark if mark != "." else "empty") + (" last" if cell == highlight else "")
        return {"index": cell, "mark": "" if mark == "." else mark, "classes": classes}

    return _grid(game, cell_view)


def _store_view(game: Game, player: int, label: str, new_arg: int | None) -> dict[str, Any]:
    def cell_view(cell: int) -> dict[str, Any]:
        sign = "+" if game.pos[player] >> cell & 1 else "-" if game.neg[player] >> cell & 1 else ""
        classes = {"+": "pos", "-": "neg", "": ""}[sign] + (" new" if cell == new_arg else "")
        return {"index": cell, "text": sign.replace("-", "\u2212"), "classes": classes.strip()}

    to_move = not game.done and game.to_move == player
    return {"label": label, "to_move": to_move, "rows": _grid(game, cell_view),
            "left": game.thoughts_left[player] if to_move and game.config.thinking else None,
            "entries": game.store_string(player),
            "markers": [arg for sign, arg in game.store_entries(player) if sign == "#"]}


def _frame_view(frame: Frame, names: dict[str, str]) -> dict[str, Any]:
    highlight = frame.arg if frame.event in ("move", "reply") else None
    new_arg = frame.arg if frame.event in ("propose", "negate", "forget") else None
    stores = [_store_view(frame.game, p, player_label(names, p), new_arg if frame.player == p else None)
              for p in (0, 1)]
    return {"event": frame.event, "caption": frame.caption, "detail": frame.detail,
            "board": _board_view(frame.game, highlight), "stores": stores}


def render_html(records: Records, title: str | None = None) -> str:
    """The HTML page of a recorded episode, as text."""
    header = records[0]
    names = header.get("names") or {}
    settings = ", ".join(f"{key}={value}" for key, value in (header.get("config") or {}).items())
    frames = [_frame_view(frame, names) for frame in episode_frames(records)]
    return _template().render(title=title or f"tttthought replay: {header.get('env_id') or 'episode'}",
                              settings=settings, frames=frames)


def write_html(records: Records | str | os.PathLike[str], path: str | os.PathLike[str],
               title: str | None = None) -> Path:
    """Write a self-contained HTML page (no external files or network) that steps through an episode."""
    if not isinstance(records, list):
        records = load_episode(records)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(records, title), encoding="utf-8")
    return path
