"""Shadow traffic: capture, replay to v2, compare, record."""
