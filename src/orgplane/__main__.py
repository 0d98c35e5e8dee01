"""``python -m orgplane``: the same command line as the ``orgplane`` script."""

from orgplane.surfaces.cli import main

if __name__ == "__main__":
    main()
