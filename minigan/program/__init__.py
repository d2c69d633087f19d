"""The program around the engine: the shared training loop, its figures, the command line."""
