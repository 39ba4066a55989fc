"""The local stack: an embedded AWS emulator, the tables, a demo shop.

Development tooling only; it is not packaged into the Lambda.
"""
