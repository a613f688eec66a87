"""Permissions (SPEC H1–H3): who may do what, checked for every command by the command runner."""
