"""Play in the terminal against minimax, a heuristic, a random player or a saved agent, thinking as you go.

The game runs on the PettingZoo env (:mod:`tttthought_env.pettingzoo_env`): you are one player, the
opponent the other. On your turn type a cell (``4``) to move, or think first: ``propose 4`` (``+4``),
``negate 0`` (``-0``), ``forget 4``, ``marker 1`` (``#1``). ``help`` lists the commands, ``quit`` ends.
Bad input is answered with what is allowed. A saved agent (an sb3-contrib ``MaskablePPO`` zip) may
think too: its thoughts are shown after its turn.

:func:`play` takes input and output streams, so a game can be scripted::

    play(opponent="minimax", input=io.StringIO("4\\n0\\n"), output=io.StringIO())
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

import numpy as np

from tttthought_env.core import WINNER_DRAW, Config, Game, rules_for
from tttthought_env.opponents import OPPONENTS, make_opponent
from tttthought_env.render import render_ansi

ALIASES = {"+": "propose", "-": "negate", "#": "marker", "p": "propose", "n": "negate", "f": "forget",
           "m": "move", "move": "move", "propose": "propose", "negate": "negate", "forget": "forget",
           "marker": "marker", "mark": "marker", "play": "move"}
QUIT = ("quit", "exit", "q", ":q")


class PlayError(ValueError):
    """A problem with the settings of a game (unknown task, unloadable agent, ...), said in words."""


def _settings(task: str) -> dict[str, Any]:
    from tttthought_env.registration import TASKS

    name = task if "/" in task else f"tttthought/{task}"
    if name not in TASKS:
        raise PlayError(f"unknown task {task!r}; registered: {', '.join(TASKS)}")
    return dict(TASKS[name])


def _task_config(settings: dict[str, Any]) -> Config:
    keys = ("rows", "cols", "k", "channels", "max_thoughts", "memory_size", "num_markers", "persist")
    return Config(**{key: settings[key] for key in keys if key in settings})


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
        self.dict_obs = hasattr(self.model.observation_space, "spaces")
        self.action_size = int(self.model.action_space.n)
        space = self.model.observation_space["observation"] if self.dict_obs else self.model.observation_space
        self.obs_size = int(np.prod(space.shape))

    def matching_task(self) -> str | None:
        """The first registered id whose action and observation sizes fit the agent."""
        from tttthought_env.registration import TASKS

        for task_id, settings in TASKS.items():
            rules = rules_for(_task_config(settings))
            if rules.action_size == self.action_size and rules.obs_size == self.obs_size:
                return task_id
        return None

    def check(self, rules: Any, task: str) -> None:
        if rules.action_size != self.action_size or rules.obs_size != self.obs_size:
            hint = self.matching_task()
            raise PlayError(
                f"the agent in {self.path!r} has {self.action_size} actions and {self.obs_size} observation values, "
                f"task {task!r} has {rules.action_size} and {rules.obs_size}"
                + (f"; try --task {hint}" if hint else "")
            )

    def act(self, env: Any, agent: str) -> int:
        observed = env.observe(agent)
        mask = env.action_masks(agent)
        obs = {"observation": observed["observation"], "action_mask": observed["action_mask"]} \
            if self.dict_obs else observed["observation"]
        action, _ = self.model.predict(obs, action_masks=mask, deterministic=self.deterministic)
        action = int(action)
        if not mask[action]:  # pragma: no cover - MaskablePPO samples inside the mask
            action = int(np.flatnonzero(mask)[0])
        return action


def _help(env: Any, player: int) -> str:
    game = env.game
    rules = env.rules
    cfg = game.config
    empty = [str(c) for c in range(game.n) if game.board[c] == 0]
    lines = [f"  a cell number 0-{game.n - 1} moves there (empty now: {' '.join(empty)}); 'move 4' works too"]
    if cfg.thinking:
        if game.thoughts_left[player] <= 0:
            lines.append("  no thoughts are left this turn: you must move")
        if "propose" in rules.offsets:
            lines.append("  propose P  (or +P)  assert +P in your store, e.g. 'propose 4'")
        if "negate" in rules.offsets:
            lines.append("  negate P   (or -P)  assert -P, e.g. 'negate 0'")
        if "forget" in rules.offsets:
            held = [f"{s}{a}" for s, a in game.store_entries(player) if s != "#"]
            lines.append(f"  forget P            remove +P or -P (in your store: {' '.join(held) or 'none'})")
        if "marker" in rules.offsets:
            lines.append(f"  marker M   (or #M)  add marker M, 0-{cfg.num_markers - 1}")
        lines.append(f"  you have {game.thoughts_left[player]} of {cfg.max_thoughts} thoughts left this turn")
    else:
        lines.append("  this task has no thought actions (plain tic-tac-toe)")
    lines.append("  help shows this, board shows the board, quit ends the game")
    return "\n".join(lines)


def parse_command(text: str, env: Any, player: int) -> tuple[str, Any]:
    """Turn a line of input into ``("action", id)``, ``("help"|"board"|"quit", None)`` or ``("error", message)``."""
    game = env.game
    rules = env.rules
    words = text.strip().lower().replace(",", " ").split()
    if not words:
        return "error", "type a cell number to move, or 'help'"
    if words[0] in QUIT:
        return "quit", None
    if words[0] in ("help", "?", "h"):
        return "help", None
    if words[0] in ("board", "b", "show"):
        return "board", None
    if len(words) == 1 and words[0][:1] in "+-#" and len(words[0]) > 1:
        words = [words[0][0], words[0][1:]]
    if len(words) == 1:
        if not words[0].lstrip("-").isdigit():
            return "error", f"I did not understand {text.strip()!r}. Allowed:\n{_help(env, player)}"
        channel, arg_text = "move", words[0]
    elif len(words) == 2 and words[0] in ALIASES:
        channel, arg_text = ALIASES[words[0]], words[1]
    else:
        return "error", f"I did not understand {text.strip()!r}. Allowed:\n{_help(env, player)}"
    if channel not in rules.offsets:
        on = [c for c in rules.offsets if c != "move"]
        return "error", (f"the {channel!r} thought is not part of this task"
                         + (f"; its thoughts are: {', '.join(on)}" if on else "; it has no thoughts"))
    width = game.config.num_markers if channel == "marker" else game.n
    try:
        arg = int(arg_text)
    except ValueError:
        what = "a marker number" if channel == "marker" else "a cell number"
        return "error", f"{channel} needs {what} 0-{width - 1}, got {arg_text!r}"
    if not 0 <= arg < width:
        what = "marker" if channel == "marker" else "cell"
        return "error", f"{what} must be 0-{width - 1}, got {arg}"
    action = rules.encode_action(channel, arg)
    if not game.is_legal(action):
        return "error", f"{channel} {arg} is not allowed: {game.illegal_reason(action)}. Allowed:\n{_help(env, player)}"
    return "action", action


def play(
    task: str | None = "tttthought/Full-v0",
    opponent: str | Callable = "minimax",
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
    from tttthought_env.pettingzoo_env import AGENTS, raw_env

    inp = sys.stdin if input is None else input
    out = sys.stdout if output is None else output

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    agent_player = None
    if isinstance(opponent, str) and opponent not in OPPONENTS:
        if opponent.endswith(".zip") or os.path.exists(opponent) or os.path.exists(opponent + ".zip"):
            agent_player = AgentPlayer(opponent, deterministic=deterministic)
        else:
            raise PlayError(f"opponent must be one of {', '.join(OPPONENTS)} or the path of a saved agent "
                            f"(.zip), got {opponent!r}")
    if task is None:
        task = (agent_player.matching_task() if agent_player else None) or "tttthought/Full-v0"
    settings = _settings(task)
    if human not in ("X", "O", "alternate"):
        raise PlayError(f"human must be 'X', 'O' or 'alternate', got {human!r}")
    try:
        env = raw_env(**settings, illegal_action="raise", obs_mode="dict", shaping=shaping)
    except (TypeError, ValueError) as err:
        raise PlayError(str(err)) from None
    cfg = env.config
    if agent_player is not None:
        agent_player.check(env.rules, task)
        if seed is not None:
            agent_player.model.set_random_seed(seed)  # reproducible sampling with --stochastic
        opponent_name = "agent"
        move_fn = None
    elif callable(opponent):
        opponent_name = getattr(opponent, "__name__", "opponent")
        move_fn = opponent
    else:
        opponent_name = str(opponent)
        try:
            move_fn = make_opponent(opponent, rows=cfg.rows, cols=cfg.cols, k=cfg.k)
        except ValueError as err:
            raise PlayError(str(err)) from None
    rng = np.random.default_rng(seed)

    outcomes: list[str] = []
    say(f"tttthought play: {task} against {opponent_name}. Type 'help' for the commands.")
    for game_index in range(games):
        me = 0 if human == "X" else 1 if human == "O" else game_index % 2
        names = {me: "you", 1 - me: opponent_name}
        env.reset(seed=None if seed is None else seed + game_index)
        game = env.game
        recorder = None
        if record:
            from tttthought_env.replay import EpisodeRecorder

            recorder = EpisodeRecorder(game, names=names, env_id=task, meta={"human": me})
            recorder.reset(seed=seed)
        say(f"\nGame {game_index + 1}: you are {'XO'[me]}" + (" and move first." if me == 0 else "."))

        def act(player: int, action: int, game: Game = game, recorder: Any = recorder) -> tuple[str, int, dict]:
            """Step ``player``'s action, record it; return its channel, argument and the player's info."""
            agent = AGENTS[player]
            mask = env.action_masks(agent)
            env.step(action)
            info = env.infos[agent]
            if recorder is not None:
                recorder.step(player, action, mask, env.rewards[agent], _parts(info), terminated=game.done,
                              outcome=info.get("outcome"))
            channel, arg = env.rules.decode[action]
            return channel, arg, info

        quit_now = False
        shown = False
        while not game.done:
            player = game.to_move
            agent = AGENTS[player]
            if player == me:
                if not shown:
                    say(render_ansi(game, names=names))
                    shown = True
                left = f", {game.thoughts_left[me]} thought(s) left" if cfg.thinking else ""
                print(f"your move{left}> ", end="", file=out, flush=True)
                line = inp.readline()
                if not line:
                    say("\n(end of input)")
                    quit_now = True
                    break
                kind, value = parse_command(line, env, me)
                if kind == "quit":
                    quit_now = True
                    break
                if kind == "help":
                    say(_help(env, me))
                    continue
                if kind == "board":
                    say(render_ansi(game, names=names))
                    continue
                if kind == "error":
                    say(value)
                    continue
                channel, arg, info = act(me, value)
                if channel != "move":
                    extra = f"   (R(δx) {info.get('reward_shaping', 0.0):+.3f})" if shaping else ""
                    say(f"you think {channel} {arg}: your store is now {game.store_string(me) or '(empty)'}{extra}")
                else:
                    say(f"you move {arg}")
                    shown = False
            else:
                thoughts = []
                while not game.done and game.to_move == player:
                    if agent_player is not None:
                        action = agent_player.act(env, agent)
                    else:
                        action = int(move_fn(game.board_view, rng))
                    channel, arg, _ = act(player, action)
                    if channel == "move":
                        if thoughts:
                            say(f"{opponent_name} ({'XO'[player]}) thinks: {', '.join(thoughts)}"
                                f"  -> store {game.store_string(player) or '(empty)'}")
                        say(f"{opponent_name} ({'XO'[player]}) moves {arg}")
                        break
                    thoughts.append(f"{channel} {arg}")
        if recorder is not None and len(recorder.lines) > 1:
            path = record if games == 1 else _numbered(record, game_index)
            recorder.write(path)
            say(f"recorded this game to {path} (replay it: tttthought replay {path} --html replay.html)")
        if quit_now:
            outcomes.append("quit")
            say("bye")
            break
        say(render_ansi(game, names=names))
        if game.winner == WINNER_DRAW:
            outcome = "draw"
        else:
            outcome = "win" if game.winner == me else "loss"
        outcomes.append(outcome)
        say({"win": "You win!", "draw": "A draw.", "loss": f"{opponent_name} wins."}[outcome])
    if len(outcomes) > 1:
        say("results: " + ", ".join(f"{o} {outcomes.count(o)}" for o in ("win", "draw", "loss", "quit")
                                    if outcomes.count(o)))
    return outcomes


def _parts(info: dict) -> dict:
    return {"game": info.get("reward_game", 0.0), "shaping": info.get("reward_shaping", 0.0),
            "cost": info.get("reward_cost", 0.0)}


def _numbered(path: str, index: int) -> str:
    stem, ext = os.path.splitext(path)
    return f"{stem}-{index}{ext or '.jsonl'}"
