"""The report stage: the impact summary, its safeguards, and its encryption.

``build_summary`` (summary.py) turns the scan's aggregated facts into a document
that holds counts, category ids, region codes and months only; small counts are
suppressed (suppression.py), severity follows ENISA (severity.py), notification
duties are hinted (notify.py), and every rendering leaves the process only as
age ciphertext (crypto.py).
"""
