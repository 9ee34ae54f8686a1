"""A plain `pip install .` carries the shipped model and codebook."""

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT


@pytest.mark.slow
def test_wheel_ships_the_default_model(tmp_path: Path):
    wheels = tmp_path / "wheels"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-2000:]
    target = tmp_path / "site"
    wheel = next(wheels.glob("textmine-*.whl"))
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                             capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-2000:]
    code = ("import textmine, pathlib; m = textmine.load_model(); "
            f"assert pathlib.Path(textmine.__file__).is_relative_to(pathlib.Path(r'{target}')); "
            "print(len(m.themes_), textmine.load_codebook().version)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["11", "1"]
