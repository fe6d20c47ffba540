"""``python -m invitations.cli``, the same as ``nexam``."""

from invitations.cli import main

if __name__ == "__main__":
    main()
