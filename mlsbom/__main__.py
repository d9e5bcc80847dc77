"""`python -m mlsbom`."""

from mlsbom._cli import main

main()
