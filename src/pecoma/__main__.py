"""`python -m pecoma` runs the command line."""

from pecoma.cli import main

main()
