"""Apply step of FORGET: erase the customer (and with cascade their children), keep them out."""

from functions.forget.service import forget_customer
from functions.shared.apply_step import apply_step_handler
from functions.shared.settings import ForgetSettings

handler = apply_step_handler(forget_customer, ForgetSettings)
