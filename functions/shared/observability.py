"""Powertools Logger and Metrics, configured once. Logs carry customer and request ids only:
never names, e-mails or phones."""

import os

from aws_lambda_powertools import Logger, Metrics

NAMESPACE = "PrivacyFunctions"
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "privacy-functions")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
