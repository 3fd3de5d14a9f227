"""``report``: docs/results.md, its figures and a per-run CSV, regenerated from the run records alone.

Nothing in the output is typed by hand: the tables are IQMs with 95% stratified-bootstrap CIs over
seeds, the probabilities of improvement come from :mod:`baselines.metrics`, and the reading is
sentences chosen by comparing those intervals. Bootstrap seeds are fixed, so the same records give
the same document.

Parts: :mod:`~baselines.report.records` (records, cells, intervals: :class:`Stats`),
:mod:`~baselines.report.tables` (the text and tables), :mod:`~baselines.report.figures` (the PNGs) and
:mod:`~baselines.report.reading` (the generated reading).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from baselines.report.figures import plot_intervals, plot_learning_curves, plot_performance_profiles
from baselines.report.reading import reading
from baselines.report.records import (
    ALGO_NAMES,
    METRICS,
    REPS,
    VIEWS,
    Stats,
    compare,
    finite,
    fmt_ci,
    group_records,
    interval,
    load_records,
    values,
)
from baselines.report.probe_section import load_probe, probe_section
from baselines.report.sweep_section import load_sweep_records, sweep_section, tuned_cells
from baselines.report.views import view_section
from baselines.report.tables import (
    architecture_table,
    capacity_table,
    cloning_table,
    figure_captions,
    header,
    improvement_table,
    main_table,
    masking_table,
)

__all__ = ["ALGO_NAMES", "METRICS", "REPS", "Stats", "build_report", "compare", "fmt_ci", "group_records", "interval",
           "load_records", "plot_intervals", "plot_learning_curves", "plot_performance_profiles", "reading", "report",
           "values", "write_csv"]


def write_csv(records: list[dict], path: Path) -> None:
    """One row per run: its cell, seed, budget, every metric and the time to the threshold."""
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = ["condition", "algo", "capacity", "seed", "total_timesteps", *METRICS, "steps_to_threshold",
               "seconds_to_threshold", "moves_to_threshold", "train_seconds", "wall_seconds"]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for record in sorted(records, key=lambda r: (r["run"]["condition"], r["run"]["algo"], r["run"]["capacity"],
                                                     r["run"]["seed"])):
            row = [record["run"][k] for k in ("condition", "algo", "capacity", "seed")]
            row.append(record.get("total_timesteps"))
            for metric in METRICS:
                value = METRICS[metric][1](record)
                row.append(round(float(value), 6) if finite(value) else "")  # empty: undefined or not finite
            row += [record.get("steps_to_threshold") or "", record.get("seconds_to_threshold") or "",
                    record.get("moves_to_threshold") or "", record.get("train_seconds"), record.get("wall_seconds")]
            writer.writerow(row)


def _relpath(target: Path, start: Path) -> str:
    return os.path.relpath(target, start).replace(os.sep, "/")


def build_report(records: list[dict], img_dir: Path, doc_path: Path, probe: list[dict] | None = None,
                 title: str = "Results", source: str = "results/records/", sweep: list[dict] | None = None) -> str:
    """The document's text; draws its figures into ``img_dir`` (linked relative to ``doc_path``); ``probe``: the
    capacity probe's records, if it has been run; ``sweep``: the tuning sweep's records, if any."""
    stats = Stats(group_records(records))
    img_dir.mkdir(parents=True, exist_ok=True)
    curves_png, profile_png, interval_png = (img_dir / "learning_curves.png", img_dir / "performance_profiles.png",
                                             img_dir / "iqm_intervals.png")
    plot_learning_curves(stats.groups, curves_png)
    plot_performance_profiles(stats.groups, profile_png)
    plot_intervals(stats.groups, stats.intervals, interval_png)
    here = doc_path.parent
    view_lines, view_reading = [], []
    for view in VIEWS:
        lines_of_view, bullets = view_section(stats, view, img_dir, _relpath(img_dir, here))
        view_lines += lines_of_view
        view_reading += bullets
    lines = [*header(records, stats, title, source), *main_table(stats, _relpath(interval_png, here)),
             *tuned_cells(stats.groups, sweep or []), *improvement_table(stats),
             *capacity_table(stats), *architecture_table(stats), *cloning_table(stats), *masking_table(stats),
             *view_lines,
             *sweep_section(sweep or []), *probe_section(probe),
             *figure_captions(_relpath(curves_png, here), _relpath(profile_png, here)),
             "## Reading", "",
             "*Generated from the intervals above: 'higher'/'lower' means the 95% CIs do not overlap; otherwise the "
             "data do not separate the two.*", "",
             *reading(stats, view_reading), "",
             # Plain paths, not links: the docs site (mkdocs --strict) cannot link outside docs/.
             "Per-run numbers: `results/run_metrics.csv` in the repository; records: `results/records/`."]
    return "\n".join(lines) + "\n"


def report(results_dir: str | Path = "results", doc_path: str | Path = "docs/results.md",
           img_dir: str | Path = "docs/img", title: str = "Results") -> Path:
    """Regenerate ``doc_path``, the PNGs in ``img_dir`` and ``<results_dir>/run_metrics.csv`` from the records."""
    records = load_records(results_dir)
    if not records:
        raise FileNotFoundError(f"no run records under {Path(results_dir) / 'records'}; run the grid first")
    doc_path, img_dir = Path(doc_path), Path(img_dir)
    write_csv(records, Path(results_dir) / "run_metrics.csv")
    text = build_report(records, img_dir, doc_path, probe=load_probe(results_dir), title=title,
                        source=f"{Path(results_dir).as_posix()}/records/", sweep=load_sweep_records(results_dir))
    doc_path.parent.mkdir(parents=True, exist_ok=True)
    doc_path.write_text(text)
    return doc_path
