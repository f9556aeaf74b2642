"""Email through a transactional outbox: queued with the change, sent later by a worker."""
