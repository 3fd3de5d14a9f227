"""Pictures of a game, as text (``ansi``) or an RGB array drawn with numpy: the board, and beside it each
player's store as a mini-board (green: asserted ``+p``, red: negated ``-p``) over bars counting markers."""

from __future__ import annotations

from collections import Counter

import numpy as np

from tttthought_env.core import Game
from tttthought_env.transition import WINNER_DRAW

SYMBOLS = (".", "X", "O")
CELL = 48  # pixels per board cell
MINI = 16  # pixels per cell of a store's mini-board
PAD = 8

BACKGROUND = np.array([250, 250, 245], np.uint8)
GRID = np.array([60, 60, 60], np.uint8)
X_COLOUR = np.array([200, 40, 40], np.uint8)
O_COLOUR = np.array([40, 80, 200], np.uint8)
ASSERTED = np.array([60, 170, 80], np.uint8)
NEGATED = np.array([215, 70, 60], np.uint8)
EMPTY_MINI = np.array([225, 225, 225], np.uint8)
MARKER = np.array([150, 90, 190], np.uint8)
TO_MOVE = np.array([255, 200, 40], np.uint8)


def board_string(board: np.ndarray, rows: int, cols: int, numbered: bool = False) -> str:
    """The board as text; ``numbered`` shows each empty cell's number instead of ``.`` (for a human to type)."""
    width = len(str(rows * cols - 1)) if numbered else 1

    def cell(index: int) -> str:
        mark = int(board[index])
        return (str(index) if numbered and mark == 0 else SYMBOLS[mark]).rjust(width)

    separator = "\n" + "+".join(["-" * (width + 2)] * cols) + "\n"
    return separator.join(" " + " | ".join(cell(r * cols + c) for c in range(cols)) for r in range(rows))


def render_ansi(game: Game, names: dict[int, str] | None = None, numbered: bool = False) -> str:
    """Board and both stores as text, e.g. ``X (agent) thoughts: +4 -0 #1`` (``numbered``: see board_string)."""
    cfg = game.config
    out = [board_string(game.board, cfg.rows, cfg.cols, numbered)]
    for player in (0, 1):
        label = "XO"[player] + (f" ({names[player]})" if names and player in names else "")
        line = f"{label} thoughts: {game.store_string(player) or '(empty)'}"
        if not game.done and game.to_move == player and cfg.thinking:
            line += f"   [to move, {game.thoughts_left[player]}/{cfg.max_thoughts} thoughts left]"
        out.append(line)
    if game.done:
        out.append("result: " + ("draw" if game.winner == WINNER_DRAW else f"{'XO'[game.winner]} wins"))
    return "\n".join(out)


def _mark_pixels(size: int) -> tuple[np.ndarray, np.ndarray]:
    """The pixels of an X (a thick cross) and of an O (a ring) in a ``size x size`` cell."""
    idx = np.arange(size // 5, size - size // 5)
    cross = np.zeros((size, size), bool)
    for width in range(-2, 3):
        cols = np.clip(idx + width, 0, size - 1)
        cross[idx, cols] = cross[idx, size - 1 - cols] = True
    dist = np.hypot(*(np.mgrid[0:size, 0:size] - (size - 1) / 2))
    return cross, (dist < size * 0.32) & (dist > size * 0.22)


MARK_PIXELS = _mark_pixels(CELL)


def _draw_board(canvas: np.ndarray, game: Game) -> None:
    """The grid and the marks, at the top left of ``canvas``."""
    rows, cols = game.config.rows, game.config.cols
    board_h, board_w = rows * CELL, cols * CELL
    for r in range(rows + 1):
        canvas[PAD + min(r * CELL, board_h - 1), PAD:PAD + board_w] = GRID
    for c in range(cols + 1):
        canvas[PAD:PAD + board_h, PAD + min(c * CELL, board_w - 1)] = GRID
    for cell, value in enumerate(game.board):
        if value:
            top, left = PAD + cell // cols * CELL, PAD + cell % cols * CELL
            canvas[top:top + CELL, left:left + CELL][MARK_PIXELS[value - 1]] = (X_COLOUR, O_COLOUR)[value - 1]


def _draw_store(canvas: np.ndarray, game: Game, player: int, top: int, left: int, marker_h: int) -> None:
    """``player``'s store as a mini-board at ``(top, left)``, a stripe left of it, marker bars below."""
    cfg = game.config
    mini_h = cfg.rows * MINI
    # A stripe in the player's colour, yellow when it is the one to move.
    stripe = TO_MOVE if (not game.done and game.to_move == player) else (X_COLOUR, O_COLOUR)[player]
    canvas[top:top + mini_h, left - 6:left - 2] = stripe
    for cell in range(game.n):
        y, x = top + cell // cfg.cols * MINI, left + cell % cfg.cols * MINI
        asserted, negated = game.pos[player] >> cell & 1, game.neg[player] >> cell & 1
        canvas[y + 1:y + MINI - 1, x + 1:x + MINI - 1] = ASSERTED if asserted else NEGATED if negated else EMPTY_MINI
    # Marker bars: one per marker, a tick per copy in the store (at most 6).
    counts = Counter(arg for sign, arg in game.store_entries(player) if sign == "#")
    bar_w = max(cfg.cols * MINI // max(cfg.num_markers, 1), 1)
    for m in range(cfg.num_markers):
        for i in range(min(counts[m], 6)):
            x = left + m * bar_w + i * max(bar_w // 6, 1)
            canvas[top + mini_h + 2:top + mini_h + marker_h - 2, x:x + max(bar_w // 6 - 1, 1)] = MARKER


def render_rgb(game: Game) -> np.ndarray:
    """An ``H x W x 3`` uint8 picture: the board, then X's and O's stores as mini-boards."""
    cfg = game.config
    mini_h = cfg.rows * MINI
    marker_h = 10 if "marker" in cfg.channels else 0
    height = max(cfg.rows * CELL, 2 * (mini_h + marker_h) + 3 * PAD) + 2 * PAD
    width = cfg.cols * CELL + cfg.cols * MINI + 3 * PAD + 6
    canvas = np.full((height, width, 3), BACKGROUND, np.uint8)
    _draw_board(canvas, game)
    store_left = PAD + cfg.cols * CELL + 2 * PAD + 6
    for player in (0, 1):
        _draw_store(canvas, game, player, PAD + player * (mini_h + marker_h + PAD), store_left, marker_h)
    return canvas
