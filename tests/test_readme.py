"""The README's code blocks run as written, and say what they claim."""

import contextlib
import io
import pathlib
import re

README = pathlib.Path(__file__).parent.parent / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_code_runs_in_one_namespace():
    """The own-loop block generates data, trains and scores (better than predicting
    zero, nRMSE 1); the solver block then differentiates a Burgers trajectory."""
    blocks = _python_blocks()
    assert len(blocks) == 2
    namespace: dict = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for block in blocks:
            exec(compile(block, str(README), "exec"), namespace)
    score = float(re.search(r"nRMSE: ([\d.]+)", printed.getvalue()).group(1))
    assert 0 < score < 0.9
    assert namespace["u"].shape == (100, 21, 1, 128)
    assert namespace["frames"].shape == (11, 1, 256)
    assert float(abs(namespace["dnu"])) > 0
