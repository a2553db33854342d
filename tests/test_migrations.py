"""The migrations build the schema the models describe, on an empty database."""

from __future__ import annotations

from app import create_app
from app.extensions import db


def test_upgrade_on_an_empty_database_matches_the_models(tmp_path, database_url):
    if not database_url.startswith("sqlite"):
        url = database_url  # the session database was migrated by the same path
    else:
        url = "sqlite:///" + str(tmp_path / "empty.sqlite3")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    result = runner.invoke(args=["db", "check"])
    with app.app_context():
        db.engine.dispose()
    assert result.exit_code == 0, result.output
