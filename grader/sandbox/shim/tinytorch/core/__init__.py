"""Core building blocks of the shim (only ``tensor`` is provided)."""
