"""One logger, tracer-free metrics setup for every worker (Powertools), configured by POWERTOOLS_* variables."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="par-workers")
metrics = Metrics(namespace="ParPlatform", service="par-workers")
