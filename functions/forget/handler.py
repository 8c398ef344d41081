"""Apply step of FORGET (state ApplyForget)."""

from functions.forget.service import forget_customer
from functions.requests.apply import apply_step
from functions.requests.dependencies import ExportingStores
from functions.shared.settings import ForgetSettings

handler = apply_step(forget_customer, ForgetSettings, ExportingStores.from_settings)
