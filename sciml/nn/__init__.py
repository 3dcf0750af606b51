"""Shared neural-network building blocks: MLP, modified MLP, CNN encoder, Fourier
features, spectral convolution, `Constant` (a float array no optimizer moves), and
named weight initialisations (`initialise`)."""

from ._activations import ACTIVATIONS as ACTIVATIONS, get_activation as get_activation
from ._cnn import CNN as CNN
from ._constant import Constant as Constant
from ._fourier import FourierFeatures as FourierFeatures
from ._init import INITIALISATIONS as INITIALISATIONS, initialise as initialise
from ._mlp import MLP as MLP
from ._modified_mlp import ModifiedMLP as ModifiedMLP
from ._spectral import (
    DFT_LIMIT as DFT_LIMIT,
    SPECTRAL_TRANSFORMS as SPECTRAL_TRANSFORMS,
    SpectralConv as SpectralConv,
)

__all__ = [
    "ACTIVATIONS",
    "DFT_LIMIT",
    "INITIALISATIONS",
    "CNN",
    "MLP",
    "Constant",
    "FourierFeatures",
    "ModifiedMLP",
    "SPECTRAL_TRANSFORMS",
    "SpectralConv",
    "get_activation",
    "initialise",
]
