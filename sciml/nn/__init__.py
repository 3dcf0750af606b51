"""Shared neural-network building blocks: MLP, Fourier features, spectral convolution."""

from ._activations import ACTIVATIONS as ACTIVATIONS, get_activation as get_activation
from ._fourier import FourierFeatures as FourierFeatures
from ._mlp import MLP as MLP
from ._spectral import SpectralConv as SpectralConv

__all__ = ["ACTIVATIONS", "MLP", "FourierFeatures", "SpectralConv", "get_activation"]
