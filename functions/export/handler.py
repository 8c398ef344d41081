"""Apply step of EXPORT (state ApplyExport)."""

from functions.export.service import export_customer_data
from functions.requests.apply import apply_step
from functions.requests.dependencies import ExportingStores
from functions.shared.settings import ExportSettings

handler = apply_step(export_customer_data, ExportSettings, ExportingStores.from_settings)
