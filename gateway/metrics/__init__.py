"""What the gateway counts for Prometheus, across every worker process, and how it is read."""
