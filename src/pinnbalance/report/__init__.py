"""Reports of finished (and running) trainings: what a person reads to trust a run.

    tables.py       Markdown tables: schemes compared over seeds, the runs of a sweep
    html.py         one self-contained HTML file: a table and its figures embedded
    figures.py      PNG figures: fields, losses, errors, weights, seed spread, gradient histograms
    tensorboard.py  TensorBoard event files of a run's history, written as it grows

Each takes plain arrays and dicts (histories, summaries) and writes files atomically; nothing
here trains. matplotlib is needed for figures only (``pip install "pinnbalance[plot]"``).

Example:
    >>> from pinnbalance.report.tables import median_range
    >>> median_range([1.0, 2.0, 4.0])
    '2.00e+00 [1.00e+00, 4.00e+00]'
"""
