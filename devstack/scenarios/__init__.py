"""Scenarios to run against the local stack (``make run`` in another terminal): each sends the
platforms' own payloads to the running API, lets the stack's queue worker send, and prints the
e-mails that came out of the emulator's SES. ``python -m devstack.scenarios.<name>``."""
