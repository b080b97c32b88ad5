"""The ``incasso`` command line (issue 17): one module per command group, one shared module.

- ``root``: the parser built from the groups' ``register(subparsers)``, and ``main`` (run by the entry point
  ``incasso = "incasso_tui.entry:main"``; the SSH session starter, ``ssh.zygote``, calls it too).
- ``common``: what every group shares (common options, settings, database, context, progress bar, dates, ids).
- one module per group: ``tui`` (tui, demo, generate), ``db``, ``users`` (keys included), ``serve`` (ssh,
  openssh), ``letters`` (and mail), ``dispatch``, ``procedure``, ``bkr``, ``calc``, ``epc``, ``budget``, ``audit``,
  ``payments``, ``report``, ``risk``, ``selections``, ``campaigns``, ``tasks``, ``proposals``, ``search``,
  ``outside``, ``portal``, ``documents``, ``config``.

A group imports ``common``, never another group; ``common`` imports no group (import-linter: "the command groups
are independent", pyproject.toml).
"""

from incasso_tui.cli.root import build_parser, main

__all__ = ["build_parser", "main"]
