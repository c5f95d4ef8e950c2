"""docs/plugins.md stays true: its full example is the tested file, and every public
method of the API is in its reference."""

from __future__ import annotations

import re

from armdbg.api import PluginAPI

from .conftest import EXAMPLES, ROOT

DOC = (ROOT / "docs" / "plugins.md").read_text()


def test_the_whole_example_is_the_example_file() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC, re.S)
    assert (EXAMPLES / "hello_plugin.py").read_text() in blocks


def test_every_api_method_is_in_the_reference() -> None:
    reference = DOC[DOC.index("## API reference"):]
    public = [name for name in vars(PluginAPI) if not name.startswith("_")
              and (callable(getattr(PluginAPI, name)) or name == "faulted")]
    missing = [name for name in public
               if f"api.{name}(" not in reference and f"`api.{name}`" not in reference]
    assert missing == []


def test_bundled_plugins_have_their_docstrings() -> None:
    for path in sorted((ROOT / "plugins").glob("*.py")):
        text = path.read_text()
        assert text.startswith('"""'), path.name
        assert "Command" in text.split('"""')[1], path.name
