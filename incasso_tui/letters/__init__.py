"""Letters to clients and trustees: the data a letter may show (:mod:`.model`) and its typesetting (:mod:`.render`).

This package knows no database: ``services.letters`` builds the data from a ``letters`` row and records the result.
See docs/letters.md.
"""
