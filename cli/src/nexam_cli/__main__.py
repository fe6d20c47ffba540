"""``python -m nexam_cli``, the same as ``nexam``."""

from nexam_cli import main

if __name__ == "__main__":
    main()
