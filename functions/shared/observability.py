"""Powertools Logger and Metrics, configured once. Logs carry customer and request ids only:
never names, e-mails or phones."""

from aws_lambda_powertools import Logger, Metrics

NAMESPACE = "PrivacyFunctions"

logger = Logger()
metrics = Metrics(namespace=NAMESPACE)
