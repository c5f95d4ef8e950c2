from __future__ import annotations

import pytest
from shell import new_app

from armdbg.app import App


@pytest.fixture
def app() -> App:
    """A fresh shell on the demo image, context display off."""
    return new_app()
