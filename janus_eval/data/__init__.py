"""Samples from the hub, a local copy, the shipped files or the demo sets; image decoding."""
