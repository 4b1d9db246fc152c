"""Which side answers a request: the module's state, its canary bucket, the sticky key."""
