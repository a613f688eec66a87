"""The parts of the complaint process, one folder each, registered as internal plugins.

Each part holds its pure rules (``rules.py``), its commands (``commands.py``), the timer kinds
it owns (``timers.py``), its read side (``queries.py``), its piece of the store (``store.py``) and
one ``part.py`` that registers them (see ``docs/architecture.md``).
"""
