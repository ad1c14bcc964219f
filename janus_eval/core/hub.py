"""The Hugging Face hub, reachable or not: one probe before anything is downloaded."""

from __future__ import annotations

import os


def go_offline_if_unreachable(timeout: float = 3.0) -> bool:
    """Probe the hub once; when it cannot be reached, switch the HF libraries to
    offline mode so cached data still loads and missing data fails at once
    (instead of minutes of retries). Returns True when the hub is reachable."""
    import socket

    if os.environ.get("HF_HUB_OFFLINE") == "1":
        return False
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co").split("://")[-1].split("/")[0]
    host, _, port = endpoint.partition(":")
    try:
        socket.create_connection((host, int(port or 443)), timeout=timeout).close()
        return True
    except OSError:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["HF_DATASETS_OFFLINE"] = "1"
        try:
            import datasets.config
            import huggingface_hub.constants

            huggingface_hub.constants.HF_HUB_OFFLINE = True
            datasets.config.HF_HUB_OFFLINE = True
        except (ImportError, AttributeError):
            pass
        return False
