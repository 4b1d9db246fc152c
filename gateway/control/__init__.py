"""The live control plane: modules' runtime state, changed without a restart."""
