"""The report pages scripts/plot.py writes: RUN/report.html and SWEEP/report.html.

One static page each, self-contained (the pictures are embedded as data: URIs), so it can be
mailed or copied off a cluster as one file. Every text that comes from a file (configuration,
names, paths) is escaped: a job file or a run name cannot put markup into the page.
"""

import base64
import html
import math
import os
import urllib.parse

import h5py
import numpy as np

STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }
th { background: #eee; } td.text { text-align: left; }
img { max-width: 100%; margin: 0.5em 0; border: 1px solid #ddd; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
.muted { color: #777; }
"""


def text(value):
    return html.escape(str(value), quote=True)


def number(value, digits=4):
    value = float(value)
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def picture(path, caption):
    kind = "image/gif" if path.endswith(".gif") else "image/png"
    with open(path, "rb") as f:
        data = base64.b64encode(f.read()).decode("ascii")
    return (f'<figure><img src="data:{kind};base64,{data}" alt="{text(caption)}">'
            f"<figcaption class=\"muted\">{text(caption)}</figcaption></figure>")


def table(header, rows):
    """HEADER: column names; ROWS: lists of cells already made safe (text() or number()). The
    first column is text, the others numbers."""
    head = "".join(f"<th>{text(h)}</th>" for h in header)
    body = ""
    for row in rows:
        cells = [f'<td class="text">{row[0]}</td>'] + [f"<td>{cell}</td>" for cell in row[1:]]
        body += "<tr>" + "".join(cells) + "</tr>"
    return f"<table><tr>{head}</tr>{body}</table>"


def page(title, body):
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{text(title)}</title><style>{STYLE}</style></head>"
            f"<body><h1>{text(title)}</h1>{body}</body></html>\n")


def write(path, content):
    """PATH, written whole or not at all (a reader never sees half a page)."""
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(content)
    os.replace(temporary, path)


CAPTIONS = {
    "reconstructions.png": "test inputs over their reconstructions",
    "loss.png": "loss per epoch",
    "training.png": "fixed images reconstructed as training went on",
    "training.gif": "the same, every epoch, animated",
    "latent.png": "the codes, coloured by digit",
    "latent_tsne.png": "the codes laid out by t-SNE",
    "per_class.png": "error per digit beside PCA's",
    "errors.png": "distribution of per-image error",
    "walk_grid.png": "decoded from a grid over the codes' plane",
    "walk_circle.png": "decoded along a circle",
    "walk_circle.gif": "the circle walk, animated",
    "sweep_rmse.png": "test RMSE against k, with PCA",
    "sweep_knn.png": "kNN accuracy of the codes against k",
    "sweep_curves.png": "every run's validation loss",
}


def write_run_report(run_dir, metrics_path, pictures):
    """RUN_DIR/report.html from its metrics.h5 and the pictures drawn; returns its path."""
    with h5py.File(metrics_path, "r") as f:
        config = f.attrs["config"]
        s = dict(f["summary"].attrs)
        k = int(f["pca"].attrs["k"])
        per_class = {name: f["per_class"][name][...] for name in f["per_class"]}
        checkpoint = f.attrs.get("checkpoint", "")
        split = f.attrs.get("split", "test")
    name = os.path.basename(os.path.normpath(run_dir))
    summary = table(
        ["", "autoencoder", f"PCA, k = {k}"],
        [["rmse", number(s["rmse"]), number(s["pca_rmse"])],
         ["mse", number(s["mse"], 6), number(s["pca_mse"], 6)],
         ["bce", number(s["bce"]), "-"], ["mae", number(s["mae"]), "-"],
         ["psnr (dB)", number(s["psnr"], 2), "-"], ["ssim", number(s["ssim"]), "-"],
         ["kNN accuracy of the codes", number(s["knn_accuracy"]), "-"]])
    classes = table(
        ["digit", "images", "rmse", "PCA rmse", "ssim", "kNN accuracy"],
        [[text(int(label)), text(int(count)), number(math.sqrt(mse)), number(math.sqrt(pca)),
          number(ssim), number(knn)]
         for label, count, mse, pca, ssim, knn in zip(
             per_class["label"], per_class["count"], per_class["mse"], per_class["pca_mse"],
             per_class["ssim"], per_class["knn_accuracy"])])
    figures = "".join(picture(p, CAPTIONS.get(os.path.basename(p), os.path.basename(p)))
                      for p in pictures)
    body = (f"<p>{text(int(s['count']))} {text(split)} images, model "
            f"<code>{text(checkpoint)}</code>.</p>"
            f"<h2>Reconstruction beside PCA</h2>{summary}"
            f"<h2>Per digit</h2>{classes}<h2>Pictures</h2>{figures}"
            f"<h2>Configuration</h2><pre>{text(config)}</pre>")
    path = os.path.join(run_dir, "report.html")
    write(path, page(f"aeflow run {name}", body))
    return path


def write_sweep_report(sweep_dir, pictures):
    """SWEEP_DIR/report.html: every run of sweep.h5 (linked to its own report when it has one),
    the sweep's pictures and its job; returns its path."""
    with h5py.File(os.path.join(sweep_dir, "sweep.h5"), "r") as f:
        r = f["runs"]
        columns = {c: r[c].asstr()[...] for c in ("name", "run_dir", "status", "error")}
        columns.update({c: r[c][...] for c in ("k", "test_rmse", "pca_rmse", "knn_accuracy",
                                               "epochs", "wall_seconds")})
        config = f.attrs["config"]
    rows = []
    for i in np.argsort(columns["k"], kind="stable"):
        run_dir = columns["run_dir"][i]
        name = text(columns["name"][i])
        if os.path.exists(os.path.join(sweep_dir, run_dir, "report.html")):
            href = urllib.parse.quote(run_dir, safe=",=+") + "/report.html"
            name = f'<a href="{text(href)}">{name}</a>'
        status = text(columns["status"][i])
        if columns["error"][i]:
            status += f'<br><span class="muted">{text(columns["error"][i])}</span>'
        rows.append([name, text(int(columns["k"][i])), status, number(columns["test_rmse"][i]),
                     number(columns["pca_rmse"][i]), number(columns["knn_accuracy"][i]),
                     text(int(columns["epochs"][i])), number(columns["wall_seconds"][i], 1)])
    runs = table(["run", "k", "status", "test rmse", "PCA rmse", "kNN accuracy", "epochs",
                  "wall s"], rows)
    figures = "".join(picture(p, CAPTIONS.get(os.path.basename(p), os.path.basename(p)))
                      for p in pictures)
    name = os.path.basename(os.path.normpath(sweep_dir))
    body = (f"<h2>Runs</h2>{runs}<h2>Pictures</h2>{figures}"
            f"<h2>The sweep's job</h2><pre>{text(config)}</pre>")
    path = os.path.join(sweep_dir, "report.html")
    write(path, page(f"aeflow sweep {name}", body))
    return path
