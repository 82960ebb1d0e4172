"""The edge node's adapters (``argus edge``): its durable outbox, its HTTP link, its local files."""
