"""One module per detector; each defines ``DETECTOR``. Listed in ``triage.detect.registry``."""
