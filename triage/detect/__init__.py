"""Detection of sensitive columns: header, value and text evidence -> one verdict per column.

>>> det = TableDetector()
>>> for batch in source.batches():
...     det.update(batch)
>>> findings = det.finish()
"""

from triage.detect.base import Detector
from triage.detect.findings import ColumnFinding, findings_document
from triage.detect.table import TableDetector

__all__ = ["ColumnFinding", "Detector", "TableDetector", "findings_document"]
