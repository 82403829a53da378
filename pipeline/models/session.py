"""A run: one workspace and one model stack, built once per command and shared by every essay in it.

The stack, outermost first: privacy guard → redact → log → cache → limit → key scrub → provider. What the stages
filtered for this endpoint is exactly what the guard lets through to it, and the log sees every call,
whether the cache answered it or not.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pipeline.core.config import Settings, is_trusted, with_options
from pipeline.core.progress import Progress
from pipeline.core.workspace import Workspace
from pipeline.models.cache import CachingModel, LoggingModel, Store
from pipeline.models.llm import ChatModel, EssayModel, Purpose, SharedLimit
from pipeline.models.privacy import PrivacyGuard
from pipeline.models.providers import ProviderOptions, make_model, named_settings
from pipeline.models.redact import RedactingModel
from pipeline.models.scrub import KeyScrubber, ScrubbingModel


@dataclass(frozen=True)
class RunOptions:
    """What a command may change for one run."""

    provider: str | None = None
    model: str | None = None
    base_url: str | None = None
    cache: bool = True
    verbose: bool = False
    jobs: int | None = None  # calls at once across essays; default 1 in-process, `concurrency` over HTTP


@dataclass
class Run:
    workspace: Workspace
    settings: Settings
    provider: ChatModel  # the bare provider: what it is, where it sends
    llm: ChatModel  # the whole stack: what the stages call
    guard: PrivacyGuard
    limit: SharedLimit
    store: Store
    progress: Progress

    @property
    def limit_size(self) -> int:
        return self.limit.size

    @property
    def trusted(self) -> bool:
        """Whether private notes may go to this run's model."""
        return not self.provider.sends_over_http or is_trusted(self.settings, self.provider.endpoint)

    def essay_model(self, essay: str) -> EssayModel:
        return EssayModel(self.llm, Purpose(essay))

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_run(workspace: Workspace, options: RunOptions | None = None, progress: Progress | None = None) -> Run:
    options = options or RunOptions()
    progress = progress or Progress()
    settings = named_settings(
        with_options(workspace.settings, provider=options.provider, model=options.model, base_url=options.base_url)
    )
    store = Store(workspace.state_file)
    if store.recovered:
        progress.on_warning(store.recovered)
    try:
        provider = make_model(settings, ProviderOptions(verbose=options.verbose, modes=store.modes))
    except BaseException:
        store.close()
        raise
    return build_run(replace(workspace, settings=settings), provider, store, options, progress)


def build_run(workspace: Workspace, provider: ChatModel, store: Store, options: RunOptions, progress: Progress) -> Run:
    """The stack around a provider: tests pass a fake provider here."""
    settings = workspace.settings
    jobs = options.jobs or (settings.concurrency if provider.sends_over_http else 1)
    # Every answer loses anything that could be an API key before any layer stores, logs or returns it.
    limit = SharedLimit(ScrubbingModel(provider, KeyScrubber(getattr(provider, "secrets", ()))), jobs)
    model: ChatModel = CachingModel(limit, store) if options.cache else limit
    model = LoggingModel(model, store.log_call)
    if provider.sends_over_http and settings.redact:
        model = RedactingModel(model, settings.redact)
    guard = PrivacyGuard(model, trusted=is_trusted(settings, provider.endpoint))
    return Run(workspace, settings, provider, guard, guard, limit, store, progress)
