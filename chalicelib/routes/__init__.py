"""The HTTP routes, schedules and queue handlers: one Chalice Blueprint per feature.

Each handler parses its request and calls one service function with the dependencies of this
cold start (``dependencies()``, the composition root's). app.py registers every Blueprint.
"""
