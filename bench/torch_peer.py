#!/usr/bin/python3
"""The PyTorch peer of aeflow's training-step benchmark (bench/train_step.cpp): the same
autoencoder (encoder widths, decoder mirrored, hidden/code activation, sigmoid output), Glorot
uniform weights and zero biases, loss (MSE, or BCE from logits), Adam lr 1e-3, batch size,
thread count and MNIST data, one process. Times training steps after a warm-up and prints one
line that bench/compare.sh parses: 'torch_step ... samples_per_s=X'.

The peer runs at its best: denormals flushed, and of PyTorch's own ways to run the same step
(--variant: eager with the single-tensor Adam, eager with the multi-tensor Adam (foreach=True),
or the model traced by torch.jit with the multi-tensor Adam) it times each for --trial-steps and
then times the fastest; the line names it (variant=...). PyTorch 1.13 trains on CPU through its
BLAS; its oneDNN layouts (to_mkldnn) and torch.jit.freeze are for inference only, and
torch.compile came with 2.0.

Run with Debian's python3-torch:
  /usr/bin/python3 bench/torch_peer.py --encoder 784,512,128,10 --activation sigmoid --batch 64
"""
import argparse
import gzip
import os
import time

import numpy as np
import torch


def read_images(path):
    """An IDX image file (raw or .gz) as a [count, rows*cols] uint8 array."""
    if not os.path.exists(path):
        path += ".gz"
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        data = f.read()
    count, rows, cols = (int.from_bytes(data[4 * i:4 * i + 4], "big") for i in (1, 2, 3))
    return np.frombuffer(data, np.uint8, offset=16).reshape(count, rows * cols)


def blas_in_use():
    """The BLAS the process has loaded and the kernel it chose ('openblas 0.3.21 SkylakeX'), from
    threadpoolctl (python3-threadpoolctl); 'unknown' without it. Debian's torch calls whatever
    libblas.so.3 the alternatives system points to: the reference BLAS is many times slower
    than OpenBLAS (install libopenblas0-pthread)."""
    try:
        import threadpoolctl
    except ImportError:
        return "unknown (no threadpoolctl)"
    found = [f"{i.get('internal_api')} {i.get('version') or ''} {i.get('architecture') or ''}"
             .strip().replace(" ", "-")
             for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
    return ",".join(found) or "reference-or-unknown(" + os.path.realpath(
        "/usr/lib/x86_64-linux-gnu/libblas.so.3") + ")"


def build_model(widths, activation, logits=False):
    """Encoder WIDTHS, decoder mirrored; sigmoid output unless LOGITS (BCE takes logits)."""
    act = {"sigmoid": torch.nn.Sigmoid, "relu": torch.nn.ReLU, "elu": torch.nn.ELU,
           "tanh": torch.nn.Tanh}[activation]
    sizes = widths + widths[-2::-1]
    layers = []
    for i in range(len(sizes) - 1):
        linear = torch.nn.Linear(sizes[i], sizes[i + 1])
        torch.nn.init.xavier_uniform_(linear.weight)  # Glorot uniform, as aeflow's default
        torch.nn.init.zeros_(linear.bias)
        layers.append(linear)
        if i < len(sizes) - 2:
            layers.append(act())
        elif not logits:
            layers.append(torch.nn.Sigmoid())
    return torch.nn.Sequential(*layers)


VARIANTS = ["eager", "foreach", "jit-foreach"]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", default="data/mnist")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--encoder", default="784,512,128,10")
    p.add_argument("--activation", default="sigmoid")
    p.add_argument("--loss", default="mse", choices=["mse", "bce"])
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--warmup", type=int, default=30)
    p.add_argument("--variant", default="best", choices=["best"] + VARIANTS,
                   help="how PyTorch runs the step; best: time each, then the fastest")
    p.add_argument("--trial-steps", type=int, default=100,
                   help="--variant best: steps each variant is timed for before the choice")
    p.add_argument("--keep-denormals", action="store_true",
                   help="PyTorch's default; without it denormals are flushed to zero (faster)")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    # Adam's second moments of tiny gradients go denormal, and Debian's build then spends ~70%
    # of the step in slow-path div/sqrt (3.3x slower at batch 64). Flushing them is the peer's
    # best configuration, so it is the default here.
    torch.set_flush_denormal(not args.keep_denormals)
    images = read_images(os.path.join(args.data, "train-images-idx3-ubyte"))
    x_all = torch.from_numpy(images.astype(np.float32) / 255.0)
    widths = [int(w) for w in args.encoder.split(",")]
    loss_fn = torch.nn.BCEWithLogitsLoss() if args.loss == "bce" else torch.nn.MSELoss()
    full_batches = x_all.shape[0] // args.batch

    def make_step(variant):
        """A training step of a fresh model (the same seed for every variant)."""
        torch.manual_seed(1)
        model = build_model(widths, args.activation, logits=args.loss == "bce")
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, foreach=variant != "eager")
        if variant == "jit-foreach":
            model = torch.jit.trace(model, x_all[:args.batch])
        state = {"perm": None, "i": full_batches}

        def step():
            if state["i"] == full_batches:  # a new epoch: a new permutation, full batches only
                state["perm"], state["i"] = torch.randperm(x_all.shape[0]), 0
            i = state["i"]
            state["i"] += 1
            x = x_all[state["perm"][i * args.batch:(i + 1) * args.batch]]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), x)
            loss.backward()
            opt.step()
        return step

    def rate(step, steps):
        for _ in range(args.warmup):
            step()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        return args.batch * steps / (time.perf_counter() - start)

    variant = args.variant
    trials = ""
    if variant == "best":
        measured = {v: rate(make_step(v), args.trial_steps) for v in VARIANTS}
        variant = max(measured, key=measured.get)
        trials = " trials=" + ",".join(f"{v}:{r:.0f}" for v, r in measured.items())
    samples_per_s = rate(make_step(variant), args.steps)
    openblas_env = [name for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
                    if name in os.environ]
    print(f"torch_step encoder={args.encoder} activation={args.activation} loss={args.loss} "
          f"batch={args.batch} threads={torch.get_num_threads()} torch={torch.__version__} "
          f"denormals={'kept' if args.keep_denormals else 'flushed'} blas={blas_in_use()} "
          f"openblas_env={','.join(openblas_env) or 'unset'} variant={variant}{trials} "
          f"samples_per_s={samples_per_s:.0f}", flush=True)


if __name__ == "__main__":
    main()
