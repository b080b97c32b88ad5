"""Incoming bank statements (CAMT.053/054, MT940): a pure parsing layer, no database.

Use :func:`parse_statement_file`; it recognises the format from the content.
"""

from incasso_tui.bank.camt import parse_camt, parse_camt_statements
from incasso_tui.bank.detect import parse_statement_file
from incasso_tui.bank.model import MAX_BYTES, BankEntry, Statement
from incasso_tui.bank.mt940 import parse_mt940

__all__ = [
    "MAX_BYTES",
    "BankEntry",
    "Statement",
    "parse_camt",
    "parse_camt_statements",
    "parse_mt940",
    "parse_statement_file",
]
