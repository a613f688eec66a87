"""The network-wide baseline standard, the starting point of every province plugin."""

from importlib import resources

from complaintkit.standard import Standard, load_standard

DATA = resources.files(__name__) / "data"


def standard() -> Standard:
    """Load (and validate) the baseline standard shipped with this package."""
    return load_standard(DATA, plugin="baseline")
