"""The chat service: live sessions, the relay from a backend stream to the sockets, payload schemas; no Flask."""
