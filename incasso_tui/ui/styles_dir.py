"""Where the desk's stylesheets are: ``CSS_PATH = STYLES / "worklist.tcss"``.

Absolute, so that Textual takes the path as it is: a relative ``CSS_PATH`` is resolved against the class's source
file (``inspect.getfile`` and ``Path.resolve``, a system call per path component) every time an app or a screen is
made, a few milliseconds of every SSH session's start-up and of every screen opened (issue 18).
"""

from pathlib import Path

STYLES = Path(__file__).resolve().parent / "styles"
