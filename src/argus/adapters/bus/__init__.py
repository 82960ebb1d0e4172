"""Event bus adapters: in-process (``memory``), NATS JetStream (``nats``), Redis Streams.

Import the module you need; the broker clients are only imported with their adapter.
"""
