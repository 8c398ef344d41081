"""Apply step of RESUME_MARKETING (state ApplyResume)."""

from functions.requests.apply import apply_step
from functions.requests.dependencies import Stores
from functions.resume.service import resume_marketing
from functions.shared.settings import WorkflowSettings

handler = apply_step(resume_marketing, WorkflowSettings, Stores.build)
