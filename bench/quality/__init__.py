"""`python -m bench.quality`: the offline reviewer against a labelled corpus of real write-ups.

See bench/quality/harness.py for how findings are matched to labels, and
bench/quality/corpus/README.md for the documents, their licences and the held-out set.
"""
