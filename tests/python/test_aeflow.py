"""The Python package on real aeflow output: every reader on every file kind, refusal of an
unknown format_version, and the PyTorch module computing what aeflow computes (codes and
reconstructions to 1e-5) for a plain, a tied and an asymmetric model."""

import os
import shutil
import subprocess

import h5py
import numpy as np
import pytest
import torch

import aeflow

AEFLOW = os.environ["AEFLOW_BINARY"]


def write_idx(path, array, magic):
    with open(path, "wb") as f:
        f.write(magic.to_bytes(4, "big"))
        for dim in array.shape:
            f.write(int(dim).to_bytes(4, "big"))
        f.write(array.astype(np.uint8).tobytes())


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A small MNIST-format data set: blurred blobs whose place depends on the label."""
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(5)
    for name, count in (("train", 600), ("t10k", 200)):
        labels = rng.integers(0, 10, count)
        images = np.zeros((count, 28, 28))
        ys, xs = np.mgrid[0:28, 0:28]
        for i, label in enumerate(labels):
            cy, cx = 6 + 2 * (label % 5) + rng.normal(0, 1), 8 + 6 * (label // 5) + rng.normal(0, 1)
            images[i] = 255 * np.exp(-((ys - cy) ** 2 + (xs - cx) ** 2) / 18)
        write_idx(root / f"{name}-images-idx3-ubyte", images, 2051)
        write_idx(root / f"{name}-labels-idx1-ubyte", labels, 2049)
    return root


def aeflow_run(*args):
    result = subprocess.run([AEFLOW, *map(str, args)], capture_output=True, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


MODELS = {
    "plain": ["--encoder", "784,32,4", "--activation", "elu", "--code-activation", "linear",
              "--loss", "bce"],
    "tied": ["--encoder", "784,24,3", "--tied", "--activation", "tanh", "--output-activation",
             "linear", "--loss", "mse"],
    "asymmetric": ["--encoder", "784,32,2", "--decoder", "8,16", "--activation", "relu"],
    "silu-gelu": ["--encoder", "784,32,16,4", "--activation", "silu", "--code-activation",
                  "gelu", "--loss", "bce"],
}


@pytest.fixture(scope="module", params=sorted(MODELS))
def run(request, data, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param) / "run"
    aeflow_run("train", "--data", data, "--out", out, "--epochs", 2, "--validation", 100,
               *MODELS[request.param])
    aeflow_run("encode", "--checkpoint", out / "checkpoints/latest.h5", "--data", data,
               "--out", out / "encoded.h5")
    return out


def test_the_torch_module_reconstructs_and_encodes_as_aeflow(run):
    net = aeflow.to_torch(run / "checkpoints/latest.h5")
    metrics = aeflow.read_metrics(run / "metrics.h5")
    samples = metrics["samples"]
    x = torch.from_numpy(samples["input"].reshape(len(samples["input"]), -1))
    with torch.no_grad():
        code = net.encode(x).numpy()
        reconstruction = net(x).numpy()
    # (float32 sums in another order: 1e-5 absolute, and relative for large codes)
    np.testing.assert_allclose(code, samples["code"], atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(reconstruction, samples["reconstruction"].reshape(len(x), -1),
                               atol=1e-5, rtol=1e-5)
    # Every test code of encoded.h5, from the images as read from the IDX file.
    encoded = aeflow.read_encoded(run / "encoded.h5")
    with open(os.path.join(encoded["data"], "t10k-images-idx3-ubyte"), "rb") as f:
        images = np.frombuffer(f.read()[16:], dtype=np.uint8).reshape(-1, 784)
    with torch.no_grad():
        codes = net.encode(torch.from_numpy(images.astype(np.float32) / 255)).numpy()
    np.testing.assert_allclose(codes, encoded["test"]["latent"], atol=1e-5, rtol=1e-5)


def test_tied_layers_share_one_parameter(data, tmp_path):
    out = tmp_path / "run"
    aeflow_run("train", "--data", data, "--out", out, "--epochs", 1, "--validation", 100,
               *MODELS["tied"])
    net = aeflow.to_torch(out / "checkpoints/latest.h5")
    assert net.decoder[-1].weight is net.encoder[0].weight
    assert net.decoder[0].weight is net.encoder[1].weight
    assert len(list(net.parameters())) == 6  # the two encoder weights and four biases


def test_every_reader_reads_its_file_and_refuses_another_version(run, tmp_path):
    checkpoint = aeflow.read_checkpoint(run / "checkpoints/latest.h5")
    model = checkpoint["model"]
    assert model["decoder"][0] == model["encoder"][-1] and model["decoder"][-1] == 784
    assert len(model["layers"]) == len(model["encoder"]) + len(model["decoder"]) - 2
    assert checkpoint["history"]["epoch"].tolist() == [1, 2]
    assert checkpoint["history"]["snapshots"]["frames"].shape[:2] == (2, 10)
    metrics = aeflow.read_metrics(run / "metrics.h5")
    assert metrics["summary"]["count"] == 200 and 0 < metrics["summary"]["rmse"] < 1
    assert sum(metrics["per_class"]["count"]) == 200
    encoded = aeflow.read_encoded(run / "encoded.h5")
    assert encoded["train"]["latent"].shape == (600, model["encoder"][-1])
    assert encoded["test"]["label"].shape == (200,)
    aeflow_run("decode", "--checkpoint", run / "checkpoints/latest.h5", "--circle", "1:6",
               "--out", tmp_path / "decoded.h5")
    decoded = aeflow.read_decoded(tmp_path / "decoded.h5")
    assert decoded["images"].shape == (6, 28, 28) and decoded["source"] == "circle"

    future = tmp_path / "future.h5"
    shutil.copy(run / "metrics.h5", future)
    with h5py.File(future, "r+") as f:
        f.attrs["format_version"] = 9
    with pytest.raises(aeflow.FormatError, match="format_version 9 is not supported"):
        aeflow.read_metrics(future)
    with pytest.raises(aeflow.FormatError, match="not an aeflow-encoded file"):
        aeflow.read_encoded(run / "metrics.h5")


def test_the_sweep_reader(data, tmp_path):
    aeflow_run("sweep", "--data", data, "--out", tmp_path / "sweep", "--encoder", "784,16,2",
               "--dims", "2,3", "--epochs", 1, "--validation", 100)
    sweep = aeflow.read_sweep(tmp_path / "sweep/sweep.h5")
    assert sweep["runs"]["k"].tolist() == [2, 3]
    assert sweep["runs"]["status"].tolist() == ["done", "done"]
    assert sweep["curves"]["val_loss"].shape == (2, 1)
    rows = aeflow.files.rows(sweep["runs"])
    assert rows[0]["name"] == "k=2" and rows[1]["test_rmse"] > 0
