"""Benchmarks of lwf_track, run from the repository root as ``python -m bench.<name>``.

Importing this package imports nothing: ``bench/boxmot_runner.py`` also runs in BoxMOT's own
virtualenv, where lwf_track is not installed.
"""
