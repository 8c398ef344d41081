"""Apply step of RESUME_MARKETING: lift the restriction and the suppression entries it made."""

from functions.resume.service import resume_marketing
from functions.shared.apply_step import apply_step_handler

handler = apply_step_handler(resume_marketing)
