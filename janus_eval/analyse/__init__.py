"""Reading finished runs: the leaderboard report and its renderers, the regression gate and its
tolerances, the paper table."""
