"""The examples are the README's code, so that the test that runs the README's blocks
(tests/test_readme.py) runs them too, once."""

import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).parent.parent


def _code(source: str) -> str:
    """The source without its module docstring, as the AST sees it (comments and
    layout aside, so formatting may differ)."""
    module = ast.parse(source)
    body = module.body
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
    ):
        body = body[1:]
    return ast.dump(ast.Module(body=body, type_ignores=[]))


def test_own_loop_example_is_the_readme_block():
    readme = (ROOT / "README.md").read_text()
    block = re.findall(r"```python\n(.*?)```", readme, flags=re.S)[0]
    example = (ROOT / "examples" / "own_loop.py").read_text()
    assert _code(example) == _code(block)
