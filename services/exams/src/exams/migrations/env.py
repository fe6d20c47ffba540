from contracts.runtime.migrations import run_env
from exams.store import metadata

run_env(metadata)
