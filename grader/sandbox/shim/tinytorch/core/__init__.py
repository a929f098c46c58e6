"""Core building blocks of the shim: ``tensor`` (Tensor with autograd, Function), ``autograd``,
``layers``, ``activations`` and ``spatial``, the modules TinyTorch's acceleration files and
notebooks import."""
