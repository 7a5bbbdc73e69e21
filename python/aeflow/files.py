"""Readers of aeflow's HDF5 files (docs/hdf5-schema.md): checkpoint, encoded, decoded, metrics
and sweep. Each returns a dict of plain values and numpy arrays."""

import h5py
import numpy as np

# The format versions each reader understands (aeflow reads the same).
VERSIONS = {
    "aeflow-checkpoint": (1, 2),
    "aeflow-encoded": (1,),
    "aeflow-decoded": (1,),
    "aeflow-metrics": (1,),
    "aeflow-sweep": (1,),
}


class FormatError(ValueError):
    """The file is not the aeflow file asked for, or of a format_version this reader does not
    know."""


def open_checked(path, format_name):
    """The HDF5 file at PATH, open for reading, checked to be FORMAT_NAME at a version these
    readers know; FormatError (or h5py's OSError) otherwise."""
    f = h5py.File(path, "r")
    found = f.attrs.get("format")
    if found != format_name:
        f.close()
        raise FormatError(f"{path}: is {found!r}, not an {format_name} file")
    version = int(f.attrs.get("format_version", -1))
    if version not in VERSIONS[format_name]:
        f.close()
        known = " or ".join(str(v) for v in VERSIONS[format_name])
        raise FormatError(f"{path}: {format_name} format_version {version} is not supported; "
                          f"this reader reads version {known}")
    return f


def _attrs(obj):
    return {name: (value.decode() if isinstance(value, bytes) else value)
            for name, value in obj.attrs.items()}


def _group(group):
    """Every dataset under GROUP as a numpy array (strings as str), subgroups as dicts of their
    attributes and datasets."""
    out = {}
    for name, item in group.items():
        if isinstance(item, h5py.Group):
            out[name] = {**_attrs(item), **_group(item)}
        elif h5py.check_string_dtype(item.dtype) is not None:
            out[name] = item.asstr()[...]
        else:
            out[name] = item[...]
    return out


def _header(f):
    return {name: f.attrs[name] for name in ("format", "format_version", "aeflow_version",
                                             "created", "config")}


def read_checkpoint(path):
    """The model (architecture and per-layer arrays), optimizer state, loop state and history.

    model: encoder, decoder (widths, code first; the mirror in version 1 files), activation,
    code_activation, output_activation, tied, loss, ..., and layers: a list of dicts with in, out,
    activation, weight (float32 [out, in], or None for a tied layer), bias, tied_to (or None)."""
    with open_checked(path, "aeflow-checkpoint") as f:
        model = _attrs(f["model"])
        model["encoder"] = [int(w) for w in model["encoder"]]
        if "decoder" in model:
            model["decoder"] = [int(w) for w in model["decoder"]]
        else:  # version 1: the mirror
            model["decoder"] = model["encoder"][::-1]
        model["tied"] = bool(model["tied"])
        count = len(model["encoder"]) + len(model["decoder"]) - 2
        layers = []
        for i in range(count):
            g = f["model"][f"layer_{i:02d}"]
            layers.append({
                "in": int(g.attrs["in"]), "out": int(g.attrs["out"]),
                "activation": g.attrs["activation"],
                "weight": g["weight"][...] if "weight" in g else None,
                "bias": g["bias"][...],
                "tied_to": int(g.attrs["tied_to"]) if "tied_to" in g.attrs else None,
            })
        model["layers"] = layers
        return {**_header(f), "model": model, "optimizer": {**_attrs(f["optimizer"]),
                                                            **_group(f["optimizer"])},
                "state": _attrs(f["state"]), "history": _group(f["history"])}


def read_encoded(path):
    """Root attributes, and per split: its attributes and latent, label (when present), index."""
    with open_checked(path, "aeflow-encoded") as f:
        out = _attrs(f)
        for name, group in f.items():
            out[name] = {**_attrs(group), **_group(group)}
        return out


def read_decoded(path):
    """Root attributes, points [n, k] and images [n, rows, cols]."""
    with open_checked(path, "aeflow-decoded") as f:
        return {**_attrs(f), **_group(f)}


def read_metrics(path):
    """Root attributes; summary, pca, knn (attributes, and pca's arrays); per_class, per_sample,
    samples and history (arrays; history's snapshots when the run kept them)."""
    with open_checked(path, "aeflow-metrics") as f:
        out = _attrs(f)
        for name, group in f.items():
            out[name] = {**_attrs(group), **_group(group)}
        return out


def read_sweep(path):
    """Root attributes; runs: one array per column (settings: one per grid key); curves:
    val_loss [runs, epochs], NaN-padded."""
    with open_checked(path, "aeflow-sweep") as f:
        out = _attrs(f)
        out["runs"] = _group(f["runs"])
        out["curves"] = _group(f["curves"])
        return out


def rows(table):
    """A dict of equal-length columns (a sweep's runs, a metrics file's per_class) as a list of
    dicts, one per row."""
    columns = {k: v for k, v in table.items() if isinstance(v, np.ndarray) and v.ndim == 1}
    n = min(len(v) for v in columns.values()) if columns else 0
    return [{k: v[i] for k, v in columns.items()} for i in range(n)]
