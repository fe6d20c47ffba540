from contracts.runtime.migrations import run_env
from identity.store import metadata

run_env(metadata)
