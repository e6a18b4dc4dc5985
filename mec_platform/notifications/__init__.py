"""Reliable notification delivery: a transactional outbox drained by a separate worker process."""
