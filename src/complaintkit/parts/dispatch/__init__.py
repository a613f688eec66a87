"""Dispatch: processing modes, the dispatch standard, the transfer graph, misdispatch arbitration, routing up (SPEC A6, D1–D6, E6)."""
