"""Apply step of CEASE_MARKETING: restrict processing for marketing; loyalty keeps working."""

from functions.cease.service import cease_marketing
from functions.shared.apply_step import apply_step_handler

handler = apply_step_handler(cease_marketing)
