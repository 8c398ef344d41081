"""The one way a (non-API) Lambda function is wired: its event is parsed into a typed model, its
typed dependencies are built from its settings once per cold start, and the work is one call.
A test passes fakes with `use(...)` and invokes the function as Lambda would.

    @lambda_function(StepEvent, WorkflowSettings, Stores.build, correlation_id_path="requestId")
    def handler(event: StepEvent, deps: Stores) -> dict[str, Any]:
        return validate_request(event.request_id, deps)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from functions.shared.observability import logger, metrics
from functions.shared.settings import Settings

E = TypeVar("E", bound=BaseModel)
S = TypeVar("S", bound=Settings)
D = TypeVar("D")


class LambdaFunction(Generic[E, D]):
    def __init__(
        self,
        work: Callable[[E, D], Any],
        event: type[E],
        settings: type[Settings],
        build: Callable[[], D],
        correlation_id_path: str | None,
        publishes_metrics: bool,
    ) -> None:
        self.__name__ = work.__name__
        self.__doc__ = work.__doc__
        self._work = work
        self.event = event
        # What the function reads from its environment (infra/functions.py declares the same).
        self.settings = settings
        self._build = build
        self._deps: D | None = None
        run = logger.inject_lambda_context(correlation_id_path=correlation_id_path)(self._run)
        self._handler = metrics.log_metrics(run) if publishes_metrics else run

    def __call__(self, event: dict[str, Any], context: LambdaContext) -> Any:
        return self._handler(event, context)

    def dependencies(self) -> D:
        """Built on first use (the cold start), then kept for the life of the process."""
        if self._deps is None:
            self._deps = self._build()
        return self._deps

    def use(self, deps: D | None) -> None:
        """Run with these dependencies (a test's fakes); None builds them afresh."""
        self._deps = deps

    def _run(self, event: dict[str, Any], context: LambdaContext) -> Any:
        return self._work(parse(event=event, model=self.event), self.dependencies())


def lambda_function(
    event: type[E],
    settings: type[S],
    build: Callable[[S], D],
    *,
    correlation_id_path: str | None = None,
    publishes_metrics: bool = False,
) -> Callable[[Callable[[E, D], Any]], LambdaFunction[E, D]]:
    def wire(work: Callable[[E, D], Any]) -> LambdaFunction[E, D]:
        return LambdaFunction(
            work,
            event,
            settings,
            lambda: build(settings.from_env()),
            correlation_id_path,
            publishes_metrics,
        )

    return wire
