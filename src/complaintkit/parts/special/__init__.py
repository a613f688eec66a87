"""Special tickets: major, batch, repeat, sensitive and potential-escalation (SPEC E1–E3, E5)."""
