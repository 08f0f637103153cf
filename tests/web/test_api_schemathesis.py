"""Property test of the whole API against its own OpenAPI document (schemathesis).

Every operation of ``/api/v1/openapi.json`` is called with generated data — the
document's examples, data that fits the schemas and data that does not — as an
admin (who reaches every operation but a volunteer's own routes), as staff and as
a volunteer: no answer is a 5xx, every status answered is documented on the
operation with its headers, every body (successes and errors) conforms to the
documented schema, data outside the schemas is refused, and the operation refuses
a call without the token. The data comes from the same schemas that validate the
requests, so this also checks that whatever they admit is handled.

Schemathesis' pytest plugin (``schema.parametrize()``) does not run under pytest 9
(it sets ``request.node._nodeid``); its Python API is used instead: one Hypothesis
run per operation and kind of data.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from engine import accounts
from tests.web.world import World

pytestmark = pytest.mark.slow

ROLES = ("admin", "staff", "volunteer")
# Per operation and kind of data. The schema bounds every field, so a few examples
# per operation reach each validation branch; more mostly repeat them (CI time).
EXAMPLES = 12


def _token(app: Flask, email: str) -> str:
    factory = app.extensions["jessr.database"].factory
    with factory() as s:
        token = accounts.create_api_token(s, "test", email, name="fuzz")
        s.commit()
    return token


def _run(strategy: st.SearchStrategy[Any], token: str) -> None:
    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
        print_blob=True,
    )
    def call(case: Any) -> None:
        # A schema-valid body may still break a business rule (an unknown category, a
        # duplicate household): 422 is then the right answer, so "positive data is
        # accepted" does not hold for this API; every other check does.
        case.call_and_validate(
            headers={"Authorization": f"Bearer {token}"},
            excluded_checks=[positive_data_acceptance],
        )

    call()


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_conforms_to_the_document(app: Flask, world: World, role: str) -> None:
    token = _token(app, world.email(role))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # Unknown query parameters are ignored by design (``?lang=`` works everywhere), so
    # adding one does not make a request invalid; unknown body fields are refused,
    # which tests/web/test_api_requests.py checks.
    schema.config.generation.update(allow_extra_parameters=False)
    own = world.ids["own"]
    ids = {
        "request_id": own["request_id"],
        "lot_id": own["lot_id"],
        "batch_id": world.published_batch,
        "allocation_id": own["allocation_id"],
    }
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:
        strategies = [
            *operation.get_strategies_from_examples(),
            operation.as_strategy(GenerationMode.POSITIVE),
        ]
        if operation.path_parameters or operation.query or operation.body:
            strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))
        names = [p.name for p in operation.path_parameters]
        if names:  # generated ids rarely exist: the world's too, for the found answers
            known = {name: ids[name] for name in names}
            strategies.append(operation.as_strategy(path_parameters=known))
        for strategy in strategies:
            _run(strategy, token)
