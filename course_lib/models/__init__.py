"""Keras 3 models, one module per family.

Networks (encoder, decoder, generator, discriminator, ...) are built by
`build_*` functions that return named functional models; the algorithm that
trains them lives in a thin `keras.Model` subclass with its own `train_step`.
Every custom class is registered for safe `.keras` saving and loading.
"""
