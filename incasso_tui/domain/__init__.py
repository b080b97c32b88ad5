"""Pure domain rules of the collections desk: money, schedules, arrears, costs, interest, calendar.

Nothing here touches a database, a terminal or the clock: every function takes what it needs as
arguments and returns values, so every rule can be tested on its own. Only ``incasso_tui.errors``
is imported from the rest of the application. The legal source of each rule is in its docstring.
"""
