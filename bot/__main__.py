"""`python -m bot` is the `pulsebot` command."""

from bot.cli import main

main()
