"""Pictures of a game: the board with both thought stores, as text (``ansi``) or an RGB array.

Drawn with numpy only. In the picture, each player's store is a mini-board beside the main one:
green cells are asserted propositions (``+p``), red cells negated ones (``-p``), and the bars
under it count markers.
"""

from __future__ import annotations

import numpy as np

from tttthought_env.core import Game

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


def board_string(board: np.ndarray, rows: int, cols: int) -> str:
    lines = []
    for r in range(rows):
        lines.append(" " + " | ".join(SYMBOLS[int(board[r * cols + c])] for c in range(cols)))
        if r < rows - 1:
            lines.append("+".join(["---"] * cols))
    return "\n".join(lines)


def render_ansi(game: Game, names: dict | None = None) -> str:
    """Board and both stores as text, e.g. ``X (agent) thoughts: +4 -0 #1``."""
    cfg = game.config
    out = [board_string(game.board, cfg.rows, cfg.cols)]
    for player in (0, 1):
        label = "XO"[player]
        if names and player in names:
            label += f" ({names[player]})"
        store = game.store_string(player) or "(empty)"
        line = f"{label} thoughts: {store}"
        if not game.done and game.to_move == player and cfg.thinking:
            line += f"   [to move, {game.thoughts_left[player]}/{cfg.max_thoughts} thoughts left]"
        out.append(line)
    if game.done:
        out.append("result: " + ("draw" if game.winner == 2 else f"{'XO'[game.winner]} wins"))
    return "\n".join(out)


def _draw_x(canvas: np.ndarray, top: int, left: int, size: int) -> None:
    idx = np.arange(size // 5, size - size // 5)
    for width in range(-2, 3):
        cols = np.clip(idx + width, 0, size - 1)
        canvas[top + idx, left + cols] = X_COLOUR
        canvas[top + idx, left + size - 1 - cols] = X_COLOUR


def _draw_o(canvas: np.ndarray, top: int, left: int, size: int) -> None:
    yy, xx = np.mgrid[0:size, 0:size]
    dist = np.hypot(yy - (size - 1) / 2, xx - (size - 1) / 2)
    ring = (dist < size * 0.32) & (dist > size * 0.22)
    canvas[top:top + size, left:left + size][ring] = O_COLOUR


def render_rgb(game: Game) -> np.ndarray:
    """An ``H x W x 3`` uint8 picture: the board, then X's and O's stores as mini-boards."""
    cfg = game.config
    rows, cols, n = cfg.rows, cfg.cols, game.n
    board_h, board_w = rows * CELL, cols * CELL
    mini_h, mini_w = rows * MINI, cols * MINI
    marker_h = 10 if "marker" in cfg.channels else 0
    height = max(board_h, 2 * (mini_h + marker_h) + 3 * PAD) + 2 * PAD
    width = board_w + mini_w + 3 * PAD + 6
    canvas = np.empty((height, width, 3), np.uint8)
    canvas[:] = BACKGROUND
    top, left = PAD, PAD
    for r in range(rows + 1):
        canvas[top + min(r * CELL, board_h - 1), left:left + board_w] = GRID
    for c in range(cols + 1):
        canvas[top:top + board_h, left + min(c * CELL, board_w - 1)] = GRID
    board = game.board
    for cell in range(n):
        r, c = divmod(cell, cols)
        if board[cell] == 1:
            _draw_x(canvas, top + r * CELL, left + c * CELL, CELL)
        elif board[cell] == 2:
            _draw_o(canvas, top + r * CELL, left + c * CELL, CELL)
    store_left = left + board_w + 2 * PAD + 6
    for player in (0, 1):
        store_top = PAD + player * (mini_h + marker_h + PAD)
        # A stripe in the player's colour, yellow when it is the one to move.
        stripe = TO_MOVE if (not game.done and game.to_move == player) else (X_COLOUR, O_COLOUR)[player]
        canvas[store_top:store_top + mini_h, store_left - 6:store_left - 2] = stripe
        for cell in range(n):
            r, c = divmod(cell, cols)
            asserted, negated = game.pos[player] >> cell & 1, game.neg[player] >> cell & 1
            colour = ASSERTED if asserted else NEGATED if negated else EMPTY_MINI
            y, x = store_top + r * MINI, store_left + c * MINI
            canvas[y + 1:y + MINI - 1, x + 1:x + MINI - 1] = colour
        if marker_h:
            counts = [game.stores[player].count(2 * n + m) for m in range(cfg.num_markers)]
            bar_w = max(mini_w // max(cfg.num_markers, 1), 1)
            for m, count in enumerate(counts):
                filled = min(count, 6)
                x0 = store_left + m * bar_w
                y0 = store_top + mini_h + 2
                for i in range(filled):
                    x = x0 + i * max(bar_w // 6, 1)
                    canvas[y0:y0 + marker_h - 4, x:x + max(bar_w // 6 - 1, 1)] = MARKER
    return canvas
