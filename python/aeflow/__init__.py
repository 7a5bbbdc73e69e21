"""Read what aeflow writes, from Python.

    import aeflow
    model = aeflow.read_checkpoint("runs/quickstart/checkpoints/best.h5")
    codes = aeflow.read_encoded("runs/quickstart/encoded.h5")["test"]["latent"]
    net = aeflow.to_torch("runs/quickstart/checkpoints/best.h5")   # a torch.nn.Module

Every reader checks the file's format and format_version as aeflow does and returns plain
Python and numpy values, named as docs/hdf5-schema.md names them. Uses Debian's python3-h5py
and python3-numpy; to_torch also python3-torch. Put python/ on PYTHONPATH (or run from it).
"""

from .files import (FormatError, read_checkpoint, read_decoded, read_encoded, read_metrics,
                    read_sweep)

__all__ = ["FormatError", "read_checkpoint", "read_decoded", "read_encoded", "read_metrics",
           "read_sweep", "to_torch"]


def to_torch(path):
    """The model of the checkpoint at PATH as a torch.nn.Module (see aeflow.torch_model)."""
    from .torch_model import to_torch as convert  # (torch is imported only when asked for)
    return convert(path)
