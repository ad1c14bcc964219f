"""The leaderboard report's parts: gathering runs, tables, plots, sample views, HTML and markdown."""
