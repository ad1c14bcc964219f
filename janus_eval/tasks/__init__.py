"""One folder per benchmark (task.yaml, scorer.py and whatever else is its own) and the registry that loads them."""
