"""The GAN variants, one module each, and the registry the trainer and the command line read."""
