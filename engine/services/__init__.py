"""Use cases: definitions, instances, task queues, timers, audit and people."""
