"""The exception raised for invalid user input anywhere in initsym."""


class InputError(ValueError):
    """Invalid input: an unknown name, a value out of range, a malformed file.

    The message names the offending value and the fix. The command
    line prints it without a traceback; any other exception is a bug and keeps
    its traceback.
    """
