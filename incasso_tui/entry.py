"""The ``incasso`` command's entry point (``[project.scripts]``): the cyclic garbage collector off while it starts.

Starting the TUI imports the command line, pydantic, SQLAlchemy with the models, Textual and the screens: about
170,000 objects, and with the collector on about 240 collections, 80-130 ms of the start (issue 18, measured on
the 2-core benchmark machine). What is made while importing is almost never cyclic garbage worth finding then.
So this module, which imports nothing else, switches the collector off before anything is imported;
``cli.root.main`` switches it on again for every command that does not open the TUI, and the TUI collects once
after its first paint and from then on while the person reads (``ui.heap``).
"""

import gc


def main() -> int:
    gc.disable()
    from incasso_tui.cli.root import main as run

    return run()
