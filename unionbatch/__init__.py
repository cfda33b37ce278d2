"""Batch processor for a trade-union office's Excel forms (慰问名单 and others).

Stages, each its own module, data flowing one way:
read → recognise → normalise → validate → crosscheck → compute → write/annotate → report.
"""

__version__ = "0.1.0"
