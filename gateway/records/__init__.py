"""The gateway's own records: its tables, where they live, their migrations and the parity
evidence read back from them."""
