"""Redline's benchmarks: `python -m bench` runs them all and renders docs/benchmarks.md.

One module per benchmark (fanout, cancel, pipeline, document, latency, memory), each runnable
alone as `python -m bench.<name>` and writing bench/results/<name>.json; bench/report.py renders
the page from those files. See docs/benchmarks.md for what each one measures.
"""
