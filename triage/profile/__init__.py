"""Column profiles from mergeable accumulators; never raw values."""

from triage.profile.column import ColumnProfile, TableProfile

__all__ = ["ColumnProfile", "TableProfile"]
