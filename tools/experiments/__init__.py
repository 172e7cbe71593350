"""The paper's ablations (Tables I, IV, V and the weighting methods) run on a benchmark with K
seeds per setting, compared by seed-paired differences, and summarised from committed result files.

``settings`` names the grids, ``benchmarks`` prepares the data, ``runner`` trains and evaluates,
``results`` stores one ``result.json`` per run, ``stats`` and ``tables`` summarise them,
``figures`` draws the LWF weight curves, ``paper`` holds the published numbers.
"""
