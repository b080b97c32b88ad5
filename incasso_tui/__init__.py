"""incasso-tui: the terminal application of the collections desk (Incasso & Beheer)."""

__version__ = "0.1.0"
