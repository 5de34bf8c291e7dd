"""The faces: Socket.IO events, the page and its /api views, /v1."""
