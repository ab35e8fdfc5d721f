"""Safety scan of model files: pickles, Keras Lambda layers, GGUF templates."""
