"""``python -m orgplane``: the same entry point as the ``orgplane`` command."""

from orgplane.surfaces.cli import main

if __name__ == "__main__":
    main()
