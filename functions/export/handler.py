"""Apply step of EXPORT: write the member's data as CSV to the exports bucket."""

from functions.export.service import export_customer_data
from functions.shared.apply_step import apply_step_handler
from functions.shared.settings import ExportSettings

handler = apply_step_handler(export_customer_data, ExportSettings)
