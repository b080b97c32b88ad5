"""``python -m incasso_tui.cli``: the ``incasso`` command."""

import sys

from incasso_tui.cli.root import main

sys.exit(main())
