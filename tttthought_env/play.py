"""Play in the terminal against minimax, a heuristic, a random player or a saved agent, thinking as you go.

The game runs on the PettingZoo env (:mod:`tttthought_env.pettingzoo_env`): you are one player, the
opponent the other. On your turn type a cell (``4``) to move, or think first: ``propose 4`` (``+4``),
``negate 0`` (``-0``), ``forget 4``, ``marker 1`` (``#1``). ``help`` lists the commands, ``quit`` ends.
Bad input is answered with what is allowed. A saved agent (an sb3-contrib ``MaskablePPO`` zip) may
think too: its thoughts are shown after its turn.

:func:`play` takes input and output streams, so a game can be scripted::

    play(opponent="minimax", input=io.StringIO("4\\n0\\n"), output=io.StringIO())

Its parts: :func:`parse_command` reads one line of input, :class:`Computer` is the other side,
:class:`GameSession` plays one game (the human's turn, the computer's turn), and :func:`play`
sets them up and reports the outcomes.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from tttthought_env.config import Config
from tttthought_env.layout import Layout, layout_for
from tttthought_env.opponents import OPPONENTS, make_opponent
from tttthought_env.render import render_ansi
from tttthought_env.transition import WINNER_DRAW

if TYPE_CHECKING:
    from tttthought_env.pettingzoo_env import raw_env
    from tttthought_env.replay import EpisodeRecorder

ALIASES = {"+": "propose", "-": "negate", "#": "marker", "p": "propose", "n": "negate", "f": "forget",
           "m": "move", "move": "move", "propose": "propose", "negate": "negate", "forget": "forget",
           "marker": "marker", "mark": "marker", "play": "move"}
QUIT = ("quit", "exit", "q", ":q")
KEYWORDS = {**{word: "quit" for word in QUIT}, "help": "help", "?": "help", "h": "help",
            "board": "board", "b": "board", "show": "board"}
HUMAN_SIDES = ("X", "O", "alternate")


class PlayError(ValueError):
    """A problem with the settings of a game (unknown task, unloadable agent, ...), said in words."""


def _settings(task: str) -> dict[str, Any]:
    from tttthought_env.registration import TASKS

    name = task if "/" in task else f"tttthought/{task}"
    if name not in TASKS:
        raise PlayError(f"unknown task {task!r}; registered: {', '.join(TASKS)}")
    return dict(TASKS[name])


class AgentPlayer:
    """A saved sb3-contrib ``MaskablePPO`` agent that plays (and thinks) through the PettingZoo env."""

    def __init__(self, path: str, deterministic: bool = True) -> None:
        try:
            from sb3_contrib import MaskablePPO
        except ImportError as err:  # pragma: no cover - depends on the installed extras
            raise PlayError(
                "playing a saved agent needs sb3-contrib: pip install 'tttthought-env[baselines]' "
                f"-c constraints.txt ({err})"
            ) from None
        if not os.path.exists(path) and not os.path.exists(path + ".zip"):
            raise PlayError(f"no saved agent at {path!r} (expected a MaskablePPO .zip file)")
        try:
            self.model = MaskablePPO.load(path, device="cpu")
        except Exception as err:  # noqa: BLE001 - any load failure becomes a readable message
            raise PlayError(f"could not load {path!r} as a MaskablePPO agent: {type(err).__name__}: {err}") from None
        self.path = path
        self.deterministic = deterministic
        observation_space: Any = self.model.observation_space
        self.dict_obs = hasattr(observation_space, "spaces")
        self.action_size = int(getattr(self.model.action_space, "n"))
        space = observation_space["observation"] if self.dict_obs else observation_space
        self.obs_size = int(np.prod(space.shape))

    def fits(self, layout: Layout) -> bool:
        return layout.action_size == self.action_size and layout.obs_size == self.obs_size

    def matching_task(self) -> str | None:
        """The first registered id whose action and observation sizes fit the agent."""
        from tttthought_env.registration import TASKS

        return next((task_id for task_id, settings in TASKS.items()
                     if self.fits(layout_for(Config.from_settings(settings)))), None)

    def check(self, layout: Layout, task: str) -> None:
        if not self.fits(layout):
            hint = self.matching_task()
            raise PlayError(
                f"the agent in {self.path!r} has {self.action_size} actions and {self.obs_size} observation values, "
                f"task {task!r} has {layout.action_size} and {layout.obs_size}"
                + (f"; try --task {hint}" if hint else "")
            )

    def act(self, env: raw_env, agent: str) -> int:
        observed = env.observe(agent)
        mask = env.action_masks(agent)
        obs = {"observation": observed["observation"], "action_mask": observed["action_mask"]} \
            if self.dict_obs else observed["observation"]
        prediction, _ = self.model.predict(obs, action_masks=mask, deterministic=self.deterministic)
        action = int(prediction)
        if not mask[action]:  # pragma: no cover - MaskablePPO samples inside the mask
            action = int(np.flatnonzero(mask)[0])
        return action


# ------------------------------------------------------------------------------ commands
def _thought_help(env: raw_env, player: int) -> list[str]:
    game, blocks, cfg = env.game, env.layout.blocks, env.config
    lines = ["  no thoughts are left this turn: you must move"] if game.thoughts_left[player] <= 0 else []
    if "propose" in blocks:
        lines.append("  propose P  (or +P)  assert +P in your store, e.g. 'propose 4'")
    if "negate" in blocks:
        lines.append("  negate P   (or -P)  assert -P, e.g. 'negate 0'")
    if "forget" in blocks:
        held = [f"{s}{a}" for s, a in game.store_entries(player) if s != "#"]
        lines.append(f"  forget P            remove +P or -P (in your store: {' '.join(held) or 'none'})")
    if "marker" in blocks:
        lines.append(f"  marker M   (or #M)  add marker M, 0-{cfg.num_markers - 1}")
    lines.append(f"  you have {game.thoughts_left[player]} of {cfg.max_thoughts} thoughts left this turn")
    return lines


def _help(env: raw_env, player: int) -> str:
    game = env.game
    empty = [str(c) for c in range(game.n) if game.board[c] == 0]
    lines = [f"  a cell number 0-{game.n - 1} moves there (empty now: {' '.join(empty)}); 'move 4' works too"]
    if env.config.thinking:
        lines += _thought_help(env, player)
    else:
        lines.append("  this task has no thought actions (plain tic-tac-toe)")
    lines.append("  help shows this, board shows the board, quit ends the game")
    return "\n".join(lines)


def _channel_and_arg(words: list[str]) -> tuple[str, str] | None:
    """``(channel, argument text)`` of a command like ``4``, ``+4``, ``propose 4``; None if it is none."""
    if len(words) == 1 and words[0][:1] in "+-#" and len(words[0]) > 1:
        words = [words[0][0], words[0][1:]]
    if len(words) == 1:
        return ("move", words[0]) if words[0].lstrip("-").isdigit() else None
    if len(words) == 2 and words[0] in ALIASES:
        return ALIASES[words[0]], words[1]
    return None


def _action_of(env: raw_env, player: int, channel: str, arg_text: str) -> tuple[str, Any]:
    """``("action", id)`` of ``channel`` and its argument, or ``("error", why not)``."""
    layout, game = env.layout, env.game
    if channel not in layout.blocks:
        on = [c for c in layout.blocks if c != "move"]
        return "error", (f"the {channel!r} thought is not part of this task"
                         + (f"; its thoughts are: {', '.join(on)}" if on else "; it has no thoughts"))
    width = layout.blocks[channel][1]
    what = "marker" if channel == "marker" else "cell"
    try:
        arg = int(arg_text)
    except ValueError:
        return "error", f"{channel} needs a {what} number 0-{width - 1}, got {arg_text!r}"
    if not 0 <= arg < width:
        return "error", f"{what} must be 0-{width - 1}, got {arg}"
    action = layout.encode_action(channel, arg)
    if not game.is_legal(action):
        return "error", f"{channel} {arg} is not allowed: {game.illegal_reason(action)}. Allowed:\n{_help(env, player)}"
    return "action", action


def parse_command(text: str, env: raw_env, player: int) -> tuple[str, Any]:
    """Turn a line of input into ``("action", id)``, ``("help"|"board"|"quit", None)`` or ``("error", message)``."""
    words = text.strip().lower().replace(",", " ").split()
    if not words:
        return "error", "type a cell number to move, or 'help'"
    if words[0] in KEYWORDS:
        return KEYWORDS[words[0]], None
    parsed = _channel_and_arg(words)
    if parsed is None:
        return "error", f"I did not understand {text.strip()!r}. Allowed:\n{_help(env, player)}"
    return _action_of(env, player, *parsed)


# ------------------------------------------------------------------------------- the sides
class Console:
    """Where the game talks to the human: lines out, commands in."""

    def __init__(self, input: TextIO, output: TextIO) -> None:
        self.input, self.output = input, output

    def say(self, text: str = "") -> None:
        print(text, file=self.output, flush=True)

    def ask(self, prompt: str) -> str:
        """Show ``prompt`` and read a line ("" at the end of the input)."""
        print(prompt, end="", file=self.output, flush=True)
        return self.input.readline()


@dataclass
class Computer:
    """The human's opponent: its name and how it chooses an action (``choose(env, player) -> action``)."""

    name: str
    choose: Callable[[Any, int], int]


def _saved_agent(opponent: str | Callable[..., int], deterministic: bool) -> AgentPlayer | None:
    """The saved agent ``opponent`` names, None for a built-in or callable opponent."""
    if not isinstance(opponent, str) or opponent in OPPONENTS:
        return None
    if opponent.endswith(".zip") or os.path.exists(opponent) or os.path.exists(opponent + ".zip"):
        return AgentPlayer(opponent, deterministic=deterministic)
    raise PlayError(f"opponent must be one of {', '.join(OPPONENTS)} or the path of a saved agent "
                    f"(.zip), got {opponent!r}")


def _computer(opponent: str | Callable[..., int], agent_player: AgentPlayer | None, env: raw_env, task: str,
              seed: int | None) -> Computer:
    if agent_player is not None:
        agent_player.check(env.layout, task)
        if seed is not None:
            agent_player.model.set_random_seed(seed)  # reproducible sampling with --stochastic
        return Computer("agent", lambda env, player: agent_player.act(env, env.possible_agents[player]))
    name = str(opponent) if isinstance(opponent, str) else getattr(opponent, "__name__", "opponent")
    cfg = env.config
    try:
        policy = make_opponent(opponent, rows=cfg.rows, cols=cfg.cols, k=cfg.k)
    except ValueError as err:
        raise PlayError(str(err)) from None
    rng = np.random.default_rng(seed)
    return Computer(name, lambda env, player: int(policy(env.game.board, rng)))


# ---------------------------------------------------------------------------- one game
class GameSession:
    """One game between the human (player ``me``) and the computer on the PettingZoo env."""

    def __init__(self, env: raw_env, console: Console, computer: Computer, me: int, shaping: str | None) -> None:
        self.env, self.console, self.computer, self.me = env, console, computer, me
        self.game = env.game
        self.names = {me: "you", 1 - me: computer.name}
        self.shaping = shaping
        self.recorder: EpisodeRecorder | None = None
        self.shown = False  # whether the board was shown this turn

    def record(self, task: str, seed: int | None) -> None:
        """Record the game from now on (call it right after the env's reset)."""
        from tttthought_env.replay import EpisodeRecorder

        self.recorder = EpisodeRecorder(self.game, names=self.names, env_id=task, meta={"human": self.me})
        self.recorder.reset(seed=seed)

    def run(self) -> bool:
        """Play until the game ends (True), or the human quits or the input ends (False)."""
        while not self.game.done:
            if self.game.to_move != self.me:
                self.computer_turn()
            elif not self.human_turn():
                return False
        return True

    def act(self, player: int, action: int) -> tuple[str, int, dict[str, Any]]:
        """Step ``player``'s action, record it; return its channel, argument and the player's info."""
        env = self.env
        agent = env.possible_agents[player]
        mask = env.action_masks(agent)
        env.step(action)
        info = env.infos[agent]
        if self.recorder is not None:
            self.recorder.step(player, action, mask, env.rewards[agent], _parts(info), terminated=self.game.done,
                               outcome=info.get("outcome"))
        channel, arg = env.layout.decode[action]
        return channel, arg, info

    def human_turn(self) -> bool:
        """Read and carry out one command of the human; False when they quit or the input ends."""
        game, me, say = self.game, self.me, self.console.say
        if not self.shown:
            say(render_ansi(game, names=self.names))
            self.shown = True
        left = f", {game.thoughts_left[me]} thought(s) left" if game.config.thinking else ""
        line = self.console.ask(f"your move{left}> ")
        if not line:
            say("\n(end of input)")
            return False
        kind, value = parse_command(line, self.env, me)
        if kind == "action":
            self.human_action(value)
        elif kind == "help":
            say(_help(self.env, me))
        elif kind == "board":
            say(render_ansi(game, names=self.names))
        elif kind == "error":
            say(value)
        return kind != "quit"

    def human_action(self, action: int) -> None:
        channel, arg, info = self.act(self.me, action)
        if channel == "move":
            self.console.say(f"you move {arg}")
            self.shown = False
            return
        extra = f"   (R(δx) {info.get('reward_shaping', 0.0):+.3f})" if self.shaping else ""
        self.console.say(f"you think {channel} {arg}: your store is now "
                         f"{self.game.store_string(self.me) or '(empty)'}{extra}")

    def computer_turn(self) -> None:
        """The computer thinks (a saved agent may) until it moves; its thoughts are shown with its move."""
        game, player = self.game, self.game.to_move
        who = f"{self.computer.name} ({'XO'[player]})"
        thoughts: list[str] = []
        while not game.done and game.to_move == player:
            channel, arg, _ = self.act(player, self.computer.choose(self.env, player))
            if channel == "move":
                if thoughts:
                    self.console.say(f"{who} thinks: {', '.join(thoughts)}"
                                     f"  -> store {game.store_string(player) or '(empty)'}")
                self.console.say(f"{who} moves {arg}")
                return
            thoughts.append(f"{channel} {arg}")

    def outcome(self) -> str:
        """``"win"``, ``"draw"`` or ``"loss"`` from the human's side (the game must be over)."""
        if self.game.winner == WINNER_DRAW:
            return "draw"
        return "win" if self.game.winner == self.me else "loss"


# ------------------------------------------------------------------------------- the match
def _make_env(settings: dict[str, Any], shaping: str | None) -> raw_env:
    from tttthought_env.pettingzoo_env import raw_env

    try:
        return raw_env(**settings, illegal_action="raise", obs_mode="dict", shaping=shaping)
    except (TypeError, ValueError) as err:
        raise PlayError(str(err)) from None


def _setup(task: str | None, opponent: str | Callable[..., int], human: str, seed: int | None,
           shaping: str | None, deterministic: bool) -> tuple[str, raw_env, Computer]:
    """The task id, the env and the computer of a match; a :class:`PlayError` for bad settings."""
    agent_player = _saved_agent(opponent, deterministic)
    if task is None:
        task = (agent_player.matching_task() if agent_player else None) or "tttthought/Full-v0"
    settings = _settings(task)
    if human not in HUMAN_SIDES:
        raise PlayError(f"human must be 'X', 'O' or 'alternate', got {human!r}")
    env = _make_env(settings, shaping)
    return task, env, _computer(opponent, agent_player, env, task, seed)


def _play_one(session: GameSession, game_index: int, games: int, task: str, seed: int | None,
              record: str | None) -> str:
    """Play one game of the match; its outcome from the human's side, or ``"quit"``."""
    env, say, me = session.env, session.console.say, session.me
    env.reset(seed=None if seed is None else seed + game_index)
    if record:
        session.record(task, seed)
    say(f"\nGame {game_index + 1}: you are {'XO'[me]}" + (" and move first." if me == 0 else "."))
    finished = session.run()
    recorder = session.recorder
    if record and recorder is not None and len(recorder.lines) > 1:
        path = record if games == 1 else _numbered(record, game_index)
        recorder.write(path)
        say(f"recorded this game to {path} (replay it: tttthought replay {path} --html replay.html)")
    if not finished:
        say("bye")
        return "quit"
    say(render_ansi(session.game, names=session.names))
    outcome = session.outcome()
    say({"win": "You win!", "draw": "A draw.", "loss": f"{session.computer.name} wins."}[outcome])
    return outcome


def play(
    task: str | None = "tttthought/Full-v0",
    opponent: str | Callable[..., int] = "minimax",
    human: str = "X",
    seed: int | None = None,
    games: int = 1,
    input: TextIO | None = None,
    output: TextIO | None = None,
    record: str | None = None,
    shaping: str | None = None,
    deterministic: bool = True,
) -> list[str]:
    """Play ``games`` games in a terminal; return the outcomes from your side (``"win"``, ``"draw"``,
    ``"loss"``, or ``"quit"`` when you quit or the input ends).

    ``opponent`` is ``"minimax"``, ``"heuristic"``, ``"random"``, the path of a saved MaskablePPO agent
    (``.zip``) or a callable ``(board, rng) -> cell``. ``human`` is ``"X"`` (moves first), ``"O"`` or
    ``"alternate"``. ``record`` writes each game as a replayable episode (``{record}`` for one game,
    ``{stem}-{i}.jsonl`` for several). ``shaping`` shows what R(δx) your thoughts would earn.
    """
    task, env, computer = _setup(task, opponent, human, seed, shaping, deterministic)
    console = Console(sys.stdin if input is None else input, sys.stdout if output is None else output)
    console.say(f"tttthought play: {task} against {computer.name}. Type 'help' for the commands.")
    outcomes: list[str] = []
    for game_index in range(games):
        me = 0 if human == "X" else 1 if human == "O" else game_index % 2
        outcomes.append(_play_one(GameSession(env, console, computer, me, shaping), game_index, games, task, seed,
                                  record))
        if outcomes[-1] == "quit":
            break
    if len(outcomes) > 1:
        console.say("results: " + ", ".join(f"{o} {outcomes.count(o)}" for o in ("win", "draw", "loss", "quit")
                                            if outcomes.count(o)))
    return outcomes


def _parts(info: dict[str, Any]) -> dict[str, float]:
    return {"game": info.get("reward_game", 0.0), "shaping": info.get("reward_shaping", 0.0),
            "cost": info.get("reward_cost", 0.0)}


def _numbered(path: str, index: int) -> str:
    stem, ext = os.path.splitext(path)
    return f"{stem}-{index}{ext or '.jsonl'}"
