"""The self-check runtime: what runs a submission's code and judges its answers.

It ships to students with the release (the protocol, the worker, the sandbox launcher, the
comparators and the tolerances); it never contains reference code or hidden checks.
"""
