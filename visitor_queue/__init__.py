"""The walk-in desk's queue: numbers per counter and day, the three-call rule, coming back after
three, the ticket, the spoken announcement and the day's figures (issue 21)."""
