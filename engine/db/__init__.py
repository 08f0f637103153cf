"""Persistence: the declarative base, engines and sessions, Alembic migrations.

``engine.db.base`` (``Base`` and its naming convention), ``engine.db.session``
(``make_engine``, ``open_database``, ``Database.session``), ``engine.db.migrate``
(``upgrade_database``, the code's head revision). The migrations ship inside the
package (``engine/db/migrations``) so an installed wheel can upgrade a database.
"""
