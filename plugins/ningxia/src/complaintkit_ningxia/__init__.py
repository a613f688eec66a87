"""Ningxia's complaint standard (宁夏移动): only how it differs from the network-wide baseline.

The data folder's ``standard.toml`` says ``extends = "complaintkit_baseline:data"``: the baseline
is read first and each file here is laid over it (see ``complaintkit.standard.layers``).
"""

from importlib import resources

from complaintkit.standard import Standard, load_standard

DATA = resources.files(__name__) / "data"


def standard() -> Standard:
    """Load (and validate) Ningxia's standard: the baseline with Ningxia's differences."""
    return load_standard(DATA, plugin="ningxia")
