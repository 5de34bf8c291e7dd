"""eventlet and engine.io fast paths: frames written directly, the hub reader, room emits, the per-token JSON."""
