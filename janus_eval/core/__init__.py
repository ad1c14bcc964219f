"""The core types every stage shares (task config, requests, samples, protocol, errors, paths, files).

It imports nothing else of the package."""
