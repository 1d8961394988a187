"""The queue: its rules, its transactions, its SQL, its reads, and what it announces.

    rules.py         pure: statuses, transitions and their effects, how a visit ends,
                     a counter's shift, numbering, who is called next, estimates
    transactions.py  every change, one transaction each: issue, call next, act on a
                     ticket, record a shift, close the day
    writer.py        writing a new ticket: its number, its row, its `issued` event
    sql.py           the statements, each the twin of a rule
    reads.py         a ticket, its public status, a site's summary, who staffs a counter
    screens.py       what a counter's screen and the supervisor's view show
    news.py          what a committed change announces

Nothing here knows Flask; the front desk (`server/frontdesk.py`) is what the web calls.
"""
