"""Stage 4: edges model <- datasets, hyperparameters, runs."""
