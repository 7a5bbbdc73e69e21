"""An aeflow checkpoint as a torch.nn.Module that computes what aeflow computes.

Layer i is y = act(x W^T + b) with W [out, in] as stored; a tied decoder layer uses its encoder
layer's weight transposed (the same Parameter, so training the module keeps them tied). The
output is the reconstruction after the output activation (with --loss bce aeflow trains on the
logits and applies the sigmoid when it reconstructs; so does this module), the code is the
encoder's last layer after the code activation.
"""

import torch
from torch import nn

from .files import read_checkpoint

ACTIVATIONS = {
    "sigmoid": nn.Sigmoid,
    "relu": nn.ReLU,
    "elu": nn.ELU,  # alpha 1, as aeflow's oneDNN eltwise_elu
    "tanh": nn.Tanh,
    "silu": nn.SiLU,  # oneDNN's swish with alpha 1
    "gelu": nn.GELU,  # the exact (erf) form, as aeflow's oneDNN eltwise_gelu_erf
    "linear": nn.Identity,
}


class Dense(nn.Module):
    """y = act(x W^T + b); TRANSPOSED: W is another layer's weight, used as W^T (tied)."""

    def __init__(self, weight, bias, activation, transposed=False):
        super().__init__()
        self.weight = weight
        self.bias = bias
        self.transposed = transposed
        self.activation = ACTIVATIONS[activation]()

    def forward(self, x):
        weight = self.weight.t() if self.transposed else self.weight
        return self.activation(nn.functional.linear(x, weight, self.bias))


class Autoencoder(nn.Module):
    """encoder and decoder are nn.Sequential of Dense layers; forward gives the reconstruction,
    encode the code, decode the reconstruction of a code."""

    def __init__(self, encoder, decoder, spec):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.spec = spec

    def encode(self, x):
        return self.encoder(x)

    def decode(self, code):
        return self.decoder(code)

    def forward(self, x):
        return self.decoder(self.encoder(x))


def to_torch(path):
    """The checkpoint at PATH as an Autoencoder (float32, on the CPU, in eval mode: aeflow's
    dropout acts only while training)."""
    model = read_checkpoint(path)["model"]
    layers = model["layers"]
    n_encoder = len(model["encoder"]) - 1
    weights = [nn.Parameter(torch.from_numpy(layer["weight"].copy()))
               if layer["weight"] is not None else None for layer in layers]
    modules = []
    for i, layer in enumerate(layers):
        bias = nn.Parameter(torch.from_numpy(layer["bias"].copy()))
        activation = layer["activation"]
        if layer["tied_to"] is not None:
            modules.append(Dense(weights[layer["tied_to"]], bias, activation, transposed=True))
        else:
            modules.append(Dense(weights[i], bias, activation))
    net = Autoencoder(nn.Sequential(*modules[:n_encoder]), nn.Sequential(*modules[n_encoder:]),
                      model)
    return net.eval()
