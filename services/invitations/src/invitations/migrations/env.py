from contracts.runtime.migrations import run_env
from invitations.store import metadata

run_env(metadata)
