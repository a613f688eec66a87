"""The engine every part runs on: the command runner (the one retry loop), timers routed by
registration, scheduled detectors, the inbox and the outbox, the worker, and the SQL store."""
