#!/usr/bin/python3
"""The PyTorch peer of `aeflow train`: the same autoencoder, loss, optimizer, global batch and
process count, trained with DistributedDataParallel (gloo) on MNIST, one thread per process.
Prints one line: 'torch_ddp procs=P batch=B samples_per_s=X'.

Run with Debian's python3-torch: /usr/bin/python3 bench/torch_ddp_peer.py --procs 2 --batch 128
"""
import argparse
import gzip
import os
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from torch_peer import blas_in_use, build_model, read_images


def worker(rank, args):
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # the peer's best configuration: see torch_peer.py
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(args.port))
    if args.procs > 1:
        dist.init_process_group("gloo", rank=rank, world_size=args.procs)
    torch.manual_seed(args.seed)
    images = read_images(os.path.join(args.data, "train-images-idx3-ubyte"))
    x_all = torch.from_numpy(images[: args.train_limit].astype(np.float32) / 255.0)
    model = build_model([int(w) for w in args.encoder.split(",")], args.activation)
    if args.procs > 1:
        model = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.MSELoss()
    local = args.batch // args.procs
    g = torch.Generator().manual_seed(args.seed)

    def step():
        idx = torch.randint(0, x_all.shape[0], (args.batch,), generator=g)
        x = x_all[idx[rank * local:(rank + 1) * local]]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), x)
        loss.backward()
        opt.step()

    for _ in range(args.warmup):
        step()
    if args.procs > 1:
        dist.barrier()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    if args.procs > 1:
        dist.barrier()
    elapsed = time.perf_counter() - start
    if rank == 0:
        print(f"torch_ddp procs={args.procs} batch={args.batch} blas={blas_in_use()} "
              f"samples_per_s={args.batch * args.steps / elapsed:.0f}", flush=True)
    if args.procs > 1:
        dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", default="data/mnist")
    p.add_argument("--procs", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--encoder", default="784,512,128,10")
    p.add_argument("--activation", default="sigmoid")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--warmup", type=int, default=30)
    p.add_argument("--train-limit", type=int, default=55000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--port", type=int, default=29511)
    args = p.parse_args()
    if args.procs == 1:
        worker(0, args)
    else:
        mp.spawn(worker, args=(args,), nprocs=args.procs, join=True)


if __name__ == "__main__":
    main()
