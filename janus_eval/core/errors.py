"""The one error type the command line turns into a one-line message and exit code 2."""


class UsageError(Exception):
    """Bad input from the user: the message names the fix. The CLI prints it and exits 2."""
