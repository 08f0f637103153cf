"""Imports through the admin pages: the preview writes nothing and lists every bad row
as ``jessr import --json`` does; the commit applies exactly the previewed file, once."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from itsdangerous import URLSafeTimedSerializer

from engine import audit
from tests.imports.conftest import VALID, write_rows
from tests.web.admin_pages import counts, events, field_errors, table, text
from tests.web.conftest import make_app, sign_in
from tests.web.world import World
from web.admin.imports import SALT

LOTS = [
    {"ref": "W1", "quantity": "10", "expires": "2027-06-01"},
    {"ref": "W2", "quantity": "-3", "expires": "2027-06-01"},
    {"ref": "W3", "quantity": "5", "expires": "not a date"},
]


def _file(tmp_path: Path, kind: str, rows: list[dict[str, str]], fmt: str = "csv") -> Path:
    header = list(VALID[kind])
    full = [{**VALID[kind], **row} for row in rows]
    path = tmp_path / f"{kind}-{len(list(tmp_path.iterdir()))}.{fmt}"
    return write_rows(path, header, [[r[c] for c in header] for r in full])


def _upload(client: Any, kind: str, path: Path, org: str = "") -> Any:
    return client.post(
        "/admin/imports",
        data={"kind": kind, "org": org, "file": (io.BytesIO(path.read_bytes()), path.name)},
        content_type="multipart/form-data",
    )


def _token(html: str) -> str:
    start = html.index('id="import-commit"')
    form = html[start : html.index("</form>", start)]
    value = form.split('name="upload"', 1)[1].split('value="', 1)[1]
    return value.split('"', 1)[0]


def _state(app: Flask) -> tuple[dict[str, int], str]:
    with app.extensions["jessr.database"].factory() as s:
        return counts(s), audit.head(s).hash


def _uploads(app: Flask) -> list[Path]:
    folder = app.extensions["jessr.settings"].var_dir / "uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_import_page_has_the_form(signed_in: Any) -> None:
    page = text(signed_in("admin").get("/admin/imports"))
    assert 'id="import-form"' in page and 'enctype="multipart/form-data"' in page
    for kind in ("organizations", "sites", "inventory", "requests", "volunteers"):
        assert f'value="{kind}"' in page


def test_bad_rows_are_listed_like_the_cli_and_nothing_is_written(
    app: Flask, signed_in: Any, web_db: Any, tmp_path: Path
) -> None:
    client = signed_in("admin")
    path = _file(tmp_path, "inventory", LOTS)
    before = _state(app)
    response = _upload(client, "inventory", path)
    assert response.status_code == 422
    page = text(response)
    rows = table(page, "import-errors")
    cli = web_db.cli("import", "inventory", str(path), "--json")
    expected = json.loads(cli.out)["errors"]
    assert cli.code == 2 and len(expected) == 2
    assert rows == [
        [str(e["row"]), e["column"], e["value"] or "(empty)", e["reason"]] for e in expected
    ]
    assert rows[0][:3] == ["3", "quantity", "-3"]
    assert rows[1][:3] == ["4", "expires", "not a date"]
    assert 'id="import-commit"' not in page  # a file with errors cannot be committed
    assert _state(app) == before
    assert _uploads(app) == []  # a rejected file is not kept


def test_preview_then_commit_writes_once_with_audit_events(
    app: Flask, signed_in: Any, world: World, tmp_path: Path
) -> None:
    client = signed_in("admin")
    path = _file(tmp_path, "inventory", [{"ref": "W1", "expires": "2027-06-01"},
                                         {"ref": "W2", "expires": "2027-06-01"}])  # fmt: skip
    before = _state(app)
    preview = _upload(client, "inventory", path)
    assert preview.status_code == 200
    page = text(preview)
    assert 'data-count="new">2<' in page and 'data-count="updated">0<' in page
    assert _state(app) == before  # the preview wrote nothing
    assert len(_uploads(app)) == 1
    token = _token(page)

    committed = client.post("/admin/imports/commit", data={"upload": token})
    assert committed.status_code == 200, text(committed)
    assert "The file was imported." in text(committed)
    with app.extensions["jessr.database"].factory() as s:
        added = events(s, "lot.add")
        imports = events(s, "import.commit")
        assert sorted(json.loads(e.after)["ref"] for e in added[-2:]) == ["W1", "W2"]
        assert len(imports) == 1 and imports[0].actor == world.email("admin")
        assert json.loads(imports[0].after)["file"] == path.name
        assert json.loads(imports[0].after)["counts"] == {"new": 2, "updated": 0, "unchanged": 0}
        assert audit.verify(s).ok
    assert _uploads(app) == []  # discarded after the commit

    # The same token again: the upload is gone, nothing changes.
    after = _state(app)
    again = client.post("/admin/imports/commit", data={"upload": token})
    assert again.status_code == 409
    assert "no longer kept" in text(again)
    assert _state(app) == after

    # The same file uploaded again: everything unchanged; its commit writes nothing.
    second = _upload(client, "inventory", path)
    assert 'data-count="new">0<' in text(second) and 'data-count="unchanged">2<' in text(second)
    done = client.post("/admin/imports/commit", data={"upload": _token(text(second))})
    assert done.status_code == 200
    assert _state(app) == after


def test_tampered_or_foreign_tokens_are_refused(app: Flask, signed_in: Any, tmp_path: Path) -> None:
    client = signed_in("admin")
    path = _file(tmp_path, "inventory", [{"ref": "W1", "expires": "2027-06-01"}])
    token = _token(text(_upload(client, "inventory", path)))
    before = _state(app)
    signer = URLSafeTimedSerializer(app.secret_key, salt=SALT)
    data = signer.loads(token)
    forged = [
        (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), 400),  # bad signature
        ("", 400),
        (signer.dumps({**data, "user": data["user"] + 1000}), 400),  # another account's
        (signer.dumps({**data, "sha256": "0" * 64}), 409),  # not the previewed file
        (signer.dumps({**data, "key": "A" * 32}), 409),  # no such upload
        (signer.dumps({**data, "key": "../../secret"}), 409),  # never a path
    ]
    for value, code in forged:
        response = client.post("/admin/imports/commit", data={"upload": value})
        assert response.status_code == code, (value, response.status_code)
        assert _state(app) == before
    # The genuine token still works.
    assert client.post("/admin/imports/commit", data={"upload": token}).status_code == 200
    assert _state(app) != before


def test_a_changed_stored_file_is_not_committed(app: Flask, signed_in: Any, tmp_path: Path) -> None:
    client = signed_in("admin")
    path = _file(tmp_path, "inventory", [{"ref": "W1", "expires": "2027-06-01"}])
    token = _token(text(_upload(client, "inventory", path)))
    (stored,) = [p for d in _uploads(app) for p in d.iterdir()]
    stored.write_text(stored.read_text().replace("W1", "W9"))
    before = _state(app)
    response = client.post("/admin/imports/commit", data={"upload": token})
    assert response.status_code == 409
    assert _state(app) == before


def test_xlsx_files_preview_and_commit(app: Flask, signed_in: Any, tmp_path: Path) -> None:
    client = signed_in("admin")
    path = _file(tmp_path, "sites", [{"code": "X1"}, {"code": "X2", "lat": "95"}], fmt="xlsx")
    rejected = _upload(client, "sites", path)
    assert rejected.status_code == 422
    rows = table(text(rejected), "import-errors")
    assert [r[:3] for r in rows] == [["3", "lat", "95"]]
    good = _file(tmp_path, "sites", [{"code": "X1"}, {"code": "X2"}], fmt="xlsx")
    preview = _upload(client, "sites", good)
    assert 'data-count="new">2<' in text(preview)
    assert (
        client.post("/admin/imports/commit", data={"upload": _token(text(preview))}).status_code
        == 200
    )
    with app.extensions["jessr.database"].factory() as s:
        assert len(events(s, "site.add")) >= 2


def test_requests_import_never_shows_personal_data_in_the_archive(
    app: Flask, signed_in: Any, tmp_path: Path
) -> None:
    client = signed_in("admin")
    path = _file(tmp_path, "requests", [{"ref": "Q1", "region": "TN-11", "name": "Famille Zed"}])
    preview = _upload(client, "requests", path)
    assert preview.status_code == 200, text(preview)
    assert (
        client.post("/admin/imports/commit", data={"upload": _token(text(preview))}).status_code
        == 200
    )
    page = text(client.get("/admin/archive?action=request"))
    assert "request.add" in page
    assert "Famille Zed" not in page and "+216 71 000 000" not in page
    assert "08123456" not in page  # nor the household identifier


def test_org_column_from_the_form(app: Flask, signed_in: Any, tmp_path: Path) -> None:
    client = signed_in("admin")
    header = [c for c in VALID["inventory"] if c != "org"]
    row = {**VALID["inventory"], "ref": "N1", "expires": "2027-06-01"}
    path = write_rows(tmp_path / "no-org.csv", header, [[row[c] for c in header]])
    missing = _upload(client, "inventory", path)
    assert missing.status_code == 422
    assert table(text(missing), "import-errors")[0][:2] == ["1", "org"]
    preview = _upload(client, "inventory", path, org="utss")
    assert preview.status_code == 200 and 'data-count="new">1<' in text(preview)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("lots.txt", b"a,b\n1,2\n", "Choose a .csv or .xlsx file."),
        ("lots.csv", b"", "The file is empty."),
        ("lots.xlsx", b"not a workbook", "The file cannot be read"),
    ],
)
def test_unusable_files_are_field_errors(
    app: Flask, signed_in: Any, name: str, content: bytes, message: str
) -> None:
    client = signed_in("admin")
    before = _state(app)
    response = client.post(
        "/admin/imports",
        data={"kind": "inventory", "org": "", "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert any(message in e for e in field_errors(text(response), "file"))
    assert _state(app) == before
    assert _uploads(app) == []


def test_no_file_or_bad_kind(signed_in: Any) -> None:
    client = signed_in("admin")
    response = client.post("/admin/imports", data={"kind": "inventory"})
    assert response.status_code == 422
    assert field_errors(text(response), "file") == ["Choose a file."]
    response = client.post(
        "/admin/imports",
        data={"kind": "people", "file": (io.BytesIO(b"a\n1\n"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert field_errors(text(response), "kind") == ["Choose what the file holds."]


def test_upload_over_the_limit_is_a_clean_413(web_db: Any, world: World) -> None:
    app = make_app(web_db, MAX_CONTENT_LENGTH=2048)
    try:
        client = app.test_client()
        sign_in(client, world.email("admin"))
        response = client.post(
            "/admin/imports",
            data={"kind": "inventory", "file": (io.BytesIO(b"x" * 5000), "big.csv")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 413
        page = text(response)
        assert "The file is too large." in page and "50 MB" in page
        assert "Traceback" not in page
    finally:
        app.extensions["jessr.database"].close()


@pytest.mark.parametrize("role", ["coordinator", "staff", "volunteer"])
def test_only_admins_import(signed_in: Any, role: str, tmp_path: Path) -> None:
    client = signed_in(role)
    path = _file(tmp_path, "inventory", [{"ref": "W1"}])
    assert _upload(client, "inventory", path).status_code == 403
    assert client.post("/admin/imports/commit", data={"upload": "x"}).status_code == 403


def test_commit_needs_the_csrf_token(csrf_app: Flask, world: World) -> None:
    client = csrf_app.test_client()
    sign_in(client, world.email("admin"))
    assert client.post("/admin/imports/commit", data={"upload": "x"}).status_code == 400
    assert client.post("/admin/imports", data={"kind": "inventory"}).status_code == 400


def test_old_uploads_are_purged(tmp_path: Path) -> None:
    import os
    import time

    from engine import uploads

    old = uploads.store_upload(tmp_path, "a.csv", b"x\n")
    new = uploads.store_upload(tmp_path, "b.csv", b"y\n")
    stamp = time.time() - 2 * 86400
    os.utime(old.path.parent, (stamp, stamp))
    assert uploads.purge_uploads(tmp_path) == 1
    assert not old.path.exists() and new.path.exists()
    assert uploads.safe_name("../../etc/pass wd.CSV") == "pass_wd.csv"


def test_a_category_added_by_an_admin_can_be_imported(
    app: Flask, signed_in: Any, tmp_path: Path
) -> None:
    client = signed_in("admin")
    path = _file(tmp_path, "inventory", [{"ref": "D1", "category": "food.dates",
                                          "expires": "2027-06-01"}])  # fmt: skip
    unknown = _upload(client, "inventory", path)
    assert table(text(unknown), "import-errors")[0][:3] == ["2", "category", "food.dates"]
    assert client.post(
        "/admin/categories/new",
        data={"id": "food.dates", "name_ar": "علبة تمر", "name_fr": "Boîte de dattes",
              "name_en": "Box of dates", "unit": "box", "weight_kg": "1.5"},
    ).status_code == 302  # fmt: skip
    preview = _upload(client, "inventory", path)
    assert preview.status_code == 200 and 'data-count="new">1<' in text(preview)
