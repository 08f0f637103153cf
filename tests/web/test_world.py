"""The web tests' world is what they assume it is."""

from tests.platform.conftest import TestDatabase
from tests.web.world import World, check_world


def test_world_has_both_organizations_and_batches(web_db: TestDatabase, world: World) -> None:
    check_world(web_db, world)
    assert world.ids["own"]["org"] != world.ids["other"]["org"]
