"""Reading an episode back: its games rebuilt by playing the recorded actions through the rules (an illegal
action a loss, as under ``illegal_action="lose"``), each checked against the file's snapshot; and the frames."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tttthought_env.config import EnvOptions
from tttthought_env.core import Game
from tttthought_env.layout import Layout
from tttthought_env.replay.record import snapshot, start_game
from tttthought_env.replay.schema import check_records, load_records, shown
from tttthought_env.transition import WINNER_DRAW, play_action, play_move

Records = list[dict[str, Any]]
_THOUGHT_WORDS = {"propose": "asserts +{arg}", "negate": "negates {arg} (-{arg})", "marker": "adds marker #{arg}"}


def load_episode(path: str | os.PathLike[str]) -> Records:
    """Read an episode file, each line checked against the schema (:mod:`.schema`); a bad file is a
    ``ValueError`` ``"line N: what is wrong"``."""
    return load_records(path)


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


def _check(record: dict[str, Any], index: int, rebuilt: dict[str, Any]) -> None:
    for key, value in rebuilt.items():
        if key in record and record[key] != value:
            raise ValueError(f"line {index + 1}: replaying the recorded actions gives {key} {shown(value)}, "
                             f"the file says {shown(record[key])}")


def _replay_step(before: Game, record: dict[str, Any], index: int) -> ReplayStep:
    if before.done:
        raise ValueError(f"line {index + 1}: a step after the game has ended")
    try:
        action, player = before.layout.check_action(record["action"]), record["player"]
        if type(player) is not int or player not in (0, 1):
            raise ValueError(f"player must be 0 or 1, got {shown(player)}")
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"line {index + 1}: no valid player and action ({err})") from None
    moved = after = before.copy()
    illegal = play_action(moved, player, action, None, EnvOptions()).illegal
    reply = record.get("opponent_move")
    if reply is not None:
        if type(reply) is not int or not 0 <= reply < moved.n or not moved.is_legal(reply):
            raise ValueError(f"line {index + 1}: the opponent's reply {shown(reply)} is not a legal move there")
        after = moved.copy()
        play_move(after, reply, None)
    _check(record, index, {"illegal_action": illegal, **snapshot(after)})
    return ReplayStep(index, record, player, *before.layout.decode[action], illegal, reply, before, moved, after)


def replay_episode(records: Records) -> Replay:
    """Rebuild an episode by playing its actions through the rules; ``ValueError`` names the first line
    that the schema (:mod:`.schema`) refuses or that the rules do not reproduce."""
    layout = check_records(records)
    header = records[0]
    try:
        game = start_game(layout, header.get("opponent_move"))
    except (TypeError, ValueError) as err:
        raise ValueError(f"line 1: the reset line has no valid opening move ({err})") from None
    _check(header, 0, snapshot(game))
    start, steps = game, []
    for index, record in enumerate(records[1:], 1):
        steps.append(_replay_step(game, record, index))
        game = steps[-1].after
    return Replay(header, layout, start, tuple(steps))


def episode_games(records: Records) -> list[Game]:
    """The game at the reset line and after each step line, rebuilt through the rules."""
    return replay_episode(records).games


@dataclass
class Frame:
    """One picture of a replay: the game and what just happened."""

    game: Game
    caption: str
    detail: str
    event: str  #: "start", "move", "reply", "propose", "negate", "forget", "marker" or "illegal"
    step: int
    player: int | None = None  #: who acted
    arg: int | None = None  #: the cell moved to, or the thought's argument


def player_label(names: dict[str, str], player: int) -> str:
    """``"X"``, or ``"X (name)"`` when the episode names the player."""
    name, mark = names.get(str(player)), "XO"[player]
    return mark if not name or name == mark else f"{mark} ({name})"


def describe_thought(kind: str, arg: int, before: Sequence[Sequence[Any]], after: Sequence[Sequence[Any]]) -> str:
    """Words for a thought, from the thinker's store before and after it (``(sign, arg)`` pairs, oldest first)."""
    # A thought other than forget appends its entry last, after removing the opposite one or the oldest.
    kept = after if kind == "forget" else after[:-1]
    removed = [f"{s}{a}" for s, a in (Counter(map(tuple, before)) - Counter(map(tuple, kept))).elements()]
    if kind == "forget":
        return "forgets " + (", ".join(removed) or str(arg))
    replaced = [entry for entry in removed if kind != "marker" and entry in (f"+{arg}", f"-{arg}")]
    evicted = [entry for entry in removed if entry not in replaced]
    return (_THOUGHT_WORDS[kind].format(arg=arg) + "".join(f", replacing {entry}" for entry in replaced)
            + (", evicting " + ", ".join(evicted) + " (store full)" if evicted else ""))


def _step_frames(step: ReplayStep, names: dict[str, str]) -> list[Frame]:
    t, player, kind, arg, after = step.index, step.player, step.channel, step.arg, step.after
    who = player_label(names, player)
    parts = ", ".join(f"{key} {value:+.3f}" for key, value in (step.record.get("reward_parts") or {}).items() if value)
    rewards = f"reward {step.record.get('reward', 0.0):+.3f}" + (f" ({parts})" if parts else "")
    if step.illegal:
        frames = [Frame(after, f"{t}: {who} tried {kind} {arg}, which is illegal: it loses", rewards, "illegal", t,
                        player, arg)]
    elif kind != "move":
        text = describe_thought(kind, arg, step.before.store_entries(player), after.store_entries(player))
        frames = [Frame(after, f"{t}: {who} thinks: {text}", rewards, kind, t, player, arg)]
    elif step.reply is None:
        frames = [Frame(after, f"{t}: {who} moves {arg}", rewards, "move", t, player, arg)]
    else:  # the Gymnasium env plays the opponent's reply in the same step: show the move first
        frames = [Frame(step.moved, f"{t}: {who} moves {arg}", "", "move", t, player, arg),
                  Frame(after, f"{t}: {player_label(names, 1 - player)} replies {step.reply}", rewards, "reply", t,
                        1 - player, step.reply)]
    if after.done:
        frames[-1].caption += " -- " + ("draw" if after.winner == WINNER_DRAW
                                        else f"{player_label(names, after.winner)} wins")
    return frames


def episode_frames(records: Records) -> list[Frame]:
    """The frames of a replay: the start, each thought, each move and each opponent reply."""
    replay = replay_episode(records)
    names = replay.header.get("names") or {}
    opening = replay.header.get("opponent_move")
    caption = "start" if opening is None else f"start: {player_label(names, 0)} opened with {opening}"
    return [Frame(replay.start, caption, "", "start", 0),
            *(frame for step in replay.steps for frame in _step_frames(step, names))]
