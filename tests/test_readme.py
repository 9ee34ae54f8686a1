"""The README's Python example runs as written."""

import os
import re
from pathlib import Path

from conftest import ROOT


def test_readme_python_example_runs(tmp_path: Path, capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    assert len(code.strip().splitlines()) <= 14
    code = code.replace('"data/sample_survey.csv"', repr(str(ROOT / "data" / "sample_survey.csv")))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "['processing_time', 'process_information']" in out and "overall" in out
    assert (tmp_path / "summary.xlsx").exists()
