"""Pictures of detections and comparisons (matplotlib and PIL are imported by
the functions that draw)."""
