"""The one error type a user can cause; the CLI prints its message on one line and exits 2."""


class ActlabError(ValueError):
    """Bad input from a user: unknown name, bad parameter, missing data file, malformed spec.

    The message says what was wrong and what is allowed.
    """
