"""Files in and out: the MNIST files, checkpoints, and the atomic write both rely on."""
