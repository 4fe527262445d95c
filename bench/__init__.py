"""The load harness: ``make bench`` (``python -m bench``) writes docs/benchmarks.md.

Layout: ``__main__`` (the orchestrator, Django-free), ``run`` (one scenario in a child process on
its own fresh database), ``scenarios/`` (one module per scenario), ``baseline/`` (the minimal
Django project every throughput is compared with), and the plumbing they share.
"""
