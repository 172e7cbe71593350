"""The project's command-line tools; run the packaged ones from the repository root as
``python -m tools.<name>`` (this package shadows the ``tools`` folder detectron2's wheel installs).
"""
