"""One logger and one metrics emitter for every worker (Powertools), configured by POWERTOOLS_* variables."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics

# Each function's own name (the template sets POWERTOOLS_SERVICE_NAME): it is the metrics' service
# dimension, so one metric name (PoisonRecords) stays apart per worker.
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "par-workers"
logger = Logger(service=SERVICE)
metrics = Metrics(namespace="ParPlatform", service=SERVICE)
