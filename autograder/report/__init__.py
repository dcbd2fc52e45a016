"""Student feedback: plots against the target and the self-contained HTML report.

Ships with the student release: it needs only probes and replies (plain data), never the
reference solutions or the hidden checks.
"""
