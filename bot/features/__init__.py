"""Engine features; each is one module that registers its own commands."""
