from contracts.runtime.migrations import run_env
from notifier.store import metadata

run_env(metadata)
