"""Apply step of CEASE_MARKETING (state ApplyCease)."""

from functions.cease.service import cease_marketing
from functions.requests.apply import apply_step
from functions.requests.dependencies import Stores
from functions.shared.settings import WorkflowSettings

handler = apply_step(cease_marketing, WorkflowSettings, Stores.build)
