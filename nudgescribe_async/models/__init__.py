"""Plain attrs data classes, one module per API area. Wire conversion lives in `_convert.py`."""
