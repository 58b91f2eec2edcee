"""course_lib: the tested helpers behind the notebooks of "Deep learning for image synthesis".

Modules, one idea each (notebook 00 tours them):

- `course_lib.data`: datasets (MNIST, Fashion-MNIST, an offline stand-in) and `tf.data` pipelines;
- `course_lib.run`: seeds, the device report, a run's output folder and `metrics.json`;
- `course_lib.plotting`: every figure (image grids, reconstructions, curves, latent plots,
  GAN monitors, the widgets' static views);
- `course_lib.models`: one module per model family (autoencoder, vae, gan, conditional_gan,
  wgan_gp, autoregressive, diffusion), the digit classifier behind the FID, and what the families
  share (`_base`: the sampling contract; `_blocks`: the DCGAN building blocks);
- `course_lib.metrics`: pure functions on arrays (reconstruction, likelihood, FID);
- `course_lib.training`: training helpers (monitors, resumable training);
- `course_lib.progress`: a live progress bar for training (one line in executed copies);
- `course_lib.distribute`: training on several devices or machines with `tf.distribute`;
- `course_lib.widgets`: ipywidgets explorers, each with a static fallback;
- `course_lib.exercises`: the checks used by the exercises.

Importing `course_lib` itself is cheap: TensorFlow loads when a module needs it.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
