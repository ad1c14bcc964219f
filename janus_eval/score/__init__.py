"""What every scorer shares: the scorer contract and helpers, choice extraction, options,
and the judges (outside models)."""
