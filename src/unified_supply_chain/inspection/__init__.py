"""Stage 2: what each classified file becomes (model, dataset, hyperparameters, library)."""
