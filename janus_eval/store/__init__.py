"""The run folder on disk: records, manifest, scores, images; reading runs back for report and compare."""
