"""Reading an episode file back: its games rebuilt through the rules, and the frames of a replay.

:func:`replay_episode` plays the recorded actions from the start with the env-level step
(:func:`~tttthought_env.transition.play_action`, an illegal action a loss) and the opponent's
replies with :func:`~tttthought_env.transition.play_move`; every position is a real
:class:`~tttthought_env.core.Game`, its masks and observations derived by the rules, and each is
checked against the snapshot the file holds.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tttthought_env.config import Config, EnvOptions
from tttthought_env.core import Game
from tttthought_env.layout import Layout, layout_for
from tttthought_env.replay.record import FORMAT, snapshot, start_game
from tttthought_env.transition import WINNER_DRAW, play_action, play_move

#: The env-level step of a replay: an illegal action is a loss, as under ``illegal_action="lose"``.
_REPLAY_OPTIONS = EnvOptions()
_THOUGHT_WORDS = {"propose": "asserts +{arg}", "negate": "negates {arg} (-{arg})", "marker": "adds marker #{arg}"}

Records = list[dict[str, Any]]
Entry = tuple[str, int]


def _read_lines(path: str | os.PathLike[str]) -> Records:
    records = []
    with open(path, encoding="utf-8") as fh:
        for number, text in enumerate(fh, 1):
            if not text.strip():
                continue
            try:
                records.append(json.loads(text))
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}: line {number} is not JSON ({err.msg})") from None
    return records


def load_episode(path: str | os.PathLike[str]) -> Records:
    """Read an episode file; raise ``ValueError`` naming the line if it is not a recorded episode."""
    records = _read_lines(path)
    if not records or records[0].get("type") != "reset" or records[0].get("format") != FORMAT:
        raise ValueError(f"{path}: not a recorded episode (the first line must be a reset line of format {FORMAT!r})")
    for number, record in enumerate(records[1:], 2):
        if record.get("type") != "step" or "board" not in record or "stores" not in record:
            raise ValueError(f"{path}: line {number} is not a step line with a board and stores snapshot")
    return records


def iter_steps(records: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    """The step lines of an episode (everything after the reset line)."""
    return (record for record in records if record.get("type") == "step")


# ------------------------------------------------------------------------------ rebuilding
@dataclass(frozen=True)
class ReplayStep:
    """One step line and the games around it, rebuilt by the rules."""

    index: int  #: position of the line in the records (the reset line is 0)
    record: dict[str, Any]
    player: int
    channel: str
    arg: int
    illegal: bool  #: the action was illegal: the player lost
    reply: int | None  #: the opponent's move in the same step (the Gymnasium env plays it)
    before: Game
    moved: Game  #: after the player's action, before the reply
    after: Game


@dataclass(frozen=True)
class Replay:
    """An episode rebuilt through the rules: its start and every step."""

    header: dict[str, Any]
    layout: Layout
    start: Game
    steps: tuple[ReplayStep, ...]

    @property
    def games(self) -> list[Game]:
        """The game at the reset line and after each step line."""
        return [self.start, *(step.after for step in self.steps)]


def config_of(header: dict[str, Any]) -> Config:
    """The rules of an episode, from its reset line."""
    try:
        return Config.from_settings(header["config"])
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"line 1: the reset line has no valid config ({err})") from None


def _check(game: Game, record: dict[str, Any], index: int) -> None:
    """Raise ``ValueError`` if the snapshot in ``record`` differs from the rebuilt ``game``."""
    for key, value in snapshot(game).items():
        if key in record and record[key] != value:
            raise ValueError(f"line {index + 1}: replaying the recorded actions gives {key} {value}, "
                             f"the file says {record[key]}")


def _reply_of(record: dict[str, Any], game: Game, index: int) -> int | None:
    reply = record.get("opponent_move")
    if reply is None:
        return None
    if not isinstance(reply, int) or isinstance(reply, bool) or not 0 <= reply < game.n or not game.is_legal(reply):
        raise ValueError(f"line {index + 1}: the opponent's reply {reply!r} is not a legal move there")
    return reply


def _replay_step(before: Game, record: dict[str, Any], index: int) -> ReplayStep:
    try:
        action = before.layout.check_action(record["action"])
        player = int(record["player"])
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"line {index + 1}: no valid player and action ({err})") from None
    game = before.copy()
    illegal = play_action(game, player, action, None, _REPLAY_OPTIONS).illegal
    if "illegal_action" in record and bool(record["illegal_action"]) != illegal:
        raise ValueError(f"line {index + 1}: the file says the action was {'' if illegal else 'not '}legal, "
                         f"the rules say it was {'not ' if illegal else ''}legal")
    reply = _reply_of(record, game, index)
    moved = game
    if reply is not None:
        game = game.copy()
        play_move(game, reply, None)
    _check(game, record, index)
    channel, arg = before.layout.decode[action]
    return ReplayStep(index, record, player, channel, arg, illegal, reply, before, moved, game)


def replay_episode(records: Records) -> Replay:
    """Rebuild an episode by playing its recorded actions through the rules (``ValueError`` naming the line
    whose snapshot the rules do not reproduce)."""
    header = records[0]
    layout = layout_for(config_of(header))
    try:
        game = start_game(layout, header.get("opponent_move"))
    except ValueError as err:
        raise ValueError(f"line 1: {err}") from None
    _check(game, header, 0)
    start, steps = game, []
    for index, record in enumerate(records[1:], 1):
        step = _replay_step(game, record, index)
        steps.append(step)
        game = step.after
    return Replay(header, layout, start, tuple(steps))


def episode_games(records: Records) -> list[Game]:
    """The game at the reset line and after each step line, rebuilt through the rules."""
    return replay_episode(records).games


# ---------------------------------------------------------------------------------- frames
@dataclass
class Frame:
    """One picture of a replay: the game state and what just happened."""

    game: Game
    caption: str
    detail: str
    event: str  #: "start", "move", "reply", "propose", "negate", "forget", "marker" or "illegal"
    step: int
    player: int | None = None  #: who acted
    arg: int | None = None  #: the cell moved to, or the thought's argument


def player_label(names: dict[str, str], player: int) -> str:
    """``"X"``, or ``"X (name)"`` when the episode names the player."""
    name = names.get(str(player))
    mark = "XO"[player]
    return mark if not name or name == mark else f"{mark} ({name})"


def _entry(entry: Entry) -> str:
    return f"{entry[0]}{entry[1]}"


def _store_change(kind: str, arg: int, before: Sequence[Sequence[Any]],
                  after: Sequence[Sequence[Any]]) -> tuple[list[Entry], list[Entry]]:
    """The entries a thought replaced (the opposite sign of its proposition) and those it evicted or forgot."""
    was = Counter((str(sign), int(value)) for sign, value in before)
    now = Counter((str(sign), int(value)) for sign, value in after)
    removed = list((was - now).elements())
    if kind == "marker":
        # No entry added: the evicted oldest entry was this very marker.
        return [], removed if now - was else [("#", arg)]
    replaced = [e for e in removed if e[0] in "+-" and e[1] == arg]
    return replaced, [e for e in removed if e not in replaced]


def describe_thought(kind: str, arg: int, before: Sequence[Sequence[Any]], after: Sequence[Sequence[Any]]) -> str:
    """Words for a thought, from the thinker's store before and after it (``(sign, arg)`` pairs, oldest first)."""
    replaced, evicted = _store_change(kind, arg, before, after)
    if kind == "forget":
        return "forgets " + (", ".join(map(_entry, replaced + evicted)) if replaced or evicted else str(arg))
    text = _THOUGHT_WORDS[kind].format(arg=arg)
    if replaced:
        text += f", replacing {_entry(replaced[0])}"
    if evicted:
        text += ", evicting " + ", ".join(map(_entry, evicted)) + " (store full)"
    return text


def _rewards(record: dict[str, Any]) -> str:
    parts = record.get("reward_parts") or {}
    shown = ", ".join(f"{key} {value:+.3f}" for key, value in parts.items() if value)
    return f"reward {record.get('reward', 0.0):+.3f}" + (f" ({shown})" if shown else "")


def _result(game: Game, names: dict[str, str]) -> str:
    return "draw" if game.winner == WINNER_DRAW else f"{player_label(names, game.winner)} wins"


def _step_frames(step: ReplayStep, names: dict[str, str]) -> list[Frame]:
    t, player, kind, arg = step.index, step.player, step.channel, step.arg
    who = player_label(names, player)
    rewards = _rewards(step.record)
    if step.illegal:
        frames = [Frame(step.after, f"{t}: {who} tried {kind} {arg}, which is illegal: it loses", rewards,
                        "illegal", t, player, arg)]
    elif kind != "move":
        text = describe_thought(kind, arg, step.before.store_entries(player), step.after.store_entries(player))
        frames = [Frame(step.after, f"{t}: {who} thinks: {text}", rewards, kind, t, player, arg)]
    elif step.reply is not None:
        # The Gymnasium env plays the opponent's reply in the same step: show the move first.
        frames = [Frame(step.moved, f"{t}: {who} moves {arg}", "", "move", t, player, arg),
                  Frame(step.after, f"{t}: {player_label(names, 1 - player)} replies {step.reply}", rewards,
                        "reply", t, 1 - player, step.reply)]
    else:
        frames = [Frame(step.after, f"{t}: {who} moves {arg}", rewards, "move", t, player, arg)]
    if step.after.done:
        frames[-1].caption += f" -- {_result(step.after, names)}"
    return frames


def episode_frames(records: Records) -> list[Frame]:
    """The frames of a replay: the start, each thought, each move and each opponent reply."""
    replay = replay_episode(records)
    names = replay.header.get("names") or {}
    caption = "start"
    opening = replay.header.get("opponent_move")
    if opening is not None:
        caption = f"start: {player_label(names, 0)} opened with {opening}"
    frames = [Frame(replay.start, caption, "", "start", 0)]
    for step in replay.steps:
        frames.extend(_step_frames(step, names))
    return frames
