"""Evaluation: the Parzen-window protocol, the MNIST classifier, IS, FID, precision and recall."""
