"""The one error type of the exchange format."""


class ScenarioError(ValueError):
    """Invalid scenario or plan input.

    The message is meant for a person: it names the record, its id and the field,
    e.g. ``requests[17] (id "R18"): quantity must be a positive integer, got -3``.
    ``jessr`` prints it and exits with status 2.
    """
