"""The check suite: every graded behaviour of every contract entry, visible and hidden.

Trusted code: it imports the reference solutions to compute expected answers, so it never
ships to students and never enters a worker. ``registry.all_checks()`` lists the checks.
"""
