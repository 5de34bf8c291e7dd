"""One process (nothing shared) or several on Redis: claims, token logs, presence, rate limits, the Redis link."""
