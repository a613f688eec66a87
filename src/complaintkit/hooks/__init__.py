"""The plugin seam: hook specifications, the typed plugin manager and the built-in defaults."""
