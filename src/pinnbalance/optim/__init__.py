"""Optimizers as optax ``GradientTransformation``s: SOAP (Shampoo's eigenbasis + Adam)."""

from pinnbalance.optim.soap import ScaleBySoapState, scale_by_soap, soap

__all__ = ["ScaleBySoapState", "scale_by_soap", "soap"]
