#!/usr/bin/python3
"""Draw the pictures of an aeflow run or sweep from the files aeflow wrote.

Usage: scripts/plot.py [--aeflow BIN] [--no-walks] [--tsne] DIR [DIR ...]

DIR is a run directory (it holds metrics.h5; encoded.h5 and checkpoints/ are used when there)
or a sweep directory (it holds sweep.h5). The pictures go to DIR/plots/, the page to
DIR/report.html, and their paths are printed, one a line:

  run:   reconstructions.png  inputs over their reconstructions, a column per digit
         loss.png             training and validation loss per epoch
         training.png         a few fixed images reconstructed after some epochs (aeflow train
                              keeps a frame per epoch in the history)
         training.gif         the same, every epoch, as an animation
         latent.png           the test codes coloured by digit: k = 1 a strip, k = 2 a scatter,
                              k = 3 a 3-D scatter, larger k their projection on the codes' two
                              principal axes (from encoded.h5, else the codes of metrics.h5's
                              samples)
         latent_tsne.png      with --tsne: the first 3000 codes laid out by t-SNE
                              (scikit-learn), coloured by digit
         per_class.png        RMSE per digit beside PCA's at the same k
         errors.png           the distribution of per-image error, beside PCA's
         walk_grid.png        images decoded from a grid over the codes' plane (needs the
                              checkpoint and the aeflow binary; --no-walks skips them)
         walk_circle.png      images decoded along a circle in that plane, as a strip
         walk_circle.gif      the same circle as an animation
         report.html          one self-contained page: the metrics beside PCA's, the
                              per-digit table, the pictures and the configuration
  sweep: each finished run's pictures and page (as above, in its run directory), then
         sweep_rmse.png       test RMSE against k, with PCA at each k
         sweep_knn.png        kNN accuracy of the codes against k
         sweep_curves.png     every run's validation loss per epoch
         report.html          the table of runs (each linked to its page), the pictures and
                              the sweep's job

The data layout is docs/hdf5-schema.md. Files of a format_version this script does not know are
refused, as aeflow refuses them. Uses Debian's python3-h5py, python3-numpy, python3-matplotlib.
"""

import argparse
import hashlib
import os
import shutil
import subprocess
import sys

import h5py
import matplotlib

import report

# python/aeflow's check of a file's format and version: one for both.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from aeflow.files import FormatError, open_checked  # noqa: E402

matplotlib.use("Agg")  # files only: no display needed (a compute node has none)
import matplotlib.animation as animation  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
import numpy as np  # noqa: E402

DIGIT_COLOURS = plt.get_cmap("tab10")
DPI = 100


class PlotError(Exception):
    """Bad input: a missing or foreign file. Printed as one line, exit code 2."""


def open_aeflow(path, format_name):
    """The HDF5 file at PATH, checked to be FORMAT_NAME at a version the readers know."""
    try:
        return open_checked(path, format_name)
    except (OSError, FormatError) as error:
        raise PlotError(str(error)) from None


def save(fig, path, written):
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    written.append(path)


def title_of(run_dir):
    return os.path.basename(os.path.normpath(run_dir))


# --- a run -----------------------------------------------------------------------------------


def plot_reconstructions(metrics, out, name, written, per_class=5):
    """Up to PER_CLASS inputs of each digit, each over its reconstruction: a column per digit."""
    samples = metrics["samples"]
    labels = samples["label"][...]
    inputs = samples["input"][...]
    outputs = np.clip(samples["reconstruction"][...], 0, 1)
    classes = np.unique(labels)
    fig, axes = plt.subplots(2 * per_class, len(classes),
                             figsize=(0.9 * len(classes), 0.9 * 2 * per_class), squeeze=False)
    for column, label in enumerate(classes):
        rows = np.flatnonzero(labels == label)[:per_class]
        for r in range(per_class):
            for half, images in enumerate((inputs, outputs)):
                ax = axes[2 * r + half, column]
                ax.set_xticks([])
                ax.set_yticks([])
                if r < len(rows):
                    ax.imshow(images[rows[r]], cmap="gray", vmin=0, vmax=1)
                else:
                    ax.axis("off")
        axes[0, column].set_title(str(label))
    axes[0, 0].set_ylabel("input")
    axes[1, 0].set_ylabel("output")
    s = metrics["summary"].attrs
    fig.suptitle(f"{name}: inputs over reconstructions (test rmse {s['rmse']:.4f}, "
                 f"PCA {s['pca_rmse']:.4f})")
    save(fig, os.path.join(out, "reconstructions.png"), written)


def plot_loss(metrics, out, name, written):
    history = metrics["history"]
    epochs = history["epoch"][...]
    if len(epochs) == 0:
        return
    loss = metrics.attrs["config"]
    loss_name = next((line.split("=", 1)[1].strip() for line in loss.splitlines()
                      if line.startswith("loss =")), "loss")
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(epochs, history["train_loss"][...], "o-", label="training")
    val = history["val_loss"][...]
    if np.isfinite(val).any():
        ax.plot(epochs, val, "s-", label="validation")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(f"{loss_name} (per pixel)")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    ax.set_title(f"{name}: loss per epoch")
    save(fig, os.path.join(out, "loss.png"), written)


def plot_training(metrics, out, name, written, rows_shown=6, frames_shown=100):
    """The fixed images aeflow train reconstructs after every epoch: a picture of the inputs over
    the reconstructions at a few epochs, and an animation of every epoch (of at most
    FRAMES_SHOWN, evenly spaced, the last always among them)."""
    if "snapshots" not in metrics["history"]:
        return
    snapshots = metrics["history/snapshots"]
    inputs = snapshots["input"][...] / 255.0
    frames = snapshots["frames"][...] / 255.0
    epochs = snapshots["epoch"][...]
    if len(epochs) == 0:
        return
    shown = np.unique(np.linspace(0, len(epochs) - 1, min(rows_shown, len(epochs))).astype(int))
    n = inputs.shape[0]
    fig, axes = plt.subplots(1 + len(shown), n, figsize=(0.8 * n, 0.85 * (1 + len(shown))),
                             squeeze=False)
    for column in range(n):
        for row, images in enumerate([inputs] + [frames[i] for i in shown]):
            ax = axes[row, column]
            ax.imshow(images[column], cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("input", fontsize=8)
    for row, i in enumerate(shown):
        axes[row + 1, 0].set_ylabel(f"epoch {epochs[i]}", fontsize=8)
    fig.suptitle(f"{name}: {snapshots.attrs['split']} images reconstructed as training went on")
    save(fig, os.path.join(out, "training.png"), written)

    fig, axs = plt.subplots(2, n, figsize=(0.8 * n, 2.0), squeeze=False)
    pictures = []
    for column in range(n):
        for row in range(2):
            axs[row, column].axis("off")
        axs[0, column].imshow(inputs[column], cmap="gray", vmin=0, vmax=1)
        pictures.append(axs[1, column].imshow(frames[0][column], cmap="gray", vmin=0, vmax=1))
    title = fig.suptitle(f"epoch {epochs[0]}")

    def show(i):
        for column, picture in enumerate(pictures):
            picture.set_data(frames[i][column])
        title.set_text(f"{name}: epoch {epochs[i]}")
        return pictures + [title]

    frame_list = np.unique(np.linspace(0, len(epochs) - 1, min(frames_shown, len(epochs)))
                           .round().astype(int))
    movie = animation.FuncAnimation(fig, show, frames=frame_list)
    gif = os.path.join(out, "training.gif")
    movie.save(gif, writer=animation.PillowWriter(fps=4), dpi=DPI)
    plt.close(fig)
    written.append(gif)


def md5_of(path):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_codes(run_dir, metrics):
    """The test codes and labels: encoded.h5's when the run has one, else metrics.h5's samples;
    with the source's name and the checkpoint that made them (None when it is not at hand), so
    that the walks decode with the same model."""
    encoded_path = os.path.join(run_dir, "encoded.h5")
    if os.path.exists(encoded_path):
        with open_aeflow(encoded_path, "aeflow-encoded") as f:
            if "test" in f and "label" in f["test"]:
                made_by = f.attrs.get("checkpoint_md5")
                candidates = [f.attrs.get("checkpoint", "")] + [
                    os.path.join(run_dir, "checkpoints", name) for name in ("best.h5", "latest.h5")]
                checkpoint = next((c for c in candidates
                                   if c and os.path.exists(c) and md5_of(c) == made_by), None)
                return (f["test/latent"][...], f["test/label"][...], "encoded.h5, test split",
                        checkpoint)
    samples = metrics["samples"]
    evaluated = metrics.attrs.get("checkpoint", "")
    checkpoint = evaluated if evaluated and os.path.exists(evaluated) else None
    return samples["code"][...], samples["label"][...], "metrics.h5 samples", checkpoint


def principal_plane(codes):
    """The codes' mean and their two leading principal axes (rows), for k > 2."""
    mean = codes.mean(axis=0)
    _, _, vt = np.linalg.svd(codes - mean, full_matrices=False)
    return mean, vt[:2]


def plot_latent(codes, labels, source, out, name, written):
    k = codes.shape[1]
    fig = plt.figure(figsize=(6.5, 5.5))
    if k == 3:
        ax = fig.add_subplot(projection="3d")
    else:
        ax = fig.add_subplot()
    for label in np.unique(labels):
        mask = labels == label
        colour = DIGIT_COLOURS(int(label) % 10)
        if k == 1:
            jitter = np.random.default_rng(int(label)).uniform(-0.3, 0.3, mask.sum())
            ax.scatter(codes[mask, 0], label + jitter, s=3, color=colour, label=str(label))
        elif k == 2:
            ax.scatter(codes[mask, 0], codes[mask, 1], s=3, color=colour, label=str(label))
        elif k == 3:
            ax.scatter(codes[mask, 0], codes[mask, 1], codes[mask, 2], s=2, color=colour,
                       label=str(label))
        else:
            mean, axes = principal_plane(codes)
            xy = (codes[mask] - mean) @ axes.T
            ax.scatter(xy[:, 0], xy[:, 1], s=3, color=colour, label=str(label))
    if k == 1:
        ax.set_xlabel("code")
        ax.set_ylabel("digit")
    elif k <= 3:
        ax.set_xlabel("code 0")
        ax.set_ylabel("code 1")
        if k == 3:
            ax.set_zlabel("code 2")
    else:
        ax.set_xlabel("principal axis 1 of the codes")
        ax.set_ylabel("principal axis 2")
    ax.legend(markerscale=4, fontsize=8, loc="best", title="digit")
    shown = "" if k <= 3 else f", projected from {k} dimensions"
    ax.set_title(f"{name}: {len(codes)} codes ({source}{shown})")
    save(fig, os.path.join(out, "latent.png"), written)


def plot_tsne(codes, labels, out, name, written, count=3000):
    """The first COUNT codes laid out by t-SNE (scikit-learn), coloured by digit."""
    from sklearn.manifold import TSNE  # (only with --tsne: python3-sklearn)

    codes, labels = codes[:count], labels[:count]
    xy = TSNE(n_components=2, init="pca", learning_rate="auto", perplexity=30,
              random_state=0).fit_transform(codes.astype(np.float64))
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    for label in np.unique(labels):
        mask = labels == label
        ax.scatter(xy[mask, 0], xy[mask, 1], s=3, color=DIGIT_COLOURS(int(label) % 10),
                   label=str(label))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(markerscale=4, fontsize=8, loc="best", title="digit")
    ax.set_title(f"{name}: t-SNE of {len(codes)} {codes.shape[1]}-dimensional codes")
    save(fig, os.path.join(out, "latent_tsne.png"), written)


def plot_per_class(metrics, out, name, written):
    table = metrics["per_class"]
    labels = table["label"][...]
    rmse = np.sqrt(table["mse"][...])
    pca = np.sqrt(table["pca_mse"][...])
    x = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.bar(x - 0.2, rmse, 0.4, label="autoencoder")
    ax.bar(x + 0.2, pca, 0.4, label=f"PCA, k = {metrics['pca'].attrs['k']}")
    ax.set_xticks(x, [str(v) for v in labels])
    ax.set_xlabel("digit")
    ax.set_ylabel("test RMSE")
    ax.legend()
    ax.set_title(f"{name}: reconstruction error per digit")
    save(fig, os.path.join(out, "per_class.png"), written)


def plot_errors(metrics, out, name, written):
    per_sample = metrics["per_sample"]
    rmse = np.sqrt(np.maximum(per_sample["mse"][...], 1e-12))
    pca = np.sqrt(np.maximum(per_sample["pca_mse"][...], 1e-12))
    bins = np.linspace(0, max(rmse.max(), pca.max()), 60)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.hist(pca, bins=bins, alpha=0.5, label="PCA")
    ax.hist(rmse, bins=bins, alpha=0.6, label="autoencoder")
    ax.set_xlabel("per-image RMSE")
    ax.set_ylabel("test images")
    ax.legend()
    ax.set_title(f"{name}: distribution of per-image error ({len(rmse)} images)")
    save(fig, os.path.join(out, "errors.png"), written)


def find_aeflow(given):
    if given:
        return given
    beside = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "release",
                          "aeflow")
    if os.access(beside, os.X_OK):
        return os.path.normpath(beside)
    return shutil.which("aeflow")


def decode_points(aeflow, checkpoint, points_path, dataset, out_path):
    """Images aeflow decodes from POINTS_PATH's DATASET: float [n, rows, cols]."""
    command = [aeflow, "decode", "--checkpoint", checkpoint, "--points", points_path,
               "--dataset", dataset, "--out", out_path, "--force", "--threads", "1"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise PlotError(f"{' '.join(command)} failed ({result.returncode}): "
                        f"{result.stderr.strip() or result.stdout.strip()}")
    with open_aeflow(out_path, "aeflow-decoded") as f:
        return np.clip(f["images"][...], 0, 1)


def walk_plane(codes):
    """The plane the walks run in: k = 2 the codes' own axes, else the two leading principal
    axes through the codes' mean; with the spread of the codes along each (2nd to 98th
    percentile)."""
    if codes.shape[1] == 2:
        origin, axes = np.zeros(2), np.eye(2)
    else:
        origin, axes = principal_plane(codes)
    xy = (codes - origin) @ axes.T
    low, high = np.percentile(xy, 2, axis=0), np.percentile(xy, 98, axis=0)
    return origin, axes, low, high


def plot_walks(checkpoint, codes, out, name, aeflow, written, grid=15, steps=24):
    """The walks through the plane of CODES, decoded by CHECKPOINT (the model that made them)."""
    if codes.shape[1] < 2 or checkpoint is None or aeflow is None:
        return
    origin, axes, low, high = walk_plane(codes)
    xs = np.linspace(low[0], high[0], grid)
    ys = np.linspace(high[1], low[1], grid)  # top row: the largest y, as on a plot
    plane = np.array([[x, y] for y in ys for x in xs])
    centre = (low + high) / 2
    angles = np.linspace(0, 2 * np.pi, steps, endpoint=False)
    radius = (high - low) / 3
    circle = centre + np.stack([radius[0] * np.cos(angles), radius[1] * np.sin(angles)], axis=1)
    points_path = os.path.join(out, "walk_points.h5")
    with h5py.File(points_path, "w") as f:
        f["grid"] = (origin + plane @ axes).astype(np.float32)
        f["circle"] = (origin + circle @ axes).astype(np.float32)
    grid_images = decode_points(aeflow, checkpoint, points_path, "/grid",
                                os.path.join(out, "walk_grid.h5"))
    circle_images = decode_points(aeflow, checkpoint, points_path, "/circle",
                                  os.path.join(out, "walk_circle.h5"))
    rows, cols = grid_images.shape[1:]
    mosaic = grid_images.reshape(grid, grid, rows, cols).transpose(0, 2, 1, 3)
    fig, ax = plt.subplots(figsize=(7, 7))
    ax.imshow(mosaic.reshape(grid * rows, grid * cols), cmap="gray", vmin=0, vmax=1,
              extent=(xs[0], xs[-1], ys[-1], ys[0]), aspect="auto")
    plane_name = "codes 0 and 1" if codes.shape[1] == 2 else "the codes' principal plane"
    ax.set_title(f"{name}: decoded from a {grid} x {grid} grid over {plane_name}")
    save(fig, os.path.join(out, "walk_grid.png"), written)

    fig, axs = plt.subplots(1, steps, figsize=(0.6 * steps, 0.9))
    for ax, image in zip(axs, circle_images):
        ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        ax.axis("off")
    fig.suptitle(f"{name}: a walk around a circle in {plane_name}", fontsize=9)
    save(fig, os.path.join(out, "walk_circle.png"), written)

    fig, ax = plt.subplots(figsize=(2.5, 2.5))
    ax.axis("off")
    frame = ax.imshow(circle_images[0], cmap="gray", vmin=0, vmax=1)

    def show(i):
        frame.set_data(circle_images[i])
        return (frame,)

    movie = animation.FuncAnimation(fig, show, frames=len(circle_images), blit=True)
    gif = os.path.join(out, "walk_circle.gif")
    movie.save(gif, writer=animation.PillowWriter(fps=8), dpi=DPI)
    plt.close(fig)
    written.append(gif)


def plot_run(run_dir, aeflow, walks, tsne=False):
    out = os.path.join(run_dir, "plots")
    os.makedirs(out, exist_ok=True)
    name = title_of(run_dir)
    written = []
    with open_aeflow(os.path.join(run_dir, "metrics.h5"), "aeflow-metrics") as metrics:
        plot_reconstructions(metrics, out, name, written)
        plot_loss(metrics, out, name, written)
        plot_training(metrics, out, name, written)
        codes, labels, source, checkpoint = run_codes(run_dir, metrics)
        plot_latent(codes, labels, source, out, name, written)
        if tsne:
            plot_tsne(codes, labels, out, name, written)
        plot_per_class(metrics, out, name, written)
        plot_errors(metrics, out, name, written)
    if walks:
        plot_walks(checkpoint, codes, out, name, aeflow, written)
    written.append(report.write_run_report(run_dir, os.path.join(run_dir, "metrics.h5"), written))
    return written


# --- a sweep ---------------------------------------------------------------------------------


def plot_sweep(sweep_dir, aeflow, walks, tsne=False):
    """The sweep's pictures and page, after each finished run's own (which the page links)."""
    written = []
    with open_aeflow(os.path.join(sweep_dir, "sweep.h5"), "aeflow-sweep") as f:
        names = f["runs/run_dir"].asstr()[...]
        done = f["runs/status"].asstr()[...] == "done"
    for d in names:
        # (aeflow names run directories with safe characters; a table edited to point elsewhere
        # must not make this script write outside the sweep)
        if os.path.basename(d) != d or d in ("", ".", ".."):
            raise PlotError(f"{sweep_dir}/sweep.h5: run directory {d!r} is not a plain name")
    run_dirs = [os.path.join(sweep_dir, d) for d, is_done in zip(names, done) if is_done]
    for run_dir in run_dirs:
        if os.path.exists(os.path.join(run_dir, "metrics.h5")):
            written += plot_run(run_dir, aeflow, walks, tsne)
    return written + plot_sweep_pictures(sweep_dir)


def plot_sweep_pictures(sweep_dir):
    out = os.path.join(sweep_dir, "plots")
    os.makedirs(out, exist_ok=True)
    name = title_of(sweep_dir)
    written = []
    with open_aeflow(os.path.join(sweep_dir, "sweep.h5"), "aeflow-sweep") as f:
        runs = f["runs"]
        k = runs["k"][...]
        run_names = runs["name"].asstr()[...]
        done = runs["status"].asstr()[...] == "done"
        rmse, pca, knn = (runs[c][...] for c in ("test_rmse", "pca_rmse", "knn_accuracy"))
        curves = f["curves/val_loss"][...]
    if not done.any():
        raise PlotError(f"{sweep_dir}/sweep.h5: no run is done yet; nothing to plot")
    ks = np.unique(k[done])
    # Several runs of one k (another grid key): the best of them, as the question is "how good
    # can a code of k dimensions be".
    best = np.array([np.nanmin(rmse[done & (k == v)]) for v in ks])
    best_pca = np.array([np.nanmin(pca[done & (k == v)]) for v in ks])
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ax.plot(ks, best, "o-", label="autoencoder (best run at each k)")
    ax.plot(ks, best_pca, "s--", label="PCA")
    ax.set_xscale("log", base=2)
    ax.set_xticks(ks, [str(v) for v in ks])
    ax.set_xlabel("code width k")
    ax.set_ylabel("test RMSE")
    ax.grid(True, alpha=0.3)
    ax.legend()
    ax.set_title(f"{name}: reconstruction error against bottleneck size")
    save(fig, os.path.join(out, "sweep_rmse.png"), written)

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ax.plot(ks, [np.nanmax(knn[done & (k == v)]) for v in ks], "o-")
    ax.set_xscale("log", base=2)
    ax.set_xticks(ks, [str(v) for v in ks])
    ax.set_xlabel("code width k")
    ax.set_ylabel("kNN accuracy of the test codes")
    ax.grid(True, alpha=0.3)
    ax.set_title(f"{name}: how much of the digit the code keeps")
    save(fig, os.path.join(out, "sweep_knn.png"), written)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for row, run_name in enumerate(run_names):
        curve = curves[row] if curves.ndim == 2 else np.array([])
        epochs = np.flatnonzero(np.isfinite(curve)) + 1
        if len(epochs):
            ax.plot(epochs, curve[epochs - 1], ".-", label=run_name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation loss")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    if 0 < len(ax.get_lines()) and len(run_names) <= 16:
        ax.legend(fontsize=7)
    ax.set_title(f"{name}: validation loss of every run")
    save(fig, os.path.join(out, "sweep_curves.png"), written)
    written.append(report.write_sweep_report(sweep_dir, written))
    return written


def main():
    parser = argparse.ArgumentParser(
        description="Draw the pictures of aeflow runs and sweeps into DIR/plots/.")
    parser.add_argument("dirs", nargs="+", metavar="DIR",
                        help="a run directory (metrics.h5) or a sweep directory (sweep.h5)")
    parser.add_argument("--aeflow", help="the aeflow binary for the latent walks (default: "
                        "build/release/aeflow beside this script, else aeflow on PATH)")
    parser.add_argument("--no-walks", action="store_true",
                        help="skip the latent walks (they run aeflow decode)")
    parser.add_argument("--tsne", action="store_true",
                        help="also lay the codes out with t-SNE (python3-sklearn; slow: 3000 "
                        "codes take about 10 s on 2 cores)")
    args = parser.parse_args()
    aeflow = find_aeflow(args.aeflow)
    try:
        for directory in args.dirs:
            if os.path.exists(os.path.join(directory, "sweep.h5")):
                written = plot_sweep(directory, aeflow, not args.no_walks, args.tsne)
            elif os.path.exists(os.path.join(directory, "metrics.h5")):
                written = plot_run(directory, aeflow, not args.no_walks, args.tsne)
            else:
                raise PlotError(f"{directory}: holds neither metrics.h5 (a run) nor sweep.h5 "
                                "(a sweep)")
            for path in written:
                print(path)
    except PlotError as error:
        print(f"plot.py: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
