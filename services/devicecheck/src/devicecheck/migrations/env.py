from contracts.runtime.migrations import run_env
from devicecheck.store import metadata

run_env(metadata)
