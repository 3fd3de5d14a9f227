"""The project's promises about its own code: small functions, small files, a clean mypy, clean layers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("tttthought_env", "baselines")
MAX_COMPLEXITY = 15
MAX_LINES = 600


def _sources() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def test_no_function_above_the_complexity_bar() -> None:
    radon = pytest.importorskip("radon.complexity")
    too_complex = []
    for path in _sources():
        for block in radon.cc_visit(path.read_text()):
            if block.complexity > MAX_COMPLEXITY:
                too_complex.append(f"{path.relative_to(ROOT)}:{block.lineno} {block.name} ({block.complexity})")
    assert not too_complex, f"functions above complexity {MAX_COMPLEXITY}: {too_complex}"


def test_no_file_above_the_line_bar() -> None:
    long_files = [f"{path.relative_to(ROOT)} ({n})" for path in _sources()
                  if (n := len(path.read_text().splitlines())) > MAX_LINES]
    assert not long_files, f"files above {MAX_LINES} lines: {long_files}"


def test_mypy_is_clean_on_the_package() -> None:
    pytest.importorskip("mypy")
    result = subprocess.run([sys.executable, "-m", "mypy", "tttthought_env"], cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_the_env_package_never_imports_the_baselines() -> None:
    modules = sorted(".".join(path.relative_to(ROOT).with_suffix("").parts) for path in (ROOT / "tttthought_env").rglob("*.py"))
    modules = [name.removesuffix(".__init__") for name in modules if not name.endswith("__main__")]
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n"
            "    importlib.import_module(name)\n"
            "leaked = sorted(m for m in sys.modules if m == 'baselines' or m.startswith('baselines.'))\n"
            "print(leaked)\n"
            "sys.exit(1 if leaked else 0)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
