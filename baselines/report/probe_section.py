"""The report's "Capacity probe" section: the probe's table (results/probe/probe.json) and a generated reading."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np


def load_probe(results_dir: str | Path) -> list[dict[str, Any]] | None:
    """The probe's records, or None where the probe has not been run (or its file is not a probe file)."""
    path = Path(results_dir) / "probe" / "probe.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    records = document.get("records") if isinstance(document, dict) else None
    ok = isinstance(records, list) and records and all(
        isinstance(r, dict) and {"arch", "size", "mode", "accuracy"} <= set(r) for r in records)
    return records if ok else None


def _mean(records: list[dict], arch: str, size: str, mode: str) -> float | None:
    values = [float(r["accuracy"]) for r in records if (r["arch"], r["size"], r["mode"]) == (arch, size, mode)]
    return float(np.mean(values)) if values else None


def probe_reading(records: list[dict]) -> list[str]:
    """Per architecture: does the tiny net reach with two passes what it cannot with one, and the default net's?"""
    out = []
    for arch in dict.fromkeys(r["arch"] for r in records):
        one, two = _mean(records, arch, "tiny", "one_pass"), _mean(records, arch, "tiny", "two_pass")
        big = _mean(records, arch, "default", "one_pass")
        if one is None or two is None:
            continue
        verdict = "more" if two > one + 0.01 else ("less" if two < one - 0.01 else "about as much")
        text = (f"- **{arch}, tiny.** With two passes through thoughts it puts its move on an optimal cell in "
                f"{two:.1%} of the positions, against {one:.1%} in one pass: {verdict}.")
        if big is not None:
            text += (f" The default net reaches {big:.1%} in one pass, so two passes "
                     + ("close" if two >= big - 0.01 else "do not close") + " the gap.")
        out.append(text)
    return out


def probe_section(records: list[dict] | None) -> list[str]:
    """The section's lines (empty where the probe has not been run)."""
    if not records:
        return []
    from baselines.probe import table

    return ["## Capacity probe", "",
            "Supervised and exact (`python -m baselines probe`, baselines/probe.py; records in "
            "`results/probe/probe.json`): every non-terminal 3x3 position, the network trained to put its argmax on an "
            "optimal move (train = test: a capacity measure), in one pass, and in two passes through its own thoughts "
            "(trained on a scripted trace: propose each cell where the mover would complete a line, negate each where "
            "the opponent would, a marker when there is none, then the move). Mean ± sd over seeds; a fixed training "
            "budget, so lower bounds on what each network can represent.", "", table(records), *probe_reading(records),
            ""]
