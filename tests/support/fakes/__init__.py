"""Service tests without the emulator: ``deps_on_fakes(store)`` builds a ``Deps`` whose repositories keep
their items in this process's memory, on a ``FakeClock``.

What is faked, and why at that seam: the repositories (chalicelib/store) share one table and
commit a use case's whole effect in one conditional transaction that spans several of them
(``Change.items`` from program_store, results counters, the outbox). So the in-memory store
sits under all of them at once: ``InMemoryStore`` gives the real repositories a DynamoDB that
lives in memory in this process (moto's DynamoDB and SQS models called directly by botocore, with
the emulator's patches: no server, no HTTP, no thread hand-off). Optimistic version conflicts,
idempotency records and cancelled conditional transactions therefore behave exactly as on the
emulator; tests/contract runs the same contract tests against both to keep it so.

SES and SQS are in memory the same way (the composition root's own adapters run on them); a test
may pass ``tests.support.mail.RecordingMessenger`` instead of SES. The fixtures (``memory_store``,
``fake_deps``, ``memory_client``) are in tests/support/fakes/fixtures.py.
"""
from __future__ import annotations

from tests.support.fakes.deps import deps_on_fakes
from tests.support.fakes.store import InMemoryStore, in_memory_store

__all__ = ["InMemoryStore", "deps_on_fakes", "in_memory_store"]
