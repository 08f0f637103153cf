"""Import files (``jessr import KIND FILE``): read, validate, report.

The pure half of the import pipeline, with no database:

* :mod:`engine.imports.read` turns a ``.csv`` or ``.xlsx`` file into rows of text
  numbered as a spreadsheet shows them;
* :mod:`engine.imports.schemas` states the columns of each kind
  (``shared/spec/platform.md``, section Imports);
* :mod:`engine.imports.validate` checks every cell of every row at once and returns
  typed records (:mod:`engine.imports.records`) plus every
  :class:`~engine.imports.issues.ImportIssue`;
* :mod:`engine.imports.places` fills coordinates of rows given by address
  (:mod:`engine.geocode`);
* :mod:`engine.imports.prepare` does the three steps above in one call;
* :mod:`engine.imports.report` is the preview/report shown to the user (text and
  ``--json``).

The rules and decisions are gathered in ``docs/imports.md``.

The import service (database layer) adds what needs stored state: references to
organizations and sites, re-import detection (new / updated / unchanged), the
cross-organization household rule, the audit event, and the single commit.
"""
