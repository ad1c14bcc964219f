"""Asking the model: the adapters, batches prepared ahead of the model, the generation path, torchrun sharding."""
